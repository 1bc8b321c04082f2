/**
 * What the demo prints: a live block redrawn about once a second on a terminal (plain lines when
 * stdout is not one), then the outcome, the changelog and where to look next.
 */
import { changelogLines } from '../control/audit/changelog.js';
import type { CohortView, DemoResult, DemoSnapshot, MetricView } from './run.js';

const pct = (x: number | null) => (x === null ? '   –  ' : `${(x * 100).toFixed(1).padStart(5)}%`);
const signed = (x: number) => `${x >= 0 ? '+' : ''}${x}`;

/** A number on the interval's scale: shares and differences of shares in points, else as is. */
function onScale(x: number | null, m: MetricView): string {
  if (x === null) return '–';
  if (m.interval?.scale === 'difference' && m.name.endsWith('_rate')) return `${signed(Number((x * 100).toFixed(1)))} pts`;
  if (m.interval?.scale === 'exceedance') return `${signed(Number((x * 100).toFixed(1)))} pts`;
  return signed(Number(x.toPrecision(3)));
}

export function metricLine(m: MetricView): string {
  const iv = m.interval;
  const where = iv ? `interval [${onScale(iv.lower, m)}, ${onScale(iv.upper, m)}], tolerance ${onScale(iv.bound, m)}` : 'no interval yet';
  const est = m.name.endsWith('_rate') ? `${pct(m.baseline).trim()} → ${pct(m.canary).trim()}` : m.baseline !== null && m.canary !== null ? `${Math.round(m.baseline)} → ${Math.round(m.canary)} ms` : '';
  return `${m.name.padEnd(16)} ${m.verdict.padEnd(12)} ${est.padEnd(15)} ${where}${m.dryRun ? '  (dry run)' : ''}  n=${m.n[0]}/${m.n[1]}`;
}

function cohortLine(name: string, c: CohortView): string {
  return `  ${name.padEnd(9)} ${c.release.padEnd(20)} ${String(c.sessions).padStart(8)} ${String(c.escalated).padStart(10)} ${pct(c.escalationRate).padStart(16)}`;
}

/** The live block (several lines). */
export function snapshotLines(s: DemoSnapshot): string[] {
  const r = s.rollout;
  return [
    `${(s.elapsedMs / 1000).toFixed(1).padStart(5)} s  rollout ${r.id}  ${r.status}  step ${Math.min(r.step + 1, r.steps)}/${r.steps}  canary weight ${r.weight}%`,
    `customers  ${s.traffic.started} sessions started, ${s.traffic.finished} answered, ${s.traffic.errors} errors`,
    `  cohort    release              sessions  escalated  escalation rate`,
    cohortLine('baseline', s.cohorts.baseline),
    cohortLine('canary', s.cohorts.canary),
    `analysis   ${s.analysis.windows} windows judged${s.analysis.decision ? `, last decision: ${s.analysis.decision}` : ''}   (n = sessions or requests counted, baseline/canary)`,
    ...(s.analysis.metrics.length ? s.analysis.metrics.map((m) => `  ${metricLine(m)}`) : ['  waiting for the first window']),
  ];
}

/** One line per refresh, for logs and pipes. */
export function snapshotPlain(s: DemoSnapshot): string {
  const c = (x: CohortView) => `${x.sessions} sessions ${pct(x.escalationRate).trim()} escalated`;
  const ms = s.analysis.metrics.map((m) => `${m.name} ${m.verdict}${m.interval && m.interval.lower !== null && m.interval.upper !== null ? ` [${onScale(m.interval.lower, m)}, ${onScale(m.interval.upper, m)}]` : ''}`);
  return [`${(s.elapsedMs / 1000).toFixed(1)}s ${s.rollout.status} weight ${s.rollout.weight}%`, `baseline ${c(s.cohorts.baseline)}`, `canary ${c(s.cohorts.canary)}`, ...ms].join(' | ');
}


/** Everything after the run: verdict, changelog, next steps. */
export function resultLines(r: DemoResult): string[] {
  const esc = r.verdicts.find((m) => m.name === 'escalation_rate');
  const fewer = r.canarySessionsAtRollback !== null && r.canarySessionsAtRollback < r.fixedHorizonSessions;
  const head = r.caught
    ? [
        `CAUGHT: the analysis rolled support-agent@2.3.1 back ${((r.detectedAfterMs ?? 0) / 1000).toFixed(1)} s into the canary, on its own,`,
        `after ${r.canarySessionsAtRollback} canary sessions (and ${r.baselineSessionsAtRollback} baseline), looking once a second all along.`,
        `A fixed-horizon test of 8% vs 22% (α 0.05, power 0.8) must wait for ${r.fixedHorizonSessions} sessions per cohort and look once${fewer ? ': this run needed fewer.' : '.'}`,
      ]
    : ['promoted', 'aborted', 'rolled-back', 'rolling-back'].includes(r.status)
      ? [`NOT CAUGHT: the rollout ended ${r.status}${r.rolledBackBy ? ` (by ${r.rolledBackBy})` : ''}; the analysis did not roll the escalation regression back.`]
      : [`NOT CAUGHT: the rollout was still ${r.status} when the demo gave up after ${(r.elapsedMs / 1000).toFixed(0)} s (--timeout).`];
  return [
    '',
    ...head,
    ...(esc ? [`  ${esc.rule}`] : []),
    ...r.verdicts.filter((m) => m !== esc).map((m) => `  ${m.rule}${m.dryRun ? ' (dry run)' : ''}`),
    `  customers were served ${r.served.baseline.sessions} sessions by 2.3.0 (${pct(r.served.baseline.escalationRate).trim()} escalated) and ${r.served.canary.sessions} by 2.3.1 (${pct(r.served.canary.escalationRate).trim()} escalated)`,
    '',
    'changelog (what `sluice log` shows):',
    ...changelogLines(r.changelog).map((l) => `  ${l}`),
    '',
    'where to look next:',
    '  docs/demo.md        what ran, the plan, and how to read this output',
    '  docs/rollouts.md    plans, steps, gates and rollback',
    '  docs/analysis.md    the metrics, the anytime-valid intervals and the verdicts',
    '  docs/sdk.md         instrument your own agent in ten lines',
    ...(r.dataDir
      ? [
          `  the demo's data is kept in ${r.dataDir}; to look around (control API on 127.0.0.1:7700):`,
          `    export SLUICE_DATA_DIR=${r.dataDir}/data`,
          `    npx sluice up &`,
          `    npx sluice rollout status ${r.rolloutId}`,
          `    npx sluice analysis show ${r.rolloutId}`,
          `    npx sluice log --agent support-agent`,
          `    npx sluice audit verify`,
        ]
      : ['  npx sluice demo --keep     keep the store, to browse it with sluice up, rollout status, analysis show, log and audit verify']),
    '  npx sluice demo --json     the same run as one JSON result',
  ];
}
