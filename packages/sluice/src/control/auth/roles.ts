/** Roles, weakest first (core's list): each can do everything the ones before it can. */
import { ROLES, type Role } from '@sluice/core';

export { ROLES, type Role };

export const isRole = (s: unknown): s is Role => typeof s === 'string' && (ROLES as readonly string[]).includes(s);

export function roleAtLeast(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}
