/** One session's running totals while it is open; folded into its cohort's window when it closes. */
import type { Cohort } from '@sluice/core';
import type { Outcome } from '../model.js';

export interface ToolCall {
  name: string;
  error: boolean;
  atMs: number;
}

export interface CustomValue {
  /** Sum of the numeric values seen (mean metrics). */
  sum: number;
  /** Any value was truthy (proportion metrics). */
  any: boolean;
  /** Every value (quantile metrics), capped. */
  values: number[];
}

export const MAX_TOOL_CALLS = 256;
export const MAX_CUSTOM_VALUES = 256;

export class SessionRecord {
  spanInputTokens = 0;
  spanOutputTokens = 0;
  spanCost = 0;
  gatewayInputTokens = 0;
  gatewayOutputTokens = 0;
  gatewayCost = 0;
  unpricedTokens = 0;
  readonly tools: ToolCall[] = [];
  droppedToolCalls = 0;
  outcome: Outcome | undefined;
  outcomeAtMs = -Infinity;
  feedback: number | undefined;
  feedbackAtMs = -Infinity;
  readonly custom = new Map<string, CustomValue>();

  constructor(
    readonly id: string,
    readonly cohort: Cohort,
    /** Local clock (ms) of the last data seen: what idle timeouts measure. */
    public lastSeen: number,
  ) {}

  addTool(call: ToolCall): void {
    if (this.tools.length < MAX_TOOL_CALLS) this.tools.push(call);
    else this.droppedToolCalls++;
  }

  setOutcome(outcome: Outcome, atMs: number): void {
    // The latest report wins: an escalation after an early `resolved` is what the user saw last.
    if (atMs >= this.outcomeAtMs) {
      this.outcome = outcome;
      this.outcomeAtMs = atMs;
    }
  }

  setFeedback(score: number, atMs: number): void {
    if (atMs >= this.feedbackAtMs) {
      this.feedback = score;
      this.feedbackAtMs = atMs;
    }
  }

  addCustom(metric: string, value: number | boolean): void {
    let c = this.custom.get(metric);
    if (!c) this.custom.set(metric, (c = { sum: 0, any: false, values: [] }));
    const n = typeof value === 'boolean' ? (value ? 1 : 0) : value;
    c.sum += n;
    if (n > 0) c.any = true;
    if (c.values.length < MAX_CUSTOM_VALUES) c.values.push(n);
  }

  /** Spans are the better source of usage; the gateway's reading counts only when no span had any. */
  get tokens(): number {
    const spans = this.spanInputTokens + this.spanOutputTokens;
    return spans > 0 ? spans : this.gatewayInputTokens + this.gatewayOutputTokens;
  }

  get cost(): number {
    return this.spanInputTokens + this.spanOutputTokens > 0 ? this.spanCost : this.gatewayCost;
  }

  /** Tool calls in the order they started (spans arrive out of order). */
  orderedTools(): ToolCall[] {
    return [...this.tools].sort((a, b) => a.atMs - b.atMs);
  }
}
