/**
 * A small OpenAI-compatible chat-completions server whose "model" is a fixed, readable policy.
 * It follows the instructions in the system prompt it is given, the way a real model would,
 * but deterministically, so the example's behaviour (and its regression) is reproducible.
 *
 * What it understands in the system prompt: "escalate every refund request" makes it escalate
 * refunds instead of resolving them. Everything else is the same for both releases.
 */
import { createServer, type Server } from 'node:http';

interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}
interface Message {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string | null;
  tool_calls?: ToolCall[];
  tool_call_id?: string;
}
interface ChatRequest {
  model: string;
  messages: Message[];
  tools?: Array<{ type: 'function'; function: { name: string } }>;
}

export type Intent = 'angry' | 'refund' | 'status';

export function classify(text: string): Intent {
  if (/\b(angry|unacceptable|terrible|furious|cancel my account)\b/i.test(text)) return 'angry';
  if (/\b(refund|money back)\b/i.test(text)) return 'refund';
  return 'status';
}

/** Decide the next assistant message for a conversation: a tool call or a final answer. */
export function respond(req: ChatRequest): Message {
  const system = req.messages.find((m) => m.role === 'system')?.content ?? '';
  const lastUser = req.messages.map((m, i) => ({ m, i })).filter(({ m }) => m.role === 'user').pop();
  const text = lastUser?.m.content ?? '';
  const since = req.messages.slice((lastUser?.i ?? 0) + 1);
  const results = new Map<string, unknown>();
  for (const m of since) {
    if (m.role !== 'tool') continue;
    const call = since.flatMap((x) => x.tool_calls ?? []).find((c) => c.id === m.tool_call_id);
    if (call) results.set(call.function.name, safeJson(m.content));
  }
  const has = (name: string) => (req.tools ?? []).some((t) => t.function.name === name);
  const orderId = /#?(\d{3,})/.exec(text)?.[1] ?? '1000';
  const call = (name: string, args: unknown): Message => ({
    role: 'assistant',
    content: null,
    tool_calls: [{ id: `call_${name}_${since.length}`, type: 'function', function: { name, arguments: JSON.stringify(args) } }],
  });
  const say = (content: string): Message => ({ role: 'assistant', content });
  const escalate = (reason: string) =>
    results.has('escalate_to_human') ? say('I have passed your case to a colleague, who will reply shortly.') : call('escalate_to_human', { reason });

  const intent = classify(text);
  if (intent === 'angry' && has('escalate_to_human')) return escalate('customer is upset');

  if (!results.has('lookup_order') && has('lookup_order')) return call('lookup_order', { order_id: orderId });
  const order = results.get('lookup_order') as { total_usd?: number; status?: string } | undefined;

  if (intent === 'refund') {
    if (/escalate every refund/i.test(system) && has('escalate_to_human')) return escalate('refund request');
    const refund = results.get('issue_refund') as { refunded_usd?: number; error?: string } | undefined;
    if (refund?.error) return escalate(`refund could not be issued: ${refund.error}`);
    if (refund) return say(`Done: I refunded $${refund.refunded_usd} for order #${orderId}.`);
    if ((order?.total_usd ?? Infinity) < 200 && has('issue_refund')) return call('issue_refund', { order_id: orderId, amount_usd: order?.total_usd });
    return escalate('refund above the approval threshold');
  }
  return say(`Your order #${orderId} is ${order?.status ?? 'unknown'}.`);
}

function safeJson(s: string | null): unknown {
  try {
    return JSON.parse(s ?? 'null');
  } catch {
    return s;
  }
}

const words = (s: string | null | undefined) => (s ? s.split(/\s+/).filter(Boolean).length : 0);

export function startModelServer(port = 0, host = '127.0.0.1'): Promise<{ server: Server; url: string }> {
  let seq = 0;
  const server = createServer((req, res) => {
    if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
      return;
    }
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      let parsed: ChatRequest;
      try {
        parsed = JSON.parse(body) as ChatRequest;
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'request body is not JSON' } }));
        return;
      }
      const message = respond(parsed);
      const promptTokens = parsed.messages.reduce((n, m) => n + words(m.content) + 4, 0);
      const completionTokens = words(message.content) + (message.tool_calls ? 12 : 0);
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: `chatcmpl-${++seq}`,
          object: 'chat.completion',
          created: 0,
          model: parsed.model,
          choices: [{ index: 0, message, finish_reason: message.tool_calls ? 'tool_calls' : 'stop' }],
          usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
        }),
      );
    });
  });
  return new Promise((resolve) =>
    server.listen(port, host, () => {
      const a = server.address() as { port: number };
      resolve({ server, url: `http://${host}:${a.port}/v1` });
    }),
  );
}
