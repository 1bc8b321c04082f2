import type { SluiceContext } from './context.js';

export interface RunningRelease {
  release: string;
  digest: string;
}

export interface DriftReport {
  drift: boolean;
  expected?: RunningRelease;
  running: RunningRelease;
  message?: string;
}

/**
 * Compare what the gateway says serves this request with what this process was built as.
 * A mismatch means a deployment points at the wrong build: worth a loud log line and a metric.
 */
export function checkDrift(ctx: Pick<SluiceContext, 'release' | 'digest'>, running: RunningRelease): DriftReport {
  if (!ctx.digest) return { drift: false, running };
  const expected = { release: ctx.release ?? '', digest: ctx.digest };
  if (expected.digest === running.digest) return { drift: false, expected, running };
  return {
    drift: true,
    expected,
    running,
    message: `release drift: the gateway routed ${expected.release || 'this request'} (${expected.digest}) to a process running ${running.release} (${running.digest})`,
  };
}

/** Resource attributes that make the running release visible on every span this process exports. */
export function releaseResourceAttributes(running: RunningRelease): Record<string, string> {
  const version = running.release.split('@')[1];
  return {
    'sluice.release': running.release,
    'sluice.release.digest': running.digest,
    ...(version ? { 'service.version': version } : {}),
  };
}
