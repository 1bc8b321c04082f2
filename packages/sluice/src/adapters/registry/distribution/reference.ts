/**
 * Remote references: `host[:port]/path[:tag]` or `host[:port]/path@sha256:…`, as in
 * distribution's reference grammar. The host is never implied (no Docker Hub default): a
 * release goes exactly where the reference says.
 */
import { invalid, isDigest, type Digest } from '@sluice/core';

export interface RemoteReference {
  /** `host[:port]`, e.g. `registry.example.com`, `127.0.0.1:5000`, `[::1]:5000`. */
  registry: string;
  /** The repository path, e.g. `agents/support`. */
  repository: string;
  tag?: string;
  digest?: Digest;
}

// distribution/reference: path components and tags.
const COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const HOST_RE = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*)(?::[0-9]{1,5})?$/;

const EXAMPLE = 'registry.example.com/agents/support:2.3.1';

export function isValidTag(tag: string): boolean {
  return TAG_RE.test(tag);
}

export function parseRemoteReference(input: string, where = 'reference'): RemoteReference {
  const bad = (message: string) =>
    invalid(`${where}: ${JSON.stringify(input)} is not a registry reference: ${message}`, [
      { where, message: `expected host[:port]/repository[:tag|@sha256:…], e.g. ${EXAMPLE}` },
    ]);
  let rest = input.trim();
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const d = rest.slice(at + 1);
    if (!isDigest(d)) throw bad(`${JSON.stringify(d)} is not a sha256 digest`);
    digest = d;
    rest = rest.slice(0, at);
  }
  const slash = rest.indexOf('/');
  if (slash < 0) throw bad('it has no registry host');
  const registry = rest.slice(0, slash);
  let path = rest.slice(slash + 1);
  // Like Docker: the first part is a host only if it looks like one; "agents/support" has none.
  if (!(registry.includes('.') || registry.includes(':') || registry === 'localhost')) {
    throw bad(`${JSON.stringify(registry)} is not a registry host (name one with a dot or a port, or localhost)`);
  }
  if (!HOST_RE.test(registry)) throw bad(`${JSON.stringify(registry)} is not a valid host[:port]`);
  let tag: string | undefined;
  const colon = path.lastIndexOf(':');
  if (colon >= 0) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
    if (!TAG_RE.test(tag)) throw bad(`${JSON.stringify(tag)} is not a valid tag (letters, digits, _ . -, at most 128)`);
  }
  if (path.length === 0) throw bad('the repository is empty');
  for (const part of path.split('/')) {
    if (!COMPONENT_RE.test(part)) throw bad(`repository part ${JSON.stringify(part)} must be lowercase letters and digits separated by . _ __ or -`);
  }
  const ref: RemoteReference = { registry, repository: path };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  return ref;
}

export function formatRemoteReference(ref: RemoteReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`;
}

/** Hosts where plain HTTP is acceptable without `--insecure`: traffic never leaves the machine. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.startsWith('[') ? registry.slice(1, registry.indexOf(']')) : registry.split(':')[0]!;
  return host === 'localhost' || host === '::1' || /^(?:::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/i.test(host);
}
