/**
 * The routing table: a RoutingConfig compiled once per epoch into what the hot path reads —
 * matchers, upstream pools, and per release × cohort the exact headers to send upstream and the
 * metrics series to record into. Nothing here is computed per request.
 */
import type { AgentRoute, Cohort, RoutedRelease, RolloutRoute, RoutingConfig } from '@sluice/core';
import type { Measurements, Series } from './measurements.js';
import type { Upstream, UpstreamPools } from './upstreams.js';

/** A release serving one cohort of one route. */
export interface Target {
  agent: string;
  release: string;
  digest: string;
  cohort: Cohort;
  rolloutId: string | undefined;
  upstreams: Upstream[];
  next: number;
  /** Fixed headers for upstream, flat [name, value, …]. */
  headers: string[];
  /** Our baggage members: `sluice.release=…,sluice.cohort=…`. */
  baggage: string;
  series: Series;
}

export interface CompiledRoute {
  agent: string;
  host: string | undefined;
  pathPrefix: string | undefined;
  header: { name: string; value: string } | undefined;
  /** Body path for the unit key, split on dots. */
  unitBodyPath: string[] | undefined;
  intentBodyPath: string[] | undefined;
  ttlMs: number;
  baseline: Target;
  candidate: Target | undefined;
  /** Mirror target (strategy shadow). */
  shadow: Target | undefined;
  rollout: RolloutRoute | undefined;
  intents: Set<string> | undefined;
  /** Canary buckets: a new unit goes to the candidate iff bucket < this. */
  threshold: number;
}

export interface RoutingTable {
  epoch: number;
  routes: CompiledRoute[];
  /** Lower-case header names some route matches on (undefined when none do). */
  matchHeaders: Set<string> | undefined;
}

export function compile(config: RoutingConfig, pools: UpstreamPools, metrics: Measurements): RoutingTable {
  const routes = config.agents.map((a) => compileRoute(a, pools, metrics));
  const names = new Set(routes.flatMap((r) => (r.header ? [r.header.name] : [])));
  const origins = new Set<string>();
  for (const r of routes) for (const t of [r.baseline, r.candidate, r.shadow]) for (const u of t?.upstreams ?? []) origins.add(new URL(u.url).origin);
  pools.retain(origins);
  return { epoch: config.epoch, routes, matchHeaders: names.size > 0 ? names : undefined };
}

function compileRoute(a: AgentRoute, pools: UpstreamPools, metrics: Measurements): CompiledRoute {
  const ro = a.rollout;
  const target = (rel: RoutedRelease, cohort: Cohort): Target => {
    const headers = ['sluice-release', rel.release, 'sluice-release-digest', rel.digest, 'sluice-cohort', cohort, 'sluice-memory-namespace', rel.memoryNamespace];
    if (ro) headers.push('sluice-rollout', ro.id);
    if (a.constraints && a.constraints.length > 0) headers.push('sluice-constraints', a.constraints.join(', '));
    return {
      agent: a.agent,
      release: rel.release,
      digest: rel.digest,
      cohort,
      rolloutId: ro?.id,
      upstreams: rel.upstreams.map((u) => pools.upstream(u)),
      next: 0,
      headers,
      baggage: `sluice.release=${encodeURIComponent(rel.release)},sluice.cohort=${cohort}`,
      series: metrics.seriesFor(a.agent, rel.release, cohort),
    };
  };
  const split = (p: string | undefined) => (p ? p.split('.') : undefined);
  return {
    agent: a.agent,
    host: a.match.host?.toLowerCase(),
    pathPrefix: a.match.pathPrefix,
    header: a.match.header ? { name: a.match.header.name.toLowerCase(), value: a.match.header.value } : undefined,
    unitBodyPath: split(a.unitKey?.bodyPath),
    intentBodyPath: ro?.strategy === 'intent' ? split(ro.intentBodyPath) : undefined,
    ttlMs: a.affinityTtlSeconds * 1000,
    baseline: target(a.baseline, 'baseline'),
    candidate: ro && ro.strategy !== 'shadow' ? target(ro.candidate, 'canary') : undefined,
    shadow: ro && ro.strategy === 'shadow' ? target(ro.candidate, 'shadow') : undefined,
    rollout: ro,
    intents: ro?.intents ? new Set(ro.intents) : undefined,
    threshold: ro ? Math.round(ro.weight * 100) : 0,
  };
}

/** First route whose host, path prefix and header all match (routes are tried in config order). */
export function match(table: RoutingTable, host: string | undefined, url: string, matched: Map<string, string> | undefined): CompiledRoute | undefined {
  for (const r of table.routes) {
    if (r.host !== undefined) {
      if (host === undefined) continue;
      const colon = host.lastIndexOf(':');
      const name = colon > 0 && host.indexOf(']') < colon ? host.slice(0, colon) : host;
      if (name.toLowerCase() !== r.host) continue;
    }
    if (r.pathPrefix !== undefined && !prefixMatches(url, r.pathPrefix)) continue;
    if (r.header !== undefined && matched?.get(r.header.name) !== r.header.value) continue;
    return r;
  }
  return undefined;
}

/** Round-robin over a target's upstreams. */
export function pick(t: Target): Upstream {
  const u = t.upstreams[t.next] as Upstream;
  t.next = t.next + 1 === t.upstreams.length ? 0 : t.next + 1;
  return u;
}

/** `/v1` matches `/v1`, `/v1/…` and `/v1?…`, not `/v10`. */
function prefixMatches(url: string, prefix: string): boolean {
  if (!url.startsWith(prefix)) return false;
  if (url.length === prefix.length || prefix.endsWith('/')) return true;
  const c = url.charCodeAt(prefix.length);
  return c === 0x2f || c === 0x3f;
}
