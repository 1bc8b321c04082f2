import { trace } from '@opentelemetry/api';
import { HEADERS } from './headers.js';

/** How a session ended: the vocabulary of `sluice.outcome` and the `sluice-outcome` header. */
export const OUTCOMES = ['resolved', 'escalated', 'failed', 'abandoned'] as const;
export type Outcome = (typeof OUTCOMES)[number];
export const isOutcome = (v: unknown): v is Outcome => typeof v === 'string' && (OUTCOMES as readonly string[]).includes(v);

/** Record how a session ended, on the active span (attribute and event) for telemetry. */
export function outcome(session: string, value: Outcome): void {
  if (!isOutcome(value)) throw new TypeError(`outcome must be one of ${OUTCOMES.join(', ')}, got ${JSON.stringify(value)}`);
  const span = trace.getActiveSpan();
  if (!span) return;
  span.setAttribute('gen_ai.conversation.id', session);
  span.setAttribute('sluice.outcome', value);
  span.addEvent('sluice.outcome', { 'gen_ai.conversation.id': session, 'sluice.outcome': value });
}

/** Record a user feedback score (any scale the rollout's metric declares, e.g. 1..5). */
export function feedback(score: number, session?: string): void {
  if (!Number.isFinite(score)) throw new TypeError(`feedback score must be a finite number, got ${score}`);
  const span = trace.getActiveSpan();
  if (!span) return;
  if (session) span.setAttribute('gen_ai.conversation.id', session);
  span.setAttribute('sluice.feedback.score', score);
  span.addEvent('sluice.feedback', { 'sluice.feedback.score': score, ...(session ? { 'gen_ai.conversation.id': session } : {}) });
}

/** Anything with `setHeader`: node:http's ServerResponse, Express, Fastify's raw reply. */
export interface HeaderSink {
  setHeader(name: string, value: string): unknown;
}

/** Tell the gateway this session may migrate to a new release now (blue-green at safe boundaries). */
export function boundary(res: HeaderSink): void {
  res.setHeader(HEADERS.boundary, 'safe');
}

/** The quick outcome header the gateway records per request, beside the span attribute. */
export function outcomeHeader(res: HeaderSink, value: Outcome): void {
  res.setHeader(HEADERS.outcome, value);
}
