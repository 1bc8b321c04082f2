/**
 * The shape of a release manifest read back from bytes someone else may have written (a store,
 * a registry, an API request): checked before anything trusts it, so a malformed manifest gets
 * a message naming the field instead of a TypeError later.
 */
import { z } from 'zod';
import { failed, type ErrorDetail } from '../errors/errors.js';
import { COMPONENT_KINDS, RELEASE_MEDIA_TYPE, type ReleaseManifest } from './manifest.js';
import { AGENT_NAME_RE, fieldPath, SEMVER_RE } from './source.js';

const digest = z.string().regex(/^sha256:[a-f0-9]{64}$/, 'expected sha256:<64 hex digits>');

// Loose objects: fields a newer Sluice adds are kept, so the manifest still hashes to its digest.
export const componentSchema = z.looseObject({
  kind: z.enum(COMPONENT_KINDS),
  name: z.string().min(1),
  mediaType: z.string().min(1),
  digest,
  size: z.number().int().min(0),
  source: z.string().optional(),
  value: z.json().optional(),
  risk: z.enum(['low', 'medium', 'high']).optional(),
  external: z.boolean().optional(),
  tags: z.array(z.string()).optional(),
});

export const releaseManifestSchema = z.looseObject({
  mediaType: z.literal(RELEASE_MEDIA_TYPE),
  schemaVersion: z.literal(1),
  agent: z.string().regex(AGENT_NAME_RE, 'expected an agent name'),
  version: z.string().regex(SEMVER_RE, 'expected a semver version'),
  components: z.array(componentSchema),
});

/** Check a parsed manifest's shape; throws SluiceError 'failed' naming `what` and each bad field. */
export function parseReleaseManifest(value: unknown, what = 'release manifest'): ReleaseManifest {
  const r = releaseManifestSchema.safeParse(value);
  if (r.success) return r.data as ReleaseManifest;
  const details: ErrorDetail[] = r.error.issues.map((i) => ({ where: `${what}: ${fieldPath(i.path) || '(root)'}`, message: i.message }));
  throw failed(`malformed manifest: ${details[0]!.where}: ${details[0]!.message}`, details);
}
