/** The tools' implementations. Orders are derived from their id, so runs are reproducible. */
export interface Order {
  order_id: string;
  status: 'processing' | 'shipped' | 'delivered';
  total_usd: number;
}

export function lookupOrder(orderId: string): Order {
  const n = Number.parseInt(orderId, 10) || 0;
  return { order_id: orderId, status: (['processing', 'shipped', 'delivered'] as const)[n % 3]!, total_usd: ((n * 37) % 180) + 10 };
}

export function issueRefund(orderId: string, amountUsd: number): { refunded_usd: number; order_id: string } {
  return { order_id: orderId, refunded_usd: amountUsd };
}
