import type { Constraints } from './constraints.js';
import type { SluiceContext } from './context.js';
import type { Approvals } from './approvals.js';

export interface ActionRisk {
  risk: 'low' | 'medium' | 'high';
  external: boolean;
}

export interface GuardOptions {
  approvals?: Approvals;
  session?: string;
  reason?: string;
  /** How long to wait for a person, in ms (default 5 minutes). */
  timeoutMs?: number;
  /** First poll interval in ms; doubles up to 5 s (default 250). */
  pollMs?: number;
  signal?: AbortSignal;
}

/** The window in force forbids this action. `constraint` names which one. */
export class ConstraintError extends Error {
  override readonly name = 'ConstraintError';
  constructor(readonly action: string, readonly constraint: string) {
    super(`${action} refused: ${constraint} is in force`);
  }
}
export class ApprovalDeniedError extends Error {
  override readonly name = 'ApprovalDeniedError';
  constructor(readonly action: string, readonly approvalId: string) {
    super(`${action} refused: approval ${approvalId} was denied`);
  }
}
export class ApprovalTimeoutError extends Error {
  override readonly name = 'ApprovalTimeoutError';
  constructor(readonly action: string, readonly approvalId: string, readonly waitedMs: number) {
    super(`${action} not approved within ${waitedMs} ms (approval ${approvalId} still pending)`);
  }
}

export type GuardResult = { allowed: true; approvalId?: string };

/**
 * Decide whether an action may run under the constraints the gateway sent. Resolves when it may;
 * throws ConstraintError, ApprovalDeniedError or ApprovalTimeoutError when it may not.
 */
export async function guard(ctx: Pick<SluiceContext, 'constraints' | 'release'>, action: string, risk: ActionRisk, opts: GuardOptions = {}): Promise<GuardResult> {
  const c: Constraints = ctx.constraints;
  if (risk.external && c.externalActions === 'off') throw new ConstraintError(action, 'external-actions=off');
  if (risk.risk !== 'high' || c.highRisk === 'allow') return { allowed: true };
  if (c.highRisk === 'deny') throw new ConstraintError(action, 'high-risk=deny');
  if (!opts.approvals) throw new ConstraintError(action, 'high-risk=approve (no approvals client configured)');
  return waitForApproval(opts.approvals, action, risk, ctx.release, opts);
}

async function waitForApproval(approvals: Approvals, action: string, risk: ActionRisk, release: string | undefined, opts: GuardOptions): Promise<GuardResult> {
  const timeoutMs = opts.timeoutMs ?? 300_000;
  const started = Date.now();
  const id = await approvals.request({ action, ...risk, session: opts.session, release, reason: opts.reason });
  let delay = opts.pollMs ?? 250;
  for (;;) {
    const status = await approvals.status(id);
    if (status === 'approved') return { allowed: true, approvalId: id };
    if (status === 'denied') throw new ApprovalDeniedError(action, id);
    const left = timeoutMs - (Date.now() - started);
    if (left <= 0) throw new ApprovalTimeoutError(action, id, Date.now() - started);
    await sleep(Math.min(delay, left), opts.signal);
    delay = Math.min(delay * 2, 5000);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(signal.reason);
    }, { once: true });
  });
}
