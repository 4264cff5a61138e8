import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isAbsolute, join, posix } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { REPO, tempDir } from '../support/bridge.js';
import { AutopollProcess } from '../support/cli.js';
import {
  AUTOPOLL_SERVICES, COMPOSE_ENV, TOKEN, argv, cliHelp, containerEnv, copies, dockerIgnored, dockerignorePatterns, documentedVariables, durationSeconds, envKeys, flagValue, healthcheckArgs, interpolateAll, isHostPath, loadCompose, parseDockerfile, parseEnvFile, read, secretsIn, servicesIn, volumeMounts, type AutopollService, type Compose, type Env, type Service, type Stage,
} from '../support/deploymentFiles.js';
import { testPrefix } from '../support/pipeline.js';
import { waitFor } from '../support/wait.js';

/**
 * The deployment files (Dockerfile, .dockerignore, docker-compose.yml, .env.example), checked
 * without a Docker engine: parsed and held to the properties the deployment relies on, the flags
 * and variables they pass checked against the built CLI's own --help, and each autopoll service's
 * command and healthcheck run for real (the built CLI, the test Redis, temporary folders in place
 * of the volumes) as the container would run them.
 */

// ================================================================ the tests

describe('docker-compose.yml', () => {
  const compose = loadCompose(COMPOSE_ENV);
  const services = compose.services;

  it('refuses to start without AUTOPOLL_BOARD_TOKEN, and names the variable', () => {
    const { AUTOPOLL_BOARD_TOKEN: _token, ...withoutToken } = COMPOSE_ENV;
    expect(() => loadCompose(withoutToken)).toThrow(/AUTOPOLL_BOARD_TOKEN/);
    expect(() => loadCompose({ ...withoutToken, AUTOPOLL_BOARD_TOKEN: '' })).toThrow(/AUTOPOLL_BOARD_TOKEN/);
  });

  it('has redis, producer, consumer and board (and, with --profile monitoring, prometheus and grafana: monitoring.test.ts)', () => {
    expect(Object.keys(servicesIn(compose)).sort()).toEqual(['board', 'consumer', 'producer', 'redis']);
  });

  it('redis: the official 7.x image, AOF on, noeviction, a healthcheck by redis-cli ping, a named volume at /data', () => {
    const redis = services.redis!;
    expect(redis.image).toMatch(/^redis:7(?:[.-]|$)/);
    const args = argv(redis.command);
    expect(args[0]).toBe('redis-server');
    expect(flagValue(args, '--appendonly')).toBe('yes');
    expect(flagValue(args, '--maxmemory-policy')).toBe('noeviction');
    expect(healthcheckArgs(redis).join(' ')).toMatch(/redis-cli ping/);
    const data = volumeMounts(redis).find((m) => m.target === '/data');
    expect(data, 'a volume at /data').toBeDefined();
    expect(isHostPath(data!.source), 'a named volume').toBe(false);
    expect(compose.volumes).toHaveProperty(data!.source);
  });

  it.each(AUTOPOLL_SERVICES)('%s: the image built here, a healthy redis first, redis://redis:6379, the board token required, init, a /readyz or /healthz healthcheck on the port it serves', (name) => {
    const s = services[name]!;
    expect(s.build, 'built from this repository').toBeDefined();
    expect(s.image).toBe(services.producer!.image);
    expect(s.depends_on).toEqual(expect.objectContaining({ redis: expect.objectContaining({ condition: 'service_healthy' }) }));
    expect(s.init, 'tini as PID 1: forwards SIGTERM, reaps orphaned Claude Code processes').toBe(true);
    const env = containerEnv(s, COMPOSE_ENV);
    expect(env.REDIS_URL).toBe('redis://redis:6379');
    expect(env.AUTOPOLL_BOARD_TOKEN).toBe(TOKEN);
    const args = argv(s.command);
    expect(args[0]).toBe(name);
    expect(flagValue(args, '--host')).toBe('0.0.0.0');
    const port = flagValue(args, '--port');
    expect(port).toMatch(/^\d+$/);
    const check = healthcheckArgs(s);
    const url = check.find((a) => /^https?:\/\//.test(a));
    expect(url, `a URL in ${check.join(' ')}`).toBeDefined();
    const parsed = new URL(url!);
    expect(parsed.pathname).toMatch(/^\/(readyz|healthz)$/);
    expect(parsed.hostname).toBe('127.0.0.1');
    expect(parsed.port, 'the healthcheck probes the port the command serves').toBe(port);
    expect(s.healthcheck?.interval).toBeDefined();
    expect(s.healthcheck?.timeout).toBeDefined();
  });

  it('consumer scales: no container_name, hostname or published port; ANTHROPIC_API_KEY only passed through, and to no other service', () => {
    const consumer = services.consumer!;
    expect(consumer.container_name).toBeUndefined();
    expect(consumer.hostname).toBeUndefined();
    expect(consumer.ports).toBeUndefined();
    const raw = (parse(read('docker-compose.yml'), { merge: true }) as Compose).services.consumer!.environment;
    expect(raw && !Array.isArray(raw), 'environment as a map').toBe(true);
    const key = (raw as Record<string, unknown>).ANTHROPIC_API_KEY;
    // Null (`ANTHROPIC_API_KEY:`) passes the shell's or .env's value through; `${ANTHROPIC_API_KEY}` would too.
    expect(key === null || key === '${ANTHROPIC_API_KEY}', `ANTHROPIC_API_KEY is ${JSON.stringify(key)}`).toBe(true);
    expect(containerEnv(consumer, { ...COMPOSE_ENV, ANTHROPIC_API_KEY: 'from-the-environment' }).ANTHROPIC_API_KEY).toBe('from-the-environment');
    expect(containerEnv(consumer, { ...COMPOSE_ENV, ANTHROPIC_API_KEY: undefined })).not.toHaveProperty('ANTHROPIC_API_KEY');
    expect(consumer.env_file).toBeUndefined();
    for (const name of ['redis', 'producer', 'board']) {
      expect(containerEnv(services[name]!, { ...COMPOSE_ENV, ANTHROPIC_API_KEY: 'x' }), name).not.toHaveProperty('ANTHROPIC_API_KEY');
    }
  });

  it('only the board, and with --profile monitoring grafana and prometheus, publish a port, on 127.0.0.1 only', () => {
    const publishing = ['board', 'grafana', 'prometheus'];
    for (const [name, s] of Object.entries(services)) {
      if (!publishing.includes(name)) expect(s.ports, name).toBeUndefined();
    }
    for (const name of publishing) {
      const ports = services[name]!.ports ?? [];
      expect(ports.length, name).toBeGreaterThan(0);
      for (const p of ports) {
        if (typeof p === 'object') expect(p.host_ip).toBe('127.0.0.1');
        else expect(String(p)).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
      }
    }
    // Also with the ports moved by their variables.
    const moved = loadCompose({ ...COMPOSE_ENV, AUTOPOLL_BOARD_PORT: '8080', AUTOPOLL_GRAFANA_PORT: '8081', AUTOPOLL_PROMETHEUS_PORT: '8082' }).services;
    expect([moved.board!.ports, moved.grafana!.ports, moved.prometheus!.ports]).toEqual([['127.0.0.1:8080:3000'], ['127.0.0.1:8081:3000'], ['127.0.0.1:8082:9090']]);
  });

  it('producer: the bridge file is on a volume (a named one by default, a bind mount of the given folder), the context root too; not root', () => {
    const producer = services.producer!;
    const bridgeDb = flagValue(argv(producer.command), '--bridge-db')!;
    expect(bridgeDb).toBeDefined();
    const bridgeMount = volumeMounts(producer).find((m) => m.target === posix.dirname(bridgeDb));
    expect(bridgeMount, `the folder of ${bridgeDb} (SQLite's -wal and -shm live beside the file) is a volume`).toBeDefined();
    expect(bridgeMount!.readOnly).toBe(false);
    expect(isHostPath(bridgeMount!.source)).toBe(false);
    expect(compose.volumes).toHaveProperty(bridgeMount!.source);
    const bound = volumeMounts(loadCompose({ ...COMPOSE_ENV, AUTOPOLL_BRIDGE_DIR: '/srv/bridge' }).services.producer!);
    expect(bound).toContainEqual({ source: '/srv/bridge', target: '/bridge', readOnly: false });
    const contextRoot = flagValue(argv(producer.command), '--context-root')!;
    expect(volumeMounts(producer)).toContainEqual(expect.objectContaining({ target: contextRoot, readOnly: true }));
    expect(producer.user).toMatch(/^\d+:\d+$/);
    expect(producer.user!.split(':')[0]).not.toBe('0');
    expect(loadCompose({ ...COMPOSE_ENV, AUTOPOLL_BRIDGE_UID: '1234', AUTOPOLL_BRIDGE_GID: '99' }).services.producer!.user).toBe('1234:99');
  });

  // autopoll exits by itself at --shutdown-timeout + 10 s at the latest (src/cli/lifecycle.ts): the
  // grace period must outlast that, so that docker's SIGKILL never cuts a drain short.
  it('producer and consumer get a stop_grace_period longer than their --shutdown-timeout + 10 s', async () => {
    for (const name of ['producer', 'consumer'] as const) {
      const s = services[name]!;
      const args = argv(s.command);
      const shutdown = Number(flagValue(args, '--shutdown-timeout') ?? containerEnv(s, COMPOSE_ENV).AUTOPOLL_SHUTDOWN_TIMEOUT ?? (await cliHelp(name)).defaults.get('--shutdown-timeout'));
      expect(shutdown, `${name} --shutdown-timeout`).toBeGreaterThan(0);
      expect(s.stop_grace_period, `${name} stop_grace_period`).toBeDefined();
      expect(durationSeconds(s.stop_grace_period!), name).toBeGreaterThan(shutdown + 10);
    }
  });

  it.each(AUTOPOLL_SERVICES)('%s: every flag and variable it passes is one the built CLI knows', async (name) => {
    const s = services[name]!;
    const [command, ...args] = argv(s.command);
    const help = await cliHelp(command!);
    for (const a of args.filter((x) => x.startsWith('-'))) expect(help.flags, `autopoll ${command} ${a}`).toContain(a.split('=')[0]);
    const claudeCode = name === 'consumer' ? ['ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL'] : [];
    for (const key of envKeys(s)) {
      if (claudeCode.includes(key)) continue;
      expect(help.envs, `autopoll ${command}: environment ${key}`).toContain(key);
    }
  });

  it('every variable the compose file reads is in .env.example, whose secrets are left empty', () => {
    const seen = new Set<string>();
    const composeRaw = parse(read('docker-compose.yml'), { merge: true }) as Compose;
    interpolateAll(composeRaw, COMPOSE_ENV, seen);
    for (const s of Object.values(composeRaw.services)) {
      for (const [k, v] of Object.entries(s.environment ?? {})) if (v === null) seen.add(k);
    }
    const documented = documentedVariables(read('.env.example'));
    for (const name of seen) expect(documented, `.env.example mentions ${name}`).toContain(name);
    const example = parseEnvFile(read('.env.example'));
    expect(example.AUTOPOLL_BOARD_TOKEN).toBe('');
    expect(example.ANTHROPIC_API_KEY ?? '').toBe('');
  });
});

describe('Dockerfile and .dockerignore', () => {
  const stages = parseDockerfile(read('Dockerfile'));
  const final = stages.at(-1)!;
  const byName = (name: string) => stages.find((s) => s.name === name);
  const runs = (stage: Stage) => stage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);

  it('is multi-stage, and the final stage runs on a slim Node 20 image', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    expect(final.from).toMatch(/^node:20[.\w-]*-slim$/);
    for (const s of stages) expect(s.from, 'every stage on Node 20 (the same ABI for the native addon)').toMatch(/^(node:20[.\w-]*|[a-z-]+)$/);
  });

  it('final stage: WORKDIR /app, a non-root USER, node dist/cli/main.js as the entrypoint, a default CMD', () => {
    const last = (kw: string) => final.instructions.filter((i) => i.keyword === kw).at(-1)?.args;
    expect(last('WORKDIR')).toBe('/app');
    const user = last('USER');
    expect(user, 'a USER').toBeDefined();
    expect(user!.split(':')[0]).not.toMatch(/^(root|0)$/);
    expect(JSON.parse(last('ENTRYPOINT')!)).toEqual(['node', 'dist/cli/main.js']);
    expect(last('CMD')).toBeDefined();
  });

  it('final stage: production node_modules (npm install --omit=dev, optional packages kept), dist/ from the build stage, package.json; no npm install of its own', () => {
    const finalCopies = copies(final);
    const modules = finalCopies.find((c) => c.destAbs === '/app/node_modules');
    expect(modules?.from, 'node_modules copied from another stage').toBeDefined();
    const depsStage = byName(modules!.from!)!;
    expect(depsStage).toBeDefined();
    const installs = [...runs(depsStage), ...stagesBelow(depsStage).flatMap(runs)].filter((r) => /\bnpm (install|i|ci)\b/.test(r));
    expect(installs.length).toBeGreaterThan(0);
    for (const r of installs) {
      expect(r).toMatch(/--omit=dev\b/);
      expect(r, 'the Claude Code binary is an optional dependency').not.toMatch(/--omit=optional|--no-optional/);
    }
    const dist = finalCopies.find((c) => c.destAbs === '/app/dist');
    expect(dist?.from).toBeDefined();
    expect(runs(byName(dist!.from!)!).join('\n')).toMatch(/npm run build/);
    expect(finalCopies.some((c) => !c.from && c.sources.includes('package.json') && c.destAbs.startsWith('/app'))).toBe(true);
    expect(runs(final).join('\n'), 'no dependencies installed in the final stage').not.toMatch(/\bnpm (install|i|ci)\b/);
    for (const s of stages) {
      for (const c of copies(s)) expect(c.sources, 'never the whole context (a .env would ride along)').not.toContain('.');
    }
  });

  /** The stages a stage is built FROM, nearest first. */
  function stagesBelow(stage: Stage): Stage[] {
    const below = byName(stage.from);
    return below ? [below, ...stagesBelow(below)] : [];
  }

  it('copies only files that exist and that .dockerignore lets into the context; the compose healthcheck script is in the image', () => {
    const patterns = dockerignorePatterns();
    for (const s of stages) {
      for (const c of copies(s).filter((x) => !x.from)) {
        for (const src of c.sources) {
          expect(existsSync(join(REPO, src)), `${src} exists`).toBe(true);
          expect(dockerIgnored(src, patterns), `${src} is not in .dockerignore`).toBe(false);
        }
      }
    }
    const inImage = new Map(copies(final).filter((c) => !c.from).flatMap((c) => c.sources.map((src) => [c.sources.length === 1 ? c.destAbs : posix.join(c.destAbs, src), src] as const)));
    const compose = loadCompose(COMPOSE_ENV);
    for (const name of AUTOPOLL_SERVICES) {
      for (const a of healthcheckArgs(compose.services[name]!).filter((x) => x.startsWith('/app/'))) {
        expect(inImage.has(a), `${name}'s healthcheck uses ${a}, which the image has`).toBe(true);
      }
    }
  });

  it('.dockerignore keeps out .git, node_modules, dist, data, bench results, test artifacts and .env', () => {
    const patterns = dockerignorePatterns();
    for (const p of ['.git', 'node_modules', 'dist', 'data', 'data/bridge.db', 'bench/results', '.vitest-tmp', 'some/where/run.log', '.env', '.env.local']) {
      expect(dockerIgnored(p, patterns), p).toBe(true);
    }
    for (const p of ['src/cli/main.ts', 'package.json', 'package-lock.json', 'tsconfig.json', 'docker/healthcheck.mjs', '.env.example']) {
      expect(dockerIgnored(p, patterns), p).toBe(false);
    }
  });

  it('holds no secret: no ARG or ENV for keys or tokens', () => {
    for (const s of stages) {
      for (const i of s.instructions.filter((x) => x.keyword === 'ARG' || x.keyword === 'ENV')) {
        expect(i.args, `${i.keyword} ${i.args}`).not.toMatch(/KEY|TOKEN|SECRET|PASSWORD|ANTHROPIC/i);
      }
    }
  });
});

