/** The audit log read as a changelog: one entry per change, and the text `sluice log` prints. */
import type { AuditRow } from './chain.js';

export interface ChangelogEntry {
  seq: number;
  at: string;
  actor: string;
  action: string;
  target: string;
  /** The target's status after the change (rollouts), if it has one. */
  status: string | null;
  weight: number | null;
  reason: string | null;
}

export function changelogEntry(e: AuditRow): ChangelogEntry {
  const after = (e.after ?? {}) as Record<string, unknown>;
  return {
    seq: e.seq,
    at: e.at,
    actor: e.actor,
    action: e.action,
    target: e.target,
    status: typeof after.status === 'string' ? after.status : null,
    weight: typeof after.weight === 'number' ? after.weight : null,
    reason: e.reason,
  };
}

const SPLIT = new Set(['progressing', 'paused', 'awaiting-approval', 'rolling-back']);

/** Aligned columns, each as wide as its widest value in this listing. */
export function changelogLines(entries: ChangelogEntry[]): string[] {
  const width = (f: (e: ChangelogEntry) => string) => Math.max(0, ...entries.map((e) => f(e).length));
  const seqW = width((e) => `#${e.seq}`);
  const actorW = width((e) => e.actor);
  const actionW = width((e) => e.action);
  return entries.map((e) => {
    const state = e.status ? ` → ${e.status}${SPLIT.has(e.status) && e.weight !== null ? ` ${e.weight}%` : ''}` : '';
    return `${e.at}  ${`#${e.seq}`.padEnd(seqW)}  ${e.actor.padEnd(actorW)}  ${e.action.padEnd(actionW)}  ${e.target}${state}${e.reason ? `  — ${e.reason}` : ''}`;
  });
}
