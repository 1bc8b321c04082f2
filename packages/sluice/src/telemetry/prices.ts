/**
 * The price table: USD per million input and output tokens, per model. Cost per session is
 * Σ tokens × price of the model that spent them. Models are matched exactly, then by the
 * longest entry that prefixes the model name, so `gpt-4o-mini-2024-07-18` costs what
 * `gpt-4o-mini` does. The defaults are list prices at the time of writing: edit them for your
 * contract (`sluice analysis prices set`, `PUT /v1/prices`).
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { invalid } from '@sluice/core';

export interface ModelPrice {
  /** USD per 1,000,000 input tokens. */
  input: number;
  /** USD per 1,000,000 output tokens. */
  output: number;
}
export type PriceTable = Record<string, ModelPrice>;

export const DEFAULT_PRICES: PriceTable = {
  'gpt-5': { input: 1.25, output: 10 },
  'gpt-5-mini': { input: 0.25, output: 2 },
  'gpt-5-nano': { input: 0.05, output: 0.4 },
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4 },
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  o3: { input: 2, output: 8 },
  'o4-mini': { input: 1.1, output: 4.4 },
  'claude-opus-4': { input: 15, output: 75 },
  'claude-sonnet-4': { input: 3, output: 15 },
  'claude-haiku-4-5': { input: 1, output: 5 },
  'claude-3-5-haiku': { input: 0.8, output: 4 },
  'gemini-2.5-pro': { input: 1.25, output: 10 },
  'gemini-2.5-flash': { input: 0.3, output: 2.5 },
};

const price = z.number({ error: 'expected a number of USD per million tokens' }).nonnegative({ error: 'a price cannot be negative' });
export const ModelPriceSchema = z.strictObject({ input: price, output: price });
export const PriceTableSchema = z.record(z.string().min(1), ModelPriceSchema);

export class PriceBook {
  private table: PriceTable;
  private keys: string[] = [];
  private readonly cache = new Map<string, ModelPrice | null>();

  constructor(table: PriceTable = DEFAULT_PRICES) {
    this.table = { ...table };
    this.reindex();
  }

  private reindex(): void {
    this.keys = Object.keys(this.table).sort((a, b) => b.length - a.length);
    this.cache.clear();
  }

  entries(): PriceTable {
    return { ...this.table };
  }

  replace(table: PriceTable): void {
    this.table = { ...table };
    this.reindex();
  }

  set(model: string, p: ModelPrice): void {
    this.table[model] = p;
    this.reindex();
  }

  remove(model: string): boolean {
    if (!Object.hasOwn(this.table, model)) return false;
    delete this.table[model];
    this.reindex();
    return true;
  }

  /** The price that applies to `model`, or undefined when no entry matches. */
  lookup(model: string): ModelPrice | undefined {
    let hit = this.cache.get(model);
    if (hit === undefined) {
      hit = this.table[model] ?? this.table[this.keys.find((k) => model.startsWith(k)) ?? ''] ?? null;
      if (this.cache.size > 1000) this.cache.clear();
      this.cache.set(model, hit);
    }
    return hit ?? undefined;
  }

  /** USD for this usage; undefined when the model has no price (reported as unpriced). */
  cost(model: string | undefined, inputTokens: number, outputTokens: number): number | undefined {
    const p = model === undefined ? undefined : this.lookup(model);
    if (!p) return undefined;
    return (inputTokens * p.input + outputTokens * p.output) / 1e6;
  }
}

/** A price table kept in a JSON file, for `sluice up` and the CLI; written atomically. */
export class PriceFile {
  constructor(readonly path: string) {}

  async load(): Promise<PriceTable> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ...DEFAULT_PRICES };
      throw err;
    }
    return parsePriceTable(JSON.parse(text), this.path);
  }

  async save(table: PriceTable): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify(table, null, 2)}\n`);
    await rename(tmp, this.path);
  }
}

export function parsePriceTable(input: unknown, where = 'prices'): PriceTable {
  const r = PriceTableSchema.safeParse(input);
  if (r.success) return r.data;
  const details = r.error.issues.map((i) => ({ where: [where, ...i.path.map(String)].join('.'), message: i.message }));
  throw invalid(`invalid price table: ${details[0]!.where}: ${details[0]!.message}`, details);
}
