/**
 * `sluice-constraints`: the maintenance-window constraints in force, as comma-separated
 * `key=value` pairs, e.g. `external-actions=off, high-risk=approve`.
 */
export type ExternalActions = 'on' | 'off';
export type HighRisk = 'allow' | 'approve' | 'deny';

export interface Constraints {
  externalActions: ExternalActions;
  highRisk: HighRisk;
  /** Every pair as sent, including keys this SDK does not know yet. */
  raw: Record<string, string>;
}

export const NO_CONSTRAINTS: Constraints = Object.freeze({ externalActions: 'on', highRisk: 'allow', raw: {} }) as Constraints;

/**
 * Parse the header. Unknown keys are kept in `raw`; a known key with an unknown value falls
 * back to the safer setting, so a newer gateway can never loosen an older agent's behaviour.
 */
export function parseConstraints(header: string | undefined): Constraints {
  if (!header || header.trim() === '') return { ...NO_CONSTRAINTS, raw: {} };
  const raw: Record<string, string> = {};
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const key = part.slice(0, eq).trim().toLowerCase();
    const value = part.slice(eq + 1).trim().toLowerCase();
    if (key) raw[key] = value;
  }
  const ext = raw['external-actions'];
  const risk = raw['high-risk'];
  return {
    externalActions: ext === undefined || ext === 'on' ? 'on' : 'off',
    highRisk: risk === undefined || risk === 'allow' ? 'allow' : risk === 'approve' ? 'approve' : 'deny',
    raw,
  };
}

export function formatConstraints(c: Pick<Constraints, 'externalActions' | 'highRisk'>): string {
  return `external-actions=${c.externalActions}, high-risk=${c.highRisk}`;
}
