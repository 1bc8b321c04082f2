/**
 * What `sluice init` writes: a small but complete support agent that builds as-is, so a new
 * user can run `sluice release build` straight away and then edit from something real.
 */
const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
const SCHEMA = 'https://json-schema.org/draft/2020-12/schema';

export function initTemplate(agent = 'support-agent'): Record<string, string> {
  return {
    'agent.yaml': `# Release source for ${agent}. \`sluice release build\` turns this folder into one
# immutable, content-addressed release; every file referenced here is hashed on its own.
agent: ${agent}
version: 0.1.0

model:
  provider: openai
  name: gpt-5-mini
  params: {temperature: 0.2}

prompts:
  system: prompts/system.md
  triage: prompts/triage.md

tools:
  - {name: lookup_order, schema: tools/lookup_order.json, risk: low}
  - {name: issue_refund, schema: tools/issue_refund.json, risk: high, external: true, tags: [money]}

memory:
  schema: memory/session.schema.json

# Either a folder hashed as a tree, or an image pinned by digest:
#   orchestration: {image: "ghcr.io/acme/support@sha256:<64 hex>"}
orchestration:
  path: ./src

runtime: {timeoutMs: 30000, retries: 2, concurrency: 16, queue: {max: 500}}

policies:
  escalation: {confidenceBelow: 0.4}
  approvals: {refundAboveUsd: 200}

integrations:
  - {name: zendesk, scopes: [tickets.read, tickets.write]}

# Names only: values live in your secret store and are injected at run time.
secrets: [OPENAI_API_KEY, ZENDESK_TOKEN]

# Read at preflight, before a rollout starts.
notes:
  summary: "first release"
`,
    'prompts/system.md': `You are the support agent for Acme. Be brief, friendly and exact.

- Look orders up before answering questions about them.
- Refunds move money: confirm the order, the amount and the currency with the customer first.
- If you are not confident, hand the conversation to a person.
`,
    'prompts/triage.md': `Classify the customer's message as one of: order_status, refund, account, other.
Answer with the class only.
`,
    'tools/lookup_order.json': json({
      $schema: SCHEMA,
      title: 'lookup_order',
      description: 'Fetch an order by its id.',
      type: 'object',
      properties: { orderId: { type: 'string', pattern: '^[A-Z0-9-]{6,32}$' } },
      required: ['orderId'],
      additionalProperties: false,
    }),
    'tools/issue_refund.json': json({
      $schema: SCHEMA,
      title: 'issue_refund',
      description: 'Refund part or all of an order to the original payment method.',
      type: 'object',
      properties: {
        orderId: { type: 'string' },
        amount: { type: 'number', exclusiveMinimum: 0 },
        currency: { type: 'string', pattern: '^[A-Z]{3}$' },
        reason: { type: 'string', maxLength: 500 },
      },
      required: ['orderId', 'amount', 'currency'],
      additionalProperties: false,
    }),
    'memory/session.schema.json': json({
      $schema: SCHEMA,
      title: 'session memory',
      type: 'object',
      properties: {
        customerId: { type: 'string' },
        openOrderIds: { type: 'array', items: { type: 'string' } },
        sentiment: { enum: ['positive', 'neutral', 'negative'] },
      },
      required: ['customerId'],
    }),
    'src/agent.ts': `// The orchestration code of ${agent}. The whole src/ folder is hashed into the release as one tree.
export async function handle(message: string): Promise<string> {
  return \`received: \${message}\`;
}
`,
  };
}
