// Worker entry: Node 20 resolves a worker's entry point before `--import tsx` hooks apply, so
// register tsx here and then load the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
