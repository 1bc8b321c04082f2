/**
 * From a span to what Sluice reads in it, following OpenTelemetry's GenAI semantic conventions
 * and Sluice's own attributes (docs/telemetry.md has the table). Attributes may sit on the span
 * or its resource; baggage entries (`sluice.release`, `sluice.cohort`) arrive as span
 * attributes once a baggage span processor (the SDK's) copies them.
 */
import type { Cohort } from '@sluice/core';
import { attr, attrNumber, attrString, type SpanView } from './otlp/span.js';
import { isOutcome, type Attribution, type Outcome } from './model.js';

export const ATTR = {
  session: 'gen_ai.conversation.id',
  operation: 'gen_ai.operation.name',
  agentName: 'gen_ai.agent.name',
  agentVersion: 'gen_ai.agent.version',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  requestModel: 'gen_ai.request.model',
  responseModel: 'gen_ai.response.model',
  toolName: 'gen_ai.tool.name',
  errorType: 'error.type',
  release: 'sluice.release',
  digest: 'sluice.release.digest',
  cohort: 'sluice.cohort',
  rollout: 'sluice.rollout',
  outcome: 'sluice.outcome',
  feedback: 'sluice.feedback.score',
} as const;

const COHORTS: readonly string[] = ['baseline', 'canary', 'shadow'];

export interface SpanFacts {
  session?: string;
  attribution: Attribution;
  /** Token usage from inference spans (not `invoke_agent`, which repeats its children's totals). */
  inputTokens: number;
  outputTokens: number;
  model?: string;
  tool?: { name: string; error: boolean; atMs: number };
  outcome?: Outcome;
  feedback?: number;
  atMs: number;
}

export function spanFacts(span: SpanView): SpanFacts {
  const operation = attrString(span, ATTR.operation);
  const cohort = attrString(span, ATTR.cohort);
  const attribution: Attribution = {};
  const rollout = attrString(span, ATTR.rollout);
  const release = attrString(span, ATTR.release);
  const digest = attrString(span, ATTR.digest);
  const agent = attrString(span, ATTR.agentName);
  const agentVersion = attrString(span, ATTR.agentVersion);
  if (rollout) attribution.rollout = rollout;
  if (release) attribution.release = release;
  if (digest) attribution.digest = digest;
  if (cohort && COHORTS.includes(cohort)) attribution.cohort = cohort as Cohort;
  if (agent) attribution.agent = agent;
  if (agentVersion) attribution.agentVersion = agentVersion;

  const facts: SpanFacts = { attribution, inputTokens: 0, outputTokens: 0, atMs: span.startMs + span.durationMs };
  const session = attrString(span, ATTR.session);
  if (session) facts.session = session;

  if (operation !== 'invoke_agent' && operation !== 'create_agent') {
    facts.inputTokens = nonNegative(attrNumber(span, ATTR.inputTokens));
    facts.outputTokens = nonNegative(attrNumber(span, ATTR.outputTokens));
    if (facts.inputTokens + facts.outputTokens > 0) {
      const model = attrString(span, ATTR.requestModel) ?? attrString(span, ATTR.responseModel);
      if (model) facts.model = model;
    }
  }

  if (operation === 'execute_tool' || span.name === 'execute_tool' || span.name.startsWith('execute_tool ')) {
    const name = attrString(span, ATTR.toolName) ?? (span.name.startsWith('execute_tool ') ? span.name.slice(13) : 'unknown');
    facts.tool = { name, error: span.error || attr(span, ATTR.errorType) !== undefined, atMs: span.startMs };
  }

  const outcome = attrString(span, ATTR.outcome);
  if (isOutcome(outcome)) facts.outcome = outcome;
  const feedback = attrNumber(span, ATTR.feedback);
  if (feedback !== undefined) facts.feedback = feedback;
  return facts;
}

const nonNegative = (v: number | undefined): number => (v !== undefined && v > 0 ? v : 0);
