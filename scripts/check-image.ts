// Builds and runs the Docker image the way its Dockerfile says, without a container engine:
// the build context is assembled as .dockerignore leaves it, each stage's COPY lines fill a
// temporary tree, the build stage's RUN commands run in it, and the runtime stage's CMD starts
// against the project's fake Slack until the image's own HEALTHCHECK passes. Where `docker` or
// `podman` can build, `docker build` runs too.
//
//   node --import tsx scripts/check-image.ts [--dockerfile PATH] [--keep]
//
// Run it with the Node the image uses (node:24; .ci/run does). Nothing leaves the machine:
// npm ci prefers its cache, Slack is local, AWS points at a closed local port.
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeSlack } from '../test/support/fake-slack.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BOT_TOKEN = 'xoxb-image-check';

interface Instruction {
  op: string;
  args: string;
  line: number;
}

interface Stage {
  name?: string;
  instructions: Instruction[];
}

class CheckFailed extends Error {}

const started = Date.now();
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;
const say = (text: string) => console.log(`check-image: ${text}`);

/** Instructions by stage; continuation lines joined, comments and parser directives dropped. */
function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const first = i + 1;
    let line = lines[i]!.trim();
    if (!line || line.startsWith('#')) continue;
    while (line.endsWith('\\') && i + 1 < lines.length) {
      const next = lines[++i]!.trim();
      if (!next.startsWith('#')) line = `${line.slice(0, -1).trimEnd()} ${next}`;
    }
    const [, op, args] = /^(\S+)\s*(.*)$/.exec(line)!;
    const instruction = { op: op!.toUpperCase(), args: args!.trim(), line: first };
    if (instruction.op === 'FROM') stages.push({ name: /\sAS\s+(\S+)$/i.exec(instruction.args)?.[1], instructions: [] });
    else if (stages.length === 0) throw new CheckFailed(`Dockerfile:${first}: ${instruction.op} before FROM`);
    else stages.at(-1)!.instructions.push(instruction);
  }
  return stages;
}

