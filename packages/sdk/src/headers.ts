/**
 * Header names shared by the gateway and agents (DESIGN.md "Gateway headers"). The gateway
 * strips the request-side ones from clients, so an agent can trust what it reads here.
 */
export const HEADERS = {
  release: 'sluice-release',
  digest: 'sluice-release-digest',
  cohort: 'sluice-cohort',
  rollout: 'sluice-rollout',
  memoryNamespace: 'sluice-memory-namespace',
  constraints: 'sluice-constraints',
  boundary: 'sluice-boundary',
  outcome: 'sluice-outcome',
  traceparent: 'traceparent',
  baggage: 'baggage',
} as const;

/** Anything a Node HTTP framework hands you: a header record, a fetch `Headers`, or a request. */
export type HeaderSource =
  | Record<string, string | string[] | undefined>
  | { get(name: string): string | null }
  | { headers: Record<string, string | string[] | undefined> };

export function headerReader(source: HeaderSource): (name: string) => string | undefined {
  if (typeof (source as { get?: unknown }).get === 'function') {
    const h = source as { get(name: string): string | null };
    return (name) => h.get(name) ?? undefined;
  }
  const record =
    'headers' in source && typeof source.headers === 'object' && source.headers !== null
      ? (source.headers as Record<string, string | string[] | undefined>)
      : (source as Record<string, string | string[] | undefined>);
  const lower = new Map<string, string | string[] | undefined>();
  for (const [k, v] of Object.entries(record)) lower.set(k.toLowerCase(), v);
  return (name) => {
    const v = lower.get(name);
    return Array.isArray(v) ? v.join(', ') : v;
  };
}
