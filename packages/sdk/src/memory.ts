import type { SluiceContext } from './context.js';

/**
 * Namespace a memory key by the release's memory namespace, so a release with a new memory
 * schema never reads sessions written by the old one. Without a gateway, keys are unprefixed.
 */
export function memoryKey(ctx: Pick<SluiceContext, 'memoryNamespace'>, key: string): string {
  return ctx.memoryNamespace ? `${ctx.memoryNamespace}:${key}` : key;
}
