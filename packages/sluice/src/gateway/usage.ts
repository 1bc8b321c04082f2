/**
 * OpenAI-style token usage from a response body, read after the bytes went to the client (the
 * sniffer only keeps copies, it never holds a chunk back). JSON bodies are kept up to a cap;
 * for SSE only the tail is kept, since the usage rides on the final chunk.
 */
export interface TokenUsage {
  inputTokens?: number;
  outputTokens?: number;
  totalTokens?: number;
}

const JSON_CAP = 256 * 1024;
const SSE_TAIL = 16 * 1024;
const USAGE = Buffer.from('"usage"');

export class UsageSniffer {
  private chunks: Buffer[] = [];
  private size = 0;
  private overflow = false;

  private constructor(private readonly sse: boolean) {}

  /** A sniffer for this content type, or undefined when the body cannot carry usage. */
  static for(contentType: string | undefined): UsageSniffer | undefined {
    if (contentType === undefined) return undefined;
    if (contentType.includes('json')) return new UsageSniffer(false);
    if (contentType.includes('event-stream')) return new UsageSniffer(true);
    return undefined;
  }

  push(chunk: Buffer): void {
    if (this.overflow) return;
    this.chunks.push(chunk);
    this.size += chunk.length;
    if (this.sse) {
      while (this.size - (this.chunks[0] as Buffer).length >= SSE_TAIL && this.chunks.length > 1) this.size -= (this.chunks.shift() as Buffer).length;
    } else if (this.size > JSON_CAP) {
      this.overflow = true;
      this.chunks = [];
    }
  }

  usage(): TokenUsage | undefined {
    if (this.overflow || this.size === 0) return undefined;
    const body = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.size);
    if (body.indexOf(USAGE) < 0) return undefined;
    if (!this.sse) return fromJson(body.toString('utf8'));
    // The last `data:` line that mentions usage.
    const text = body.toString('utf8');
    const lines = text.split('\n');
    for (let i = lines.length - 1; i >= 0; i--) {
      const line = (lines[i] as string).trim();
      if (line.startsWith('data:') && line.includes('"usage"')) {
        const u = fromJson(line.slice(5).trim());
        if (u) return u;
      }
    }
    return undefined;
  }
}

function fromJson(text: string): TokenUsage | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  // Chat Completions put usage at the top; the Responses API's stream nests it in `response`.
  const holder = v as { usage?: unknown; response?: { usage?: unknown } } | null;
  const u = (holder?.usage ?? holder?.response?.usage) as Record<string, unknown> | null | undefined;
  if (u === null || typeof u !== 'object') return undefined;
  const num = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);
  const out: TokenUsage = {};
  const input = num(u.prompt_tokens) ?? num(u.input_tokens);
  const output = num(u.completion_tokens) ?? num(u.output_tokens);
  const total = num(u.total_tokens) ?? (input !== undefined && output !== undefined ? input + output : undefined);
  if (input !== undefined) out.inputTokens = input;
  if (output !== undefined) out.outputTokens = output;
  if (total !== undefined) out.totalTokens = total;
  return Object.keys(out).length > 0 ? out : undefined;
}
