/**
 * `sluice analysis show <rollout>`: why the analysis decided what it did — per metric the
 * counts, estimates, anytime-valid interval, tolerance and the rule that fired, the split check,
 * the decision-path table and the history of windows. `sluice analysis prices ...` edits the
 * price table cost per session is computed from.
 */
import { invalid } from '@sluice/core';
import { clientFor } from '../../control/client.js';
import type { AnalysisView } from '../../analysis/routes.js';
import type { DecisionPaths } from '../../telemetry/aggregate/paths.js';
import type { PriceTable } from '../../telemetry/prices.js';
import { action, intOption } from '../program.js';
import type { RegisterCommand } from './context.js';
import { resolveRollout } from './rollout.js';

const num = (x: number | null | undefined): string => {
  if (x === null || x === undefined || !Number.isFinite(x)) return '-';
  if (Math.abs(x) >= 1000 || Number.isInteger(x)) return String(Math.round(x * 100) / 100);
  return Number(x.toPrecision(4)).toString();
};
const pct = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? '-' : `${Number((x * 100).toPrecision(3))}%`);
const signed = (x: number | null | undefined, f: (v: number) => string): string => (x === null || x === undefined || !Number.isFinite(x) ? '-' : `${x > 0 ? '+' : ''}${f(x)}`);

function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

export function describeAnalysis(v: AnalysisView): string[] {
  const r = v.rollout;
  const lines = [`${r.id}  ${r.agent}: ${r.baseline ?? '(none)'} → ${r.candidate}  (${r.status}, step ${r.step + 1}, canary weight ${r.weight}%)`];
  if (!v.analysis) lines.push('  this rollout has no analysis in its plan');
  else lines.push(`  analysis every ${v.analysis.interval}, α ${v.analysis.alpha}, ${v.analysis.consecutive} consecutive passing windows, at least ${v.analysis.minSamples} per cohort, on regression: ${v.analysis.onRegression}`);
  const latest = v.latest;
  if (!latest) {
    lines.push('  no window judged yet', `  open sessions: ${v.openSessions}`);
  } else {
    const res = latest.result;
    lines.push(
      '',
      `window ${res.window.index} of step ${latest.step + 1} at ${latest.weight}%  (${res.window.start} → ${res.window.end})`,
      `  decision  ${res.decision}${latest.acted ? ' (sent to the rollout)' : ''}: ${res.reason}`,
      `  split     ${res.srm.rule}`,
      `  α per metric ${num(res.alphaPerMetric)} (α ${res.alpha} split across acting metrics)`,
      '',
    );
    const rows = [['metric', 'verdict', 'baseline', 'canary', 'difference', 'interval', 'tolerance', 'p']];
    for (const m of res.metrics) {
      const isShare = m.kind === 'proportion';
      const f = isShare ? pct : num;
      const cb = m.counts.cumulative.baseline;
      const cc = m.counts.cumulative.canary;
      const cnt = (c: typeof cb) => (isShare && c.x !== undefined ? `${c.x}/${c.n}` : `n=${c.n}`);
      // The direction in which the canary may be worse, by how much.
      const sign = m.better === 'lower' ? '+' : '−';
      const tol = 'absolute' in m.tolerance ? `${sign}${f(m.tolerance.absolute)} abs` : `${sign}${pct(m.tolerance.relative)} rel`;
      const iv = m.interval ? `[${num(m.interval.lower)}, ${num(m.interval.upper)}] ${m.interval.scale}` : '-';
      rows.push([
        `${m.name}${m.dryRun ? ' (dry run)' : ''}`,
        m.verdict,
        `${f(m.estimate.baseline)} (${cnt(cb)})`,
        `${f(m.estimate.canary)} (${cnt(cc)})`,
        signed(m.estimate.difference, (x) => f(x)),
        iv,
        tol,
        num(m.pValue),
      ]);
    }
    lines.push(...table(rows), '', 'rules');
    for (const m of res.metrics) lines.push(`  ${m.rule}`);
  }
  if (v.paths) lines.push('', ...describePaths(v.paths));
  if (v.windows.length > 1) {
    lines.push('', 'windows (newest first)');
    for (const w of v.windows) lines.push(`  #${w.seq}  step ${w.step + 1} at ${w.weight}%  window ${w.index}  ${w.verdict.padEnd(12)} ${w.decision}${w.acted ? ', sent' : ''}  — ${w.reason}`);
  }
  return lines;
}