describe('CI builds what the image runs', () => {
  it('npm test (what .ci/run runs) builds dist/ before testing; the image has no other TypeScript', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    expect(scripts.test).toMatch(/^npm run build && /);
    expect(read('.ci/run')).toMatch(/^npm test$/m);
    const build = parseDockerfile(read('Dockerfile')).flatMap((s) => s.instructions).filter((i) => i.keyword === 'RUN' && /npm run build/.test(i.args));
    expect(build).toHaveLength(1);
  });
});

describe('no key-looking literal in the deployment files', () => {
  it('finds a planted key (the scan works)', () => {
    expect(secretsIn('ANTHROPIC_API_KEY=sk-ant-api03-AbCdEfGhIjKlMnOp')).not.toEqual([]);
    expect(secretsIn('  AUTOPOLL_BOARD_TOKEN: hunter2hunter2hunter2')).not.toEqual([]);
    expect(secretsIn('ENV TOKEN=0123456789abcdef0123456789abcdef')).not.toEqual([]);
    expect(secretsIn('AUTOPOLL_BOARD_TOKEN: ${AUTOPOLL_BOARD_TOKEN:?set it}')).toEqual([]);
  });

  it.each(['Dockerfile', '.dockerignore', 'docker-compose.yml', '.env.example', 'docker/healthcheck.mjs', 'deploy/prometheus/prometheus.yml', 'deploy/grafana/provisioning/datasources/prometheus.yml', 'deploy/grafana/dashboards/autopoll.json'])('%s', (file) => {
    expect(secretsIn(read(file))).toEqual([]);
  });
});

