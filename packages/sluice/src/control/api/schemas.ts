/**
 * Request and response schemas of the control API. The same objects validate requests and
 * generate `/v1/openapi.json`, so the document cannot drift from what the server accepts.
 */
import { z } from '@hono/zod-openapi';
import { RELEASE_MEDIA_TYPE } from '@sluice/core';
import { ROLES } from '../auth/roles.js';

const DIGEST = /^sha256:[a-f0-9]{64}$/;

export const ErrorSchema = z
  .object({
    error: z.object({
      kind: z.enum(['failed', 'invalid', 'not-found', 'forbidden', 'unauthenticated', 'conflict']),
      message: z.string(),
      details: z.array(z.object({ where: z.string().optional(), message: z.string() })),
    }),
  })
  .openapi('Error');

export const ComponentSchema = z
  .looseObject({
    kind: z.string(),
    name: z.string(),
    mediaType: z.string(),
    digest: z.string().regex(DIGEST, { error: 'expected sha256:<64 hex digits>' }),
    size: z.number().int().nonnegative(),
  })
  .openapi('Component');

export const ManifestSchema = z
  .looseObject({
    mediaType: z.literal(RELEASE_MEDIA_TYPE),
    schemaVersion: z.literal(1),
    agent: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, { error: 'agent must be a lowercase name like support-agent' }),
    version: z.string().min(1).regex(/^[^\s@]+$/, { error: 'version must not contain spaces or @' }),
    components: z.array(ComponentSchema),
  })
  .openapi('ReleaseManifest');

export const EnvelopeSchema = z
  .looseObject({
    payloadType: z.string(),
    payload: z.string(),
    signatures: z.array(z.looseObject({ keyid: z.string().optional(), sig: z.string() })),
  })
  .openapi('DsseEnvelope');

export const RegisterReleaseSchema = z
  .object({
    manifest: ManifestSchema,
    envelopes: z.array(EnvelopeSchema).default([]),
    /** Optional: the digest the client computed; the server recomputes it and refuses a mismatch. */
    digest: z.string().regex(DIGEST, { error: 'expected sha256:<64 hex digits>' }).optional(),
  })
  .openapi('RegisterRelease');

export const VerificationSchema = z.object({ ok: z.boolean(), keyid: z.string().optional(), reason: z.string().optional() });

export const ReleaseSchema = z
  .object({
    digest: z.string(),
    agent: z.string(),
    version: z.string(),
    ref: z.string(),
    manifest: ManifestSchema,
    envelopes: z.array(z.unknown()),
    verification: VerificationSchema,
    registeredAt: z.string(),
    registeredBy: z.string(),
  })
  .openapi('Release');

export const RouteMatchSchema = z
  .strictObject({
    host: z.string().min(1).optional(),
    pathPrefix: z.string().startsWith('/', { error: 'a path prefix starts with /' }).optional(),
    header: z.strictObject({ name: z.string().min(1), value: z.string() }).optional(),
  })
  .openapi('RouteMatch');

export const AddDeploymentSchema = z
  .object({
    release: z.string().min(1),
    upstreams: z.array(z.string().min(1)).min(1, { error: 'a deployment needs at least one upstream URL' }),
    healthUrl: z.string().min(1).optional(),
    match: RouteMatchSchema.optional(),
  })
  .openapi('AddDeployment');

export const DeploymentSchema = z
  .object({
    id: z.string(),
    agent: z.string(),
    release: z.string(),
    releaseDigest: z.string(),
    upstreams: z.array(z.string()),
    healthUrl: z.string().nullable(),
    match: RouteMatchSchema,
    createdAt: z.string(),
    createdBy: z.string(),
  })
  .openapi('Deployment');

export const AgentSchema = z.object({ name: z.string(), stableDigest: z.string().nullable(), createdAt: z.string() }).openapi('Agent');

export const RoleSchema = z.enum(ROLES);

export const CreateTokenSchema = z.object({ subject: z.string().min(1).max(200), role: RoleSchema }).openapi('CreateToken');

export const TokenInfoSchema = z
  .object({
    id: z.string(),
    subject: z.string(),
    role: RoleSchema,
    createdAt: z.string(),
    createdBy: z.string(),
    revokedAt: z.string().nullable(),
  })
  .openapi('Token');

export const CreatedTokenSchema = z.object({ token: z.string(), info: TokenInfoSchema }).openapi('CreatedToken');

export const AuditRowSchema = z
  .object({
    seq: z.number(),
    at: z.string(),
    actor: z.string(),
    action: z.string(),
    target: z.string(),
    agent: z.string().nullable(),
    reason: z.string().nullable(),
    before: z.unknown(),
    after: z.unknown(),
    prevHash: z.string(),
    hash: z.string(),
  })
  .openapi('AuditEvent');

export const AuditVerdictSchema = z
  .object({
    ok: z.boolean(),
    rows: z.number(),
    head: z.object({ seq: z.number(), hash: z.string() }).nullable(),
    problems: z.array(z.object({ seq: z.number(), problem: z.string(), message: z.string() })),
  })
  .openapi('AuditVerdict');

export const ReasonSchema = z.object({ reason: z.string().max(2000).optional() }).openapi('Reason');

export const RoutingConfigSchema = z
  .object({ epoch: z.number(), generatedAt: z.string(), agents: z.array(z.looseObject({ agent: z.string() })) })
  .openapi('RoutingConfig');
