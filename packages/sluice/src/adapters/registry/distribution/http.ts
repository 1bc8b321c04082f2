/**
 * HTTP for the distribution backend: picks the scheme, authenticates, and turns registry
 * answers into SluiceErrors. Registry bodies here are manifests and release blobs (kilobytes to
 * a few megabytes), so responses are read whole.
 *
 * Scheme: HTTPS always first. Plain HTTP is tried only for loopback hosts or with `--insecure`,
 * which also accepts an unverified TLS certificate.
 *
 * Auth (distribution's token flow, docs/spec/auth/token.md): requests go out anonymously; on a
 * 401 the `WWW-Authenticate` challenge says what to do: `Basic` → send the credentials;
 * `Bearer realm=…,service=…` → fetch a token from the realm (with the credentials if any) for the
 * scope the request needs, and retry. Credentials are never printed, not even in errors.
 */
import { Agent, fetch, type Response } from 'undici';
import { SluiceError, invalid, failed, notFound, forbidden, type ErrorDetail } from '@sluice/core';
import { isLoopbackRegistry } from './reference.js';

export interface Credentials {
  username: string;
  password: string;
}

export const USER_ENV = 'SLUICE_REGISTRY_USER';
export const PASSWORD_ENV = 'SLUICE_REGISTRY_PASSWORD';

/** Credentials from SLUICE_REGISTRY_USER / SLUICE_REGISTRY_PASSWORD, when both are set. */
export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): Credentials | undefined {
  const username = env[USER_ENV];
  const password = env[PASSWORD_ENV];
  if (username && password !== undefined) return { username, password };
  return undefined;
}

export interface HttpOptions {
  /** Allow plain HTTP and unverified TLS for a non-loopback host. */
  insecure?: boolean;
  credentials?: Credentials;
}

export interface HttpRequest {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  /** A path under the registry (`/v2/…`) or an absolute URL (an upload Location). */
  path: string;
  /** The token scope this request needs, e.g. `repository:agents/support:pull,push`. */
  scope: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
}

export interface HttpResponse {
  status: number;
  headers: Response['headers'];
  body: Uint8Array;
  url: string;
}

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

export class RegistryHttp {
  private base: Promise<string> | undefined;
  private readonly agent: Agent;
  /** Bearer authorization per token scope. */
  private readonly authorization = new Map<string, string>();
  /** Set once the registry asked for Basic: then it goes with every request, saving a 401 each. */
  private basic: string | undefined;

