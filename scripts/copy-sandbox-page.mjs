// tsc compiles only TypeScript; the sandbox's page (plain HTML, CSS and browser JS) is copied next to the compiled server.
import { cpSync } from 'node:fs';

cpSync('src/sandbox/page', 'dist/src/sandbox/page', { recursive: true });
