/**
 * How `guard` asks a person to approve a high-risk action during a window with
 * `high-risk=approve`. One small interface, so the transport can change without touching agents.
 */
export type ApprovalStatus = 'pending' | 'approved' | 'denied';

export interface ApprovalRequest {
  action: string;
  risk: 'low' | 'medium' | 'high';
  external: boolean;
  session?: string;
  release?: string;
  reason?: string;
}

export interface Approvals {
  request(req: ApprovalRequest): Promise<string>;
  status(id: string): Promise<ApprovalStatus>;
}

/** Asks the Sluice control API: `POST /v1/approvals`, then `GET /v1/approvals/{id}`. */
export class HttpApprovals implements Approvals {
  constructor(
    private readonly server: string,
    private readonly token: string,
    private readonly fetchImpl: typeof fetch = fetch,
  ) {}

  async request(req: ApprovalRequest): Promise<string> {
    const body = (await this.call('POST', '/v1/approvals', req)) as { id?: unknown };
    if (typeof body.id !== 'string') throw new Error('approval request: the control API answered without an id');
    return body.id;
  }

  async status(id: string): Promise<ApprovalStatus> {
    const body = (await this.call('GET', `/v1/approvals/${encodeURIComponent(id)}`)) as { status?: unknown };
    if (body.status === 'pending' || body.status === 'approved' || body.status === 'denied') return body.status;
    throw new Error(`approval ${id}: unexpected status ${JSON.stringify(body.status)}`);
  }

  private async call(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await this.fetchImpl(new URL(path, this.server), {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!res.ok) throw new Error(`${method} ${path}: the control API answered ${res.status}`);
    return res.json();
  }
}

/** In-process approvals, for tests and local development. */
export class MemoryApprovals implements Approvals {
  private readonly items = new Map<string, { req: ApprovalRequest; status: ApprovalStatus }>();
  private next = 1;

  async request(req: ApprovalRequest): Promise<string> {
    const id = `apr-${this.next++}`;
    this.items.set(id, { req, status: 'pending' });
    return id;
  }

  async status(id: string): Promise<ApprovalStatus> {
    const item = this.items.get(id);
    if (!item) throw new Error(`approval ${id} does not exist`);
    return item.status;
  }

  decide(id: string, status: 'approved' | 'denied'): void {
    const item = this.items.get(id);
    if (!item) throw new Error(`approval ${id} does not exist`);
    item.status = status;
  }

  pending(): Array<{ id: string; req: ApprovalRequest }> {
    return [...this.items].filter(([, v]) => v.status === 'pending').map(([id, v]) => ({ id, req: v.req }));
  }
}