  constructor(
    readonly registry: string,
    private readonly options: HttpOptions = {},
  ) {
    this.agent = new Agent({
      connect: { timeout: 10_000, rejectUnauthorized: !options.insecure },
      headersTimeout: 60_000,
      bodyTimeout: 300_000,
    });
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /** The base URL (`https://host` or `http://host`), found once by asking `GET /v2/`. */
  baseUrl(): Promise<string> {
    this.base ??= this.probe();
    return this.base;
  }

  async send(req: HttpRequest): Promise<HttpResponse> {
    const base = await this.baseUrl();
    const url = /^https?:\/\//.test(req.path) ? req.path : `${base}${req.path}`;
    let res = await this.once(url, req, this.authorization.get(req.scope) ?? this.basic);
    if (res.status === 401) {
      const challenge = parseChallenge(res.headers.get('www-authenticate'));
      const header = await this.authorize(challenge, req, url);
      if (challenge?.scheme === 'basic') this.basic = header;
      else this.authorization.set(req.scope, header);
      res = await this.once(url, req, header);
    }
    return res;
  }

  /** The SluiceError for an unexpected answer: 401 → exit 4, 403 → 4, 404 → 3, else 1. */
  error(res: HttpResponse, what: string): SluiceError {
    const where = redact(res.url);
    const codes = registryErrors(res.body);
    const reason = codes.length > 0 ? codes.join('; ') : `HTTP ${res.status}`;
    if (res.status === 401) {
      return new SluiceError('unauthenticated', `registry ${this.registry} requires authentication to ${what}`, [
        { where, message: reason },
        this.credentialsHint(),
      ]);
    }
    if (res.status === 403) return forbidden(`registry ${this.registry} does not allow you to ${what}`, [{ where, message: reason }]);
    if (res.status === 404) return notFound(`${what}: not found in ${this.registry}`, [{ where, message: reason }]);
    return failed(`registry ${this.registry} failed to ${what}: ${reason}`, [{ where, message: `HTTP ${res.status}` }]);
  }

  private credentialsHint(): ErrorDetail {
    return this.options.credentials
      ? { where: USER_ENV, message: 'the registry rejected these credentials' }
      : { where: USER_ENV, message: `no credentials given: set ${USER_ENV} and ${PASSWORD_ENV}` };
  }

  private async once(url: string, req: HttpRequest, authorization: string | undefined): Promise<HttpResponse> {
    const headers: Record<string, string> = { 'user-agent': 'sluice/0.1', ...req.headers };
    if (authorization) headers.authorization = authorization;
    let res: Response;
    try {
      res = await fetch(url, {
        method: req.method,
        headers,
        body: req.body,
        dispatcher: this.agent,
        // Blob GETs may be redirected to storage; fetch drops Authorization across origins.
        redirect: 'follow',
      });
    } catch (err) {
      throw failed(`registry ${this.registry}: ${req.method} ${redact(url)} failed: ${describeNetworkError(err)}`, [
        { where: redact(url), message: 'the registry stopped answering' },
      ]);
    }
    const body = req.method === 'HEAD' ? new Uint8Array() : new Uint8Array(await res.arrayBuffer());
    return { status: res.status, headers: res.headers, body, url: res.url || url };
  }

  private async probe(): Promise<string> {
    const plainAllowed = this.options.insecure === true || isLoopbackRegistry(this.registry);
    const schemes = plainAllowed ? ['https', 'http'] : ['https'];
    const failures: string[] = [];
    for (const scheme of schemes) {
      const base = `${scheme}://${this.registry}`;
      let res: Response;
      try {
        res = await fetch(`${base}/v2/`, { dispatcher: this.agent, headers: { 'user-agent': 'sluice/0.1' } });
        await res.arrayBuffer();
      } catch (err) {
        failures.push(`${scheme.toUpperCase()}: ${describeNetworkError(err)}`);
        continue;
      }
      // 200 is an open registry, 401 one that wants credentials: both speak the API.
      if (res.status === 200 || res.status === 401 || res.status === 403) return base;
      throw invalid(`${this.registry} does not look like an OCI registry: GET ${base}/v2/ answered HTTP ${res.status}`, [
        { where: `${base}/v2/`, message: 'a distribution-spec registry answers 200 or 401 here' },
      ]);
    }
    const details: ErrorDetail[] = failures.map((message) => ({ where: this.registry, message }));
    if (!plainAllowed) details.push({ where: '--insecure', message: 'plain HTTP is tried only for loopback hosts or with --insecure' });
    throw invalid(`unknown or unreachable registry ${this.registry}`, details);
  }

  private async authorize(challenge: Challenge | undefined, req: HttpRequest, url: string): Promise<string> {
    const creds = this.options.credentials;
    const what = `${req.method} ${redact(url)}`;
    const unauthenticated = (message: string) =>
      new SluiceError('unauthenticated', `registry ${this.registry} requires authentication (${what})`, [
        { where: this.registry, message },
        this.credentialsHint(),
      ]);
    if (challenge?.scheme === 'basic') {
      if (!creds) throw unauthenticated('the registry asks for Basic credentials');
      return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    }
    if (challenge?.scheme === 'bearer' && challenge.params.realm) {
      return `Bearer ${await this.token(challenge.params, req.scope, unauthenticated)}`;
    }
    throw unauthenticated('the registry sent no usable WWW-Authenticate challenge');
  }

  private async token(params: Record<string, string>, scope: string, unauthenticated: (m: string) => SluiceError): Promise<string> {
    const realm = new URL(params.realm!);
    if (params.service) realm.searchParams.set('service', params.service);
    realm.searchParams.set('scope', scope);
    const headers: Record<string, string> = { 'user-agent': 'sluice/0.1' };
    const creds = this.options.credentials;
    if (creds) headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    let res: Response;
    try {
      res = await fetch(realm, { headers, dispatcher: this.agent });
    } catch (err) {
      throw failed(`registry ${this.registry}: token service ${realm.origin}${realm.pathname} is unreachable: ${describeNetworkError(err)}`);
    }
    const text = await res.text();
    if (res.status === 401) throw unauthenticated(`the token service ${realm.origin}${realm.pathname} refused the request`);
    if (res.status === 403) throw forbidden(`registry ${this.registry} does not grant ${scope}`, [{ where: realm.origin + realm.pathname, message: 'HTTP 403' }]);
    if (res.status !== 200) throw failed(`registry ${this.registry}: token service answered HTTP ${res.status}`);
    let token: unknown;
    try {
      const json = JSON.parse(text) as { token?: unknown; access_token?: unknown };
      token = json.token ?? json.access_token;
    } catch {
      token = undefined;
    }
    if (typeof token !== 'string' || token.length === 0) throw failed(`registry ${this.registry}: token service gave no token`);
    return token;
  }
}

/** Parse `Bearer realm="…",service="…",scope="…"` (one challenge; the first if several). */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*([A-Za-z]+)\s*(.*)$/.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g;
  for (const p of m[2]!.matchAll(re)) params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!;
  return { scheme: m[1]!.toLowerCase(), params };
}

function registryErrors(body: Uint8Array): string[] {
  try {
    const json = JSON.parse(Buffer.from(body).toString('utf8')) as { errors?: Array<{ code?: string; message?: string }> };
    return (json.errors ?? []).map((e) => [e.code, e.message].filter(Boolean).join(': '));
  } catch {
    return [];
  }
}

/** Upload URLs carry opaque state in their query; keep messages short and free of it. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return url;
  }
}

function describeNetworkError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code && cause.message) return cause.message.includes(cause.code) ? cause.message : `${cause.code}: ${cause.message}`;
  if (cause?.message) return cause.message;
  return err instanceof Error ? err.message : String(err);
}
