export { HEADERS, type HeaderSource } from './headers.js';
export { parseConstraints, formatConstraints, NO_CONSTRAINTS, type Constraints, type ExternalActions, type HighRisk } from './constraints.js';
export { sluiceContext, withSluiceContext, otelContextFor, parseTraceparent, parseBaggage, type SluiceContext, type Cohort } from './context.js';
export { invokeAgent, executeTool, chat, readUsage, type SpanOptions, type Usage } from './spans.js';
export { outcome, feedback, boundary, outcomeHeader, OUTCOMES, isOutcome, type Outcome, type HeaderSink } from './outcome.js';
export { memoryKey } from './memory.js';
export { checkDrift, releaseResourceAttributes, type RunningRelease, type DriftReport } from './drift.js';
export { guard, ConstraintError, ApprovalDeniedError, ApprovalTimeoutError, type ActionRisk, type GuardOptions, type GuardResult } from './guard.js';
export { HttpApprovals, MemoryApprovals, type Approvals, type ApprovalRequest, type ApprovalStatus } from './approvals.js';
