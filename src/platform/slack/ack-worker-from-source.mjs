// The accepting thread run from the TypeScript sources (tests, `npm run dev`): tsx is registered in the thread
// itself, since a worker's execArgv does not take --import on Node 20. The built app loads ack-worker.js directly.
import { register } from 'tsx/esm/api';

register();
await import('./ack-worker.ts');
