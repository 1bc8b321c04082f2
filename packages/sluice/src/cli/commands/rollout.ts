import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { isTerminal, notFound, parsePlan, reduce, replay, type RolloutEvent, type RolloutState } from '@sluice/core';
import { action, type GlobalOptions } from '../program.js';
import { printError } from '../output.js';
import { clientFor, type ControlClient } from '../../control/client.js';
import type { RolloutRecord } from '../../control/services/rollouts.js';
import type { CliContext, RegisterCommand } from './context.js';

/** A rollout by id (`ro_…`), or by agent name: that agent's active rollout, else its newest. */
export async function resolveRollout(client: ControlClient, ref: string): Promise<RolloutRecord> {
  if (ref.startsWith('ro_')) return client.get<RolloutRecord>(`/v1/rollouts/${encodeURIComponent(ref)}`);
  const { rollouts } = await client.get<{ rollouts: RolloutRecord[] }>('/v1/rollouts', { query: { agent: ref } });
  const pick = rollouts.find((r) => r.active) ?? rollouts[rollouts.length - 1];
  if (!pick) throw notFound(`no rollout ${ref}: not a rollout id, and no rollout of an agent named ${ref}`, [{ where: 'rollout', message: 'unknown' }]);
  return pick;
}

export function describeRollout(r: { id: string; state: RolloutState }): string[] {
  const s = r.state;
  const steps = s.plan.steps.length;
  const lines = [
    `${r.id}  ${s.agent}: ${s.baseline ?? '(none)'} → ${s.candidate}`,
    `  status   ${s.status}${s.stepIndex >= 0 ? `, step ${Math.min(s.stepIndex + 1, steps)}/${steps}` : ''}, canary weight ${s.weight}% (${s.plan.strategy} by ${s.plan.unit})`,
  ];
  if (s.approval) lines.push(`  waiting  for approval by ${s.approval.role} (requested by ${s.approval.requestedBy}): sluice rollout approve ${r.id}`);
  if (s.pause) lines.push(`  paused   ${s.pause.kind}${s.pause.until ? ` until ${s.pause.until}` : ': sluice rollout resume ' + r.id}`);
  if (s.rollback) lines.push(`  rollback ${s.rollback.mode}${s.rollback.inFlight !== null ? `, ${s.rollback.inFlight} canary sessions in flight` : ''}`);
  if (s.lastReason) lines.push(`  last     ${s.lastReason}`);
  lines.push(`  updated  ${s.updatedAt}`);
  return lines;
}

export function eventLine(e: RolloutEvent, s: RolloutState): string {
  const where = s.status === 'progressing' || s.status === 'paused' || s.status === 'awaiting-approval' ? ` (weight ${s.weight}%)` : '';
  return `${e.at}  ${e.actor.padEnd(10)}  ${e.type.padEnd(18)} → ${s.status}${where}${e.reason ? `  — ${e.reason}` : ''}`;
}

type Verb = 'pause' | 'resume' | 'promote' | 'abort' | 'approve';
const VERBS: Array<{ verb: Verb; help: string }> = [
  { verb: 'pause', help: 'hold the rollout at its current weight until resumed' },
  { verb: 'resume', help: 'resume a paused rollout' },
  { verb: 'promote', help: 'skip the remaining steps: the candidate serves everything' },
  { verb: 'abort', help: 'stop the rollout: the baseline serves everything at once' },
  { verb: 'approve', help: 'approve the pending approval step (four eyes: not whoever started it)' },
];

