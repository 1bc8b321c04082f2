/**
 * Customer messages for traffic generation: a fixed mix of intents, chosen by a seeded PRNG so
 * a demo run is reproducible. Shares: 8% angry, 14% refund requests, 78% order status.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const INTENT_MIX = { angry: 0.08, refund: 0.14, status: 0.78 } as const;

export function customerMessage(rand: () => number): string {
  const order = 1000 + Math.floor(rand() * 9000);
  const r = rand();
  if (r < INTENT_MIX.angry) return `This is unacceptable, order #${order} is late again.`;
  if (r < INTENT_MIX.angry + INTENT_MIX.refund) return `Can I get a refund for order #${order}?`;
  return `Where is my order #${order}?`;
}
