/**
 * The support agent: an HTTP service whose orchestration is a tool loop over the official
 * `openai` client. It reads what the gateway says serves it, emits GenAI spans, honours window
 * constraints before an external refund, keeps session memory per release, and reports each
 * turn's outcome to the gateway.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import OpenAI from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import {
  ConstraintError,
  boundary,
  chat,
  executeTool,
  guard,
  invokeAgent,
  memoryKey,
  outcome,
  outcomeHeader,
  sluiceContext,
  withSluiceContext,
  type Outcome,
  type SluiceContext,
} from '@sluice/sdk';
import type { LoadedRelease } from './release.js';
import { issueRefund, lookupOrder } from './tools.js';

export interface AgentOptions {
  release: LoadedRelease;
  modelUrl: string;
  port?: number;
  host?: string;
}

interface SessionMemory {
  turns: number;
  lastOrderId?: string;
  outcome?: Outcome;
}

export interface TurnResult {
  reply: string;
  outcome: Outcome;
  release: string;
  tools: string[];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

export function createAgent(opts: AgentOptions) {
  const client = new OpenAI({ baseURL: opts.modelUrl, apiKey: process.env.OPENAI_API_KEY ?? 'not-needed-locally', maxRetries: 0 });
  const memory = new Map<string, SessionMemory>();
  const rel = opts.release;
  const releaseRef = `${rel.agent}@${rel.version}`;
  const tools: ChatCompletionTool[] = rel.tools.map((t) => ({ type: 'function', function: { name: t.name, parameters: t.parameters as Record<string, unknown> } }));

  async function runTool(ctx: SluiceContext, session: string, name: string, args: Record<string, unknown>): Promise<unknown> {
    const spec = rel.tools.find((t) => t.name === name);
    if (!spec) return { error: `unknown tool ${name}` };
    return executeTool(name, { session }, async () => {
      try {
        await guard(ctx, name, { risk: spec.risk, external: spec.external ?? false }, { session, timeoutMs: 2000 });
      } catch (err) {
        if (err instanceof ConstraintError) return { error: err.message };
        throw err;
      }
      if (name === 'lookup_order') return lookupOrder(String(args.order_id));
      if (name === 'issue_refund') return issueRefund(String(args.order_id), Number(args.amount_usd));
      if (name === 'escalate_to_human') return { queued: true };
      return { error: `no implementation for ${name}` };
    });
  }

  async function turn(ctx: SluiceContext, session: string, message: string): Promise<TurnResult> {
    const key = memoryKey(ctx, `session:${session}`);
    const mem = memory.get(key) ?? { turns: 0 };
    const messages: ChatCompletionMessageParam[] = [
      { role: 'system', content: rel.systemPrompt },
      { role: 'user', content: message },
    ];
    const used: string[] = [];
    const usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
    let result: Outcome = rel.flow.defaultOutcome as Outcome;
    let reply = '';
    for (let round = 0; round <= rel.flow.maxToolRounds; round++) {
      const completion = await chat(rel.model, { session, provider: 'openai' }, () =>
        client.chat.completions.create({ model: rel.model, messages, tools }),
      );
      usage.prompt_tokens += completion.usage?.prompt_tokens ?? 0;
      usage.completion_tokens += completion.usage?.completion_tokens ?? 0;
      const msg = completion.choices[0]?.message;
      if (!msg) throw new Error('the model returned no choice');
      messages.push(msg);
      const calls = (msg.tool_calls ?? []).filter((c) => c.type === 'function');
      if (calls.length === 0) {
        reply = msg.content ?? '';
        break;
      }
      for (const call of calls) {
        used.push(call.function.name);
        const out = await runTool(ctx, session, call.function.name, JSON.parse(call.function.arguments || '{}') as Record<string, unknown>);
        const mapped = rel.flow.outcomeTools[call.function.name];
        if (mapped) result = mapped as Outcome;
        messages.push({ role: 'tool', tool_call_id: call.id, content: JSON.stringify(out) });
      }
      if (round === rel.flow.maxToolRounds) result = 'failed';
    }
    usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
    memory.set(key, { turns: mem.turns + 1, lastOrderId: /(\d{3,})/.exec(message)?.[1] ?? mem.lastOrderId, outcome: result });
    outcome(session, result);
    return { reply, outcome: result, release: releaseRef, tools: used, usage };
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method === 'GET' && req.url === '/healthz') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, release: releaseRef }));
      return;
    }
    if (req.method !== 'POST' || req.url !== '/v1/chat') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `no route ${req.method} ${req.url}` }));
      return;
    }
    const body = await readJson(req);
    const message = typeof body?.message === 'string' ? body.message : undefined;
    if (!message) {
      res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'body.message: expected a string' }));
      return;
    }
    const ctx = sluiceContext(req);
    const session = String(req.headers['sluice-session'] ?? body?.session ?? 'anonymous');
    const result = await withSluiceContext(ctx, () => invokeAgent(rel.agent, { sluice: ctx, session }, () => turn(ctx, session, message)));
    outcomeHeader(res, result.outcome);
    boundary(res);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(result));
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json', 'sluice-outcome': 'failed' });
      res.end(JSON.stringify({ error: err instanceof Error ? err.message : String(err) }));
    });
  });

  return {
    server,
    memory,
    listen: () =>
      new Promise<string>((resolve) =>
        server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve(`http://${opts.host ?? '127.0.0.1'}:${(server.address() as { port: number }).port}`)),
      ),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  let body = '';
  for await (const chunk of req) body += chunk;
  try {
    return JSON.parse(body) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