export function describePaths(p: DecisionPaths, limit = 10): string[] {
  const lines = [`decision paths (occurrences per session; ${p.sessions.baseline} baseline and ${p.sessions.canary} canary sessions), largest differences first`];
  if (p.rows.length === 0) return [...lines, '  no tool calls yet'];
  const rows = [['', 'tool or sequence', 'baseline', 'canary', 'difference', 'tool errors']];
  for (const r of p.rows.slice(0, limit))
    rows.push([r.kind, r.key, num(r.baseline), num(r.canary), signed(r.difference, num), r.errorRate ? `${pct(r.errorRate.baseline)} → ${pct(r.errorRate.canary)}` : '']);
  return [...lines, ...table(rows).map((l) => `  ${l}`)];
}

const priceLines = (prices: PriceTable): string[] => {
  const rows = [['model', 'input $/Mtok', 'output $/Mtok']];
  for (const [model, p] of Object.entries(prices).sort(([a], [b]) => a.localeCompare(b))) rows.push([model, num(p.input), num(p.output)]);
  return table(rows);
};

function usd(name: string) {
  return (raw: string): number => {
    const n = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(n) || n < 0) throw invalid(`${name}: expected a non-negative number of USD per million tokens, got ${JSON.stringify(raw)}`, [{ where: name, message: 'not a price' }]);
    return n;
  };
}

export const registerAnalysis: RegisterCommand = (program, { io, state }) => {
  const analysis = program.command('analysis').description("see why a rollout's analysis decided what it did; edit the price table");

  analysis
    .command('show')
    .description('per metric and window: counts, estimates, interval, tolerance and the rule that fired; the decision-path table')
    .argument('<rollout>', 'rollout id (ro_…) or agent name (its active or newest rollout)')
    .option('--windows <n>', 'how many past windows to list', intOption('--windows'), 10)
    .action(
      action<[string], { windows: number }>(io, state, async ([ref], opts, globals) => {
        const client = clientFor(globals);
        const r = await resolveRollout(client, ref);
        const view = await client.get<AnalysisView>(`/v1/rollouts/${encodeURIComponent(r.id)}/analysis`, { query: { limit: Math.max(1, opts.windows) } });
        return { data: view, text: describeAnalysis(view) };
      }),
    );

  const prices = analysis.command('prices').description('the price table: USD per million input and output tokens, per model');
  prices
    .command('list', { isDefault: true })
    .description('print the price table')
    .action(
      action(io, state, async (_args, _opts, globals) => {
        const { prices: table } = await clientFor(globals).get<{ prices: PriceTable }>('/v1/prices');
        return { data: { prices: table }, text: priceLines(table) };
      }),
    );
  prices
    .command('set')
    .description('set the price of a model (matched exactly, then as the longest prefix of a model name)')
    .argument('<model>', 'model name or prefix, e.g. gpt-4o-mini')
    .requiredOption('--input <usd>', 'USD per million input tokens', usd('--input'))
    .requiredOption('--output <usd>', 'USD per million output tokens', usd('--output'))
    .action(
      action<[string], { input: number; output: number }>(io, state, async ([model], opts, globals) => {
        const out = await clientFor(globals).request<{ prices: PriceTable }>('PUT', `/v1/prices/${encodeURIComponent(model)}`, { body: { input: opts.input, output: opts.output } });
        return { data: out, text: `${model}: $${num(opts.input)} input, $${num(opts.output)} output per million tokens` };
      }),
    );
  prices
    .command('remove')
    .description('remove a model from the price table (its tokens then count as unpriced)')
    .argument('<model>', 'model name as listed')
    .action(
      action<[string], Record<string, never>>(io, state, async ([model], _opts, globals) => {
        const out = await clientFor(globals).request<{ prices: PriceTable }>('DELETE', `/v1/prices/${encodeURIComponent(model)}`);
        return { data: out, text: `removed ${model}` };
      }),
    );
};