export const registerRollout: RegisterCommand = (program, ctx) => {
  const { io, state } = ctx;
  const rollout = program.command('rollout').description('move an agent from its stable release to a candidate, step by step');

  rollout
    .command('start')
    .description('start a rollout from a plan file (one active rollout per agent)')
    .requiredOption('-f, --file <plan.yaml>', 'the rollout plan (docs/rollouts.md)')
    .option('--reason <text>', 'why, for the audit log')
    .action(
      action<[], { file: string; reason?: string }>(io, state, async (_args, opts, globals) => {
        let text: string;
        try {
          text = await readFile(opts.file, 'utf8');
        } catch (err) {
          throw notFound(`cannot read the plan ${opts.file}: ${(err as Error).message}`, [{ where: opts.file, message: 'unreadable' }]);
        }
        // Check the plan here first: errors then name the file and line, without a round trip.
        const plan = parsePlan(text, opts.file);
        const r = await clientFor(globals).command<RolloutRecord>('/v1/rollouts', { plan, ...(opts.reason ? { reason: opts.reason } : {}) });
        return { data: r, text: ['started', ...describeRollout(r)] };
      }),
    );

  rollout
    .command('status')
    .description('where a rollout stands; without an argument, every active rollout')
    .argument('[rollout]', 'rollout id, or an agent name for its active (else newest) rollout')
    .action(
      action<[string | undefined], Record<string, never>>(io, state, async ([ref], _opts, globals) => {
        const client = clientFor(globals);
        if (ref) {
          const r = await resolveRollout(client, ref);
          return { data: r, text: describeRollout(r) };
        }
        const { rollouts } = await client.get<{ rollouts: RolloutRecord[] }>('/v1/rollouts', { query: { active: 'true' } });
        return { data: rollouts, text: rollouts.length ? rollouts.flatMap(describeRollout) : 'no active rollouts' };
      }),
    );

  rollout
    .command('list')
    .description('list rollouts, newest last')
    .option('--agent <name>', 'only this agent')
    .action(
      action<[], { agent?: string }>(io, state, async (_args, opts, globals) => {
        const { rollouts } = await clientFor(globals).get<{ rollouts: RolloutRecord[] }>('/v1/rollouts', { query: { agent: opts.agent } });
        return {
          data: rollouts,
          text: rollouts.length ? rollouts.map((r) => `${r.id}  ${r.state.baseline ?? '-'} → ${r.state.candidate}  ${r.status}  ${r.updatedAt}`) : 'no rollouts',
        };
      }),
    );

  for (const { verb, help } of VERBS) {
    rollout
      .command(verb)
      .description(help)
      .argument('<rollout>', 'rollout id, or an agent name for its active rollout')
      .option('--reason <text>', 'why, for the audit log')
      .action(
        action<[string], { reason?: string }>(io, state, async ([ref], opts, globals) => {
          const client = clientFor(globals);
          const { id } = await resolveRollout(client, ref);
          const r = await client.command<RolloutRecord>(`/v1/rollouts/${id}/${verb}`, opts.reason ? { reason: opts.reason } : {});
          return { data: r, text: describeRollout(r) };
        }),
      );
  }

  rollout
    .command('rollback')
    .description('roll back: new units go to the baseline at once; canary sessions drain (or cut over with --hard)')
    .argument('<rollout>', 'rollout id, or an agent name for its active rollout')
    .option('--hard', 'cut in-flight canary sessions over too, instead of letting them drain', false)
    .option('--reason <text>', 'why, for the audit log')
    .action(
      action<[string], { hard: boolean; reason?: string }>(io, state, async ([ref], opts, globals) => {
        const client = clientFor(globals);
        const { id } = await resolveRollout(client, ref);
        const r = await client.command<RolloutRecord>(`/v1/rollouts/${id}/rollback`, { ...(opts.hard ? { mode: 'hard' } : {}), ...(opts.reason ? { reason: opts.reason } : {}) });
        return { data: r, text: describeRollout(r) };
      }),
    );

  registerWatch(rollout, ctx);
};

/**
 * `watch` streams: one line per state change as it happens (NDJSON with --json, ending with an
 * `end` record), so it prints by itself instead of returning one result.
 */
function registerWatch(rollout: Command, { io, state }: CliContext): void {
  rollout
    .command('watch')
    .description('print state changes as they happen, until the rollout ends (exit 0 promoted, 1 rolled back or aborted)')
    .argument('<rollout>', 'rollout id, or an agent name for its active rollout')
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      const globals = cmd.optsWithGlobals() as GlobalOptions;
      try {
        state.exitCode = await watch(clientFor(globals), ref, globals.json, (s) => io.stdout(s));
      } catch (err) {
        state.exitCode = printError(io, err, globals.json);
      }
    });
}

export async function watch(client: ControlClient, ref: string, json: boolean, out: (s: string) => void, pollMs = 25_000): Promise<number> {
  const { id } = await resolveRollout(client, ref);
  let seq = 0;
  let s: RolloutState | undefined;
  for (;;) {
    const { events } = await client.get<{ events: Array<{ seq: number; event: RolloutEvent }> }>(`/v1/rollouts/${id}/events`, { query: { after: seq, waitMs: pollMs } });
    for (const { seq: n, event } of events) {
      s = s === undefined ? replay([event]) : reduce(s, event);
      seq = n;
      if (json) out(`${JSON.stringify({ type: 'event', seq: n, event, status: s.status, step: s.stepIndex, weight: s.weight })}\n`);
      else out(`${eventLine(event, s)}\n`);
    }
    if (s && isTerminal(s.status)) {
      const code = s.status === 'promoted' ? 0 : 1;
      if (json) out(`${JSON.stringify({ type: 'end', rollout: id, status: s.status, exitCode: code })}\n`);
      else out(`${id} ${s.status}\n`);
      return code;
    }
  }
}