describe('the compose commands and healthchecks, run with the built CLI', () => {
  const prefix = testPrefix();
  const procs: AutopollProcess[] = [];
  const compose = loadCompose({ ...COMPOSE_ENV, AUTOPOLL_ANSWERER: 'stub' });
  const dockerfileFinal = parseDockerfile(read('Dockerfile')).at(-1)!;
  /** Image path -> repository path, from the final stage's COPYs of the build context. */
  const imageFiles = new Map(copies(dockerfileFinal).filter((c) => !c.from && c.sources.length === 1).map((c) => [c.destAbs, join(REPO, c.sources[0]!)]));

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.kill('SIGKILL')));
  });

  /** The service's command as the container runs it, with temporary folders for its volumes and port 0. */
  function hostCommand(s: Service): string[] {
    const mounts = volumeMounts(s).map((m) => ({ ...m, dir: tempDir('autopoll-compose-') }));
    return argv(s.command).map((a, i, all) => {
      if (all[i - 1] === '--port') return '0';
      const m = mounts.find((x) => a === x.target || a.startsWith(`${x.target}/`));
      return m ? join(m.dir, a.slice(m.target.length)) : a;
    });
  }

  /** Every variable of ours that autopoll reads is removed: the child sees the container's environment. */
  function isolated(env: Env): Env {
    const cleared = Object.fromEntries(Object.keys(process.env).filter((k) => /^(AUTOPOLL_|REDIS_URL$|BRIDGE_DB$|LOG_LEVEL$|ANTHROPIC_)/.test(k)).map((k) => [k, undefined]));
    return { ...cleared, ...env };
  }

  /** Runs the service's healthcheck command as Docker would, at the port the process really got. */
  function runHealthcheck(s: Service, port: string, env: Env): Promise<{ code: number | null; stdout: string }> {
    const [cmd, ...rest] = healthcheckArgs(s);
    expect(cmd).toBe('node');
    const args = rest.map((a) => {
      if (/^https?:\/\//.test(a)) {
        const url = new URL(a);
        url.port = port;
        return url.toString();
      }
      if (a.startsWith('/')) {
        const local = imageFiles.get(a);
        expect(local, `${a} is copied into the image from the repository`).toBeDefined();
        return local!;
      }
      return a;
    });
    return new Promise((resolve) => {
      execFile(process.execPath, args, { env: isolated(env) as NodeJS.ProcessEnv, timeout: 15_000 }, (err, stdout) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout });
      });
    });
  }

  it.each(AUTOPOLL_SERVICES)('%s starts from its compose command, passes its healthcheck with the token, fails it without, and stops on SIGTERM within stop_grace_period', async (name: AutopollService) => {
    const s = compose.services[name]!;
    const args = hostCommand(s);
    const env: Env = { ...containerEnv(s, { ...COMPOSE_ENV, AUTOPOLL_ANSWERER: 'stub' }), REDIS_URL: inject('redisUrl'), AUTOPOLL_PREFIX: prefix };
    const proc = new AutopollProcess(args, isolated(env));
    procs.push(proc);
    const listening = await Promise.race([
      proc.waitForLog(/^operator server listening$/, 30_000),
      proc.exited.then((e): never => {
        throw new Error(`${name} exited (${JSON.stringify(e)}) instead of serving: ${args.join(' ')}\n${proc.stderr}`);
      }),
    ]);
    const port = new URL(String(listening.url)).port;
    expect(listening.tokenRequired).toBe(true);

    // Docker retries a failing check until start_period and retries run out: so do we.
    const ok = await waitFor(`${name}'s healthcheck to pass`, async () => {
      const r = await runHealthcheck(s, port, env);
      return r.code === 0 ? r : undefined;
    }, 30_000, 250);
    expect(ok.stdout).toMatch(/HTTP 200/);

    const { AUTOPOLL_BOARD_TOKEN: _token, ...noToken } = env;
    const refused = await runHealthcheck(s, port, noToken);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/HTTP 401/);

    if (name === 'producer') {
      const bridgeDb = flagValue(args, '--bridge-db')!;
      expect(isAbsolute(bridgeDb)).toBe(true);
      expect(existsSync(bridgeDb), 'the producer created bridge.db in the (empty) bridge volume').toBe(true);
    }

    const grace = durationSeconds(s.stop_grace_period ?? '10s');
    const started = Date.now();
    const exit = await Promise.race([proc.kill('SIGTERM'), new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), grace * 1000))]);
    expect(exit, `${name} stops on SIGTERM within ${grace} s`).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(grace * 1000);
  }, 90_000);
});