/** Whether .dockerignore leaves a context path out (Docker's rules: patterns from the context root, `!` re-includes, last match wins). */
function dockerignore(text: string): (rel: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((raw) => {
      const negate = raw.startsWith('!');
      const pattern = path.posix.normalize(negate ? raw.slice(1) : raw).replace(/^\/+|\/+$/g, '');
      const body = pattern
        .split('/')
        .map((seg) => (seg === '**' ? '.*' : seg.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')))
        .join('/');
      return { negate, re: new RegExp(`^${body}(/.*)?$`) };
    });
  return (rel) => rules.reduce((ignored, r) => (r.re.test(rel) ? !r.negate : ignored), false);
}

function assembleContext(into: string): number {
  const ignored = dockerignore(existsSync(path.join(ROOT, '.dockerignore')) ? readFileSync(path.join(ROOT, '.dockerignore'), 'utf8') : '');
  let files = 0;
  const walk = (rel: string) => {
    for (const e of readdirSync(path.join(ROOT, rel), { withFileTypes: true })) {
      const child = rel ? `${rel}/${e.name}` : e.name;
      if (ignored(child)) continue;
      if (e.isDirectory()) walk(child);
      else if (e.isFile()) {
        cpSync(path.join(ROOT, child), path.join(into, child));
        files++;
      }
    }
  };
  walk('');
  return files;
}

/** Splits a shell-form argument list, keeping `--flag=value`s apart. */
function words(args: string): { flags: Record<string, string>; rest: string[] } {
  if (args.startsWith('[')) throw new CheckFailed(`JSON-form COPY is not understood by this check: ${args}`);
  const flags: Record<string, string> = {};
  const rest: string[] = [];
  for (const w of args.split(/\s+/)) {
    const flag = /^--([a-z-]+)=(.*)$/.exec(w);
    if (flag) flags[flag[1]!] = flag[2]!;
    else rest.push(w);
  }
  return { flags, rest };
}

/** ENV's `k=v k2=v2` form (and the old `k v`), values unquoted. */
function envPairs(args: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!args.includes('=')) {
    const [k, ...v] = args.split(/\s+/);
    out[k!] = v.join(' ');
    return out;
  }
  for (const m of args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("([^"]*)"|\S*)/g)) out[m[1]!] = m[3] ?? m[2]!;
  return out;
}

function run(cmd: string, argv: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; label: string }): void {
  const t = Date.now();
  const res = spawnSync(cmd, argv, { cwd: opts.cwd, env: opts.env, stdio: 'inherit' });
  if (res.status !== 0) throw new CheckFailed(`${opts.label} failed (exit ${res.status ?? res.signal})`);
  say(`${opts.label}: ok (${seconds(t)})`);
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

/** The node that runs this check stands in for the image's `node`, with headers to build native addons for it. */
function nodeArgv(argv: string[]): [string, string[]] {
  return [argv[0] === 'node' ? process.execPath : argv[0]!, argv.slice(1)];
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const dockerfile = argv.includes('--dockerfile') ? path.resolve(argv[argv.indexOf('--dockerfile') + 1]!) : path.join(ROOT, 'Dockerfile');
  const stages = parseDockerfile(readFileSync(dockerfile, 'utf8'));
  if (stages.length !== 2) throw new CheckFailed(`expected a build stage and a runtime stage, found ${stages.length}`);
  const work = mkdtempSync(path.join(tmpdir(), 'golive-image-'));
  say(`${dockerfile.startsWith(ROOT) ? path.relative(ROOT, dockerfile) : dockerfile} on Node ${process.version}, in ${work}`);
  try {
    const context = path.join(work, 'context');
    say(`build context: ${assembleContext(context)} files (.dockerignore applied)`);
    const roots: string[] = [];
    const nodeDir = path.dirname(path.dirname(process.execPath));
    const runtime: { env: Record<string, string>; workdir: string; volumes: string[]; cmd?: string[]; healthcheck?: string[] } = { env: {}, workdir: '/', volumes: [] };

    for (const [index, stage] of stages.entries()) {
      const root = path.join(work, `stage-${index}`);
      mkdirSync(root, { recursive: true });
      roots.push(root);
      let workdir = '/';
      const env: Record<string, string> = {};
      const inStage = (p: string) => path.join(root, path.posix.isAbsolute(p) ? p : path.posix.join(workdir, p));
      for (const ins of stage.instructions) {
        const where = `Dockerfile:${ins.line} ${ins.op}`;
        if (ins.op === 'WORKDIR') {
          workdir = path.posix.resolve(workdir, ins.args);
          mkdirSync(inStage('.'), { recursive: true });
        } else if (ins.op === 'ENV') Object.assign(env, envPairs(ins.args));
        else if (ins.op === 'COPY') {
          const { flags, rest } = words(ins.args);
          const dest = rest.pop()!;
          const fromStage = flags.from === undefined ? undefined : stages.findIndex((s, i) => s.name === flags.from || String(i) === flags.from);
          if (fromStage !== undefined && (fromStage < 0 || fromStage >= index)) throw new CheckFailed(`${where}: no earlier stage ${flags.from}`);
          for (const src of rest) {
            const from = fromStage === undefined ? path.join(context, src) : path.join(roots[fromStage]!, src);
            if (!existsSync(from)) throw new CheckFailed(`${where} ${src}: not in the ${fromStage === undefined ? 'build context' : `stage ${flags.from}`} (.dockerignore, or never built)`);
            const into = statSync(from).isDirectory() || dest.endsWith('/') || rest.length > 1 ? inStage(statSync(from).isDirectory() ? dest : path.posix.join(dest, path.posix.basename(src))) : inStage(dest);
            cpSync(from, into, { recursive: true });
          }
        } else if (ins.op === 'RUN') {
          if (/^apt-get\b/.test(ins.args)) {
            // The base image's OS packages: not installed on this machine by the check, only looked for.
            const packages = (/apt-get install (.*?)(&&|$)/.exec(ins.args)?.[1] ?? '').split(/\s+/).filter((w) => w && !w.startsWith('-'));
            const missing = packages.filter((p) => spawnSync('sh', ['-c', `command -v ${p}`], { stdio: 'ignore' }).status !== 0);
            if (missing.length > 0) throw new CheckFailed(`${where}: this machine lacks ${missing.join(', ')}, which the image installs`);
            say(`${where}: OS packages not installed here; present: ${packages.join(', ')}`);
          } else if (/(^|\s)\/(?!app\b)[a-z]/.test(ins.args)) {
            say(`${where}: not run here (the image's own filesystem: ${ins.args}); its volumes are temporary folders`);
          } else {
            run('sh', ['-c', ins.args], {
              cwd: inStage('.'),
              label: `${where} ${ins.args}`,
              env: { ...process.env, ...env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}`, npm_config_prefer_offline: 'true', npm_config_nodedir: nodeDir, npm_config_update_notifier: 'false' },
            });
          }
        } else if (ins.op === 'VOLUME') runtime.volumes.push(...(JSON.parse(ins.args) as string[]));
        else if (ins.op === 'CMD') runtime.cmd = JSON.parse(ins.args) as string[];
        else if (ins.op === 'HEALTHCHECK') runtime.healthcheck = JSON.parse(ins.args.slice(ins.args.indexOf('CMD') + 3).trim()) as string[];
        else if (!['USER', 'EXPOSE', 'LABEL', 'ARG'].includes(ins.op)) throw new CheckFailed(`${where}: not understood by this check`);
      }
      runtime.env = env;
      runtime.workdir = workdir;
    }

    // The runtime stage, as a process on this machine: image paths map into its tree and its volumes into temporary folders.
    const root = roots.at(-1)!;
    const app = path.join(root, runtime.workdir);
    const mapPath = (value: string) => {
      const volume = runtime.volumes.find((v) => value === v || value.startsWith(`${v}/`));
      if (volume) return path.join(work, 'volumes', value);
      return value.startsWith('/') ? path.join(root, value) : value;
    };
    for (const v of runtime.volumes) mkdirSync(path.join(work, 'volumes', v), { recursive: true });
    const imageEnv = Object.fromEntries(Object.entries(runtime.env).map(([k, v]) => [k, mapPath(v)]));
    if (!runtime.cmd || !runtime.healthcheck) throw new CheckFailed('the runtime stage has no CMD or no HEALTHCHECK');
    const slack = await startFakeSlack({ token: BOT_TOKEN });
    const port = await freePort();
    const base: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...imageEnv,
      PORT: String(port),
      SLACK_BOT_TOKEN: BOT_TOKEN,
      SLACK_SIGNING_SECRET: 'image-check-signing-secret',
      SLACK_API_URL: slack.url,
      GOLIVE_SANDBOX: '0',
      // Nothing listens there, and the credentials are fake: no AWS call leaves the machine.
      AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'image-check',
      AWS_SECRET_ACCESS_KEY: 'image-check',
    };
    const [cmd, cmdArgs] = nodeArgv(runtime.cmd);
    try {
      // Without GOLIVE_RUNBOOK it must refuse, not start on a bundled example's placeholder IDs.
      const bare = spawnSync(cmd, cmdArgs, { cwd: app, env: base, encoding: 'utf8', timeout: 30_000 });
      if (bare.status !== 1 || !bare.stderr.includes('GOLIVE_RUNBOOK is not set')) {
        throw new CheckFailed(`without GOLIVE_RUNBOOK the image must refuse to start and say so; it exited ${bare.status ?? bare.signal} with:\n${bare.stderr}${bare.stdout}`);
      }
      say('without GOLIVE_RUNBOOK: refuses to start ("GOLIVE_RUNBOOK is not set")');

      const t = Date.now();
      const child = spawn(cmd, cmdArgs, { cwd: app, env: { ...base, GOLIVE_RUNBOOK: mapPath('/app/runbooks/minimal.yml') }, stdio: ['ignore', 'pipe', 'pipe'] });
      const output: string[] = [];
      child.stdout.on('data', (d: Buffer) => output.push(String(d)));
      child.stderr.on('data', (d: Buffer) => output.push(String(d)));
      const [hc, hcArgs] = nodeArgv(runtime.healthcheck);
      let healthy = false;
      while (!healthy && Date.now() - t < 30_000 && child.exitCode === null) {
        await new Promise((r) => setTimeout(r, 300));
        healthy = spawnSync(hc, hcArgs, { env: { ...base }, stdio: 'ignore', timeout: 5_000 }).status === 0;
      }
      const health = healthy ? await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.text()) : '';
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(undefined)));
      if (!healthy) throw new CheckFailed(`${runtime.cmd.join(' ')} did not become healthy within 30 s:\n${output.join('')}`);
      say(`${runtime.cmd.join(' ')}: HEALTHCHECK passed after ${seconds(t)}: ${health}`);
      if (slack.callsTo('auth.test').length === 0) throw new CheckFailed('the app never called the fake Slack');
    } finally {
      await slack.close();
    }

    run(process.execPath, ['dist/src/validate-cli.js', 'runbooks/minimal.yml', 'runbooks/govisax.yml', 'runbooks/realserv.yml'], { cwd: app, env: base, label: 'node dist/src/validate-cli.js runbooks/*.yml in the runtime tree' });
    // The copy command loads the PostgreSQL client and the SQLite addon from the runtime tree, as docs/deploy.md runs it in the image.
    run(process.execPath, ['dist/src/copy-database-cli.js', '--help'], { cwd: app, env: base, label: 'node dist/src/copy-database-cli.js --help in the runtime tree' });

    const engine = ['docker', 'podman'].find((e) => spawnSync(e, ['info'], { stdio: 'ignore', timeout: 20_000 }).status === 0);
    if (engine) run(engine, ['build', '-f', dockerfile, '-t', 'golive:check', '.'], { cwd: ROOT, env: process.env, label: `${engine} build` });
    else say('no container engine answers here (docker info, podman info): docker build not run');
    say(`ok in ${seconds(started)}`);
  } finally {
    if (!argv.includes('--keep')) rmSync(work, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (err) {
  console.error(`check-image: FAILED: ${err instanceof CheckFailed ? err.message : (err as Error).stack}`);
  process.exit(1);
}
