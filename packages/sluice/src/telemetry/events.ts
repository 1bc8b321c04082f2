/**
 * Business events (`POST /v1/events`): what the agent's product knows and spans do not — the
 * ticket was escalated, the user gave 4 stars, the order was refunded. Keyed by session; the
 * release or cohort is optional when the session already has one (from the gateway or spans).
 */
import { z } from 'zod';
import { invalid, type ErrorDetail } from '@sluice/core';
import { OUTCOMES, type BusinessEvent } from './model.js';

const base = {
  session: z.string({ error: 'session is required: the gen_ai.conversation.id of the session' }).min(1, { error: 'session must not be empty' }),
  name: z.string().min(1).optional(),
  at: z.iso.datetime({ offset: true, error: 'at must be an ISO 8601 time, e.g. 2026-01-31T12:00:00Z' }).optional(),
  release: z.string().min(1).optional(),
  digest: z.string().regex(/^sha256:[0-9a-f]{64}$/, { error: 'digest must be sha256:<64 hex digits>' }).optional(),
  cohort: z.enum(['baseline', 'canary', 'shadow'], { error: 'cohort is baseline, canary or shadow' }).optional(),
  rollout: z.string().min(1).optional(),
  fields: z.record(z.string(), z.union([z.number(), z.boolean()]), { error: 'fields maps names to numbers or booleans' }).optional(),
};

export const EventSchema = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ ...base, type: z.literal('outcome'), value: z.enum(OUTCOMES, { error: `value is one of ${OUTCOMES.join(', ')}` }) }),
    z.strictObject({ ...base, type: z.literal('escalation'), value: z.union([z.boolean(), z.literal(1), z.literal(0)], { error: 'value is true or false' }).default(true) }),
    z.strictObject({ ...base, type: z.literal('feedback'), value: z.number({ error: 'value is the feedback score, a number' }).finite() }),
    z.strictObject({
      ...base,
      type: z.literal('kpi'),
      name: z.string({ error: 'name is required for a kpi event' }).min(1),
      value: z.union([z.number().finite(), z.boolean()], { error: 'value is a number or a boolean' }),
    }),
  ],
  { error: 'type is one of outcome, escalation, feedback, kpi' },
);
export type EventInput = z.input<typeof EventSchema>;

/** `{events: [...]}` or a bare array, or one event. */
export const EventsBodySchema = z.union([z.strictObject({ events: z.array(z.unknown()) }), z.array(z.unknown())]);

const MAX_EVENTS = 1000;

/** Validates a request body; throws `invalid` naming each bad field (`events[2].value`). */
export function parseEvents(body: unknown): BusinessEvent[] {
  const list = Array.isArray(body) ? body : typeof body === 'object' && body !== null && 'events' in body ? (body as { events: unknown }).events : [body];
  const prefix = Array.isArray(body) ? '' : typeof body === 'object' && body !== null && 'events' in body ? 'events' : null;
  if (!Array.isArray(list)) throw invalid('events must be a list', [{ where: 'events', message: 'expected an array' }]);
  if (list.length > MAX_EVENTS) throw invalid(`at most ${MAX_EVENTS} events per request`, [{ where: 'events', message: `got ${list.length}` }]);
  const details: ErrorDetail[] = [];
  const out: BusinessEvent[] = [];
  list.forEach((raw, i) => {
    const r = EventSchema.safeParse(raw);
    const at = prefix === null ? '' : `${prefix}[${i}]`;
    if (!r.success) {
      for (const issue of r.error.issues) {
        const path = issue.path.map(String).join('.');
        details.push({ where: [at, path].filter(Boolean).join('.') || '(body)', message: issue.message });
      }
      return;
    }
    const e = r.data;
    const value = e.type === 'escalation' ? e.value !== false && e.value !== 0 : e.value;
    out.push({
      session: e.session,
      type: e.type,
      value,
      ...(e.name ? { name: e.name } : {}),
      ...(e.at ? { at: e.at } : {}),
      ...(e.fields ? { fields: e.fields } : {}),
      attribution: {
        ...(e.release ? { release: e.release } : {}),
        ...(e.digest ? { digest: e.digest } : {}),
        ...(e.cohort ? { cohort: e.cohort } : {}),
        ...(e.rollout ? { rollout: e.rollout } : {}),
      },
    });
  });
  if (details.length > 0) throw invalid(`invalid event: ${details[0]!.where}: ${details[0]!.message}${details.length > 1 ? ` (and ${details.length - 1} more)` : ''}`, details);
  return out;
}
