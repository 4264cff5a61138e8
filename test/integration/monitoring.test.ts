import { existsSync, readdirSync } from 'node:fs';
import { join, posix } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { REPO } from '../support/bridge.js';
import { AUTOPOLL_SERVICES, COMPOSE_ENV, argv, containerEnv, flagValue, healthcheckArgs, loadCompose, read, secretFiles, servicesIn, volumeMounts, type Service } from '../support/deploymentFiles.js';
import { exportedTypes, isExported, metricNames, PROMETHEUS_SERIES, variableExpr } from '../support/promql.js';
import { SpawnedPipeline } from '../support/spawnedPipeline.js';

/**
 * The monitoring profile of docker-compose.yml (Prometheus, Grafana) and what it ships in deploy/:
 * every metric the dashboard and the Prometheus config name is one autopoll's /metrics exports
 * (read from a real producer and consumer), and every scrape target is an autopoll service at
 * the port it serves. No Docker engine: the files are read as Compose, Prometheus and Grafana would.
 */

const DASHBOARD = 'deploy/grafana/dashboards/autopoll.json';
const compose = loadCompose(COMPOSE_ENV);
const monitoring = servicesIn(compose, ['monitoring']);
const prometheus = monitoring.prometheus!;
const grafana = monitoring.grafana!;

interface ScrapeConfig {
  job_name: string;
  metrics_path?: string;
  scheme?: string;
  authorization?: { type?: string; credentials?: string; credentials_file?: string };
  static_configs?: Array<{ targets: string[] }>;
  dns_sd_configs?: Array<{ names: string[]; type?: string; port?: number }>;
}
interface PrometheusConfig {
  global?: { scrape_interval?: string };
  rule_files?: string[];
  scrape_configs: ScrapeConfig[];
}

/** The repository file a service's bind mount puts at `target`. */
function mountedFile(s: Service, target: string): string {
  const m = volumeMounts(s).find((v) => target === v.target || target.startsWith(`${v.target}/`));
  expect(m, `something is mounted at ${target}`).toBeDefined();
  expect(m!.source, `${target} comes from the repository`).toMatch(/^\.\//);
  return join(REPO, m!.source, target.slice(m!.target.length));
}

const promConfigPath = (flagValue(argv(prometheus.command).flatMap((a) => a.split('=')), '--config.file'))!;
const promConfig = parse(read(posix.relative(REPO, mountedFile(prometheus, promConfigPath))), { merge: true }) as PrometheusConfig;

/** A target's host and port: `host:port` of a static config, or a DNS name with the config's port. */
function targets(c: ScrapeConfig): Array<{ host: string; port: string }> {
  const fromStatic = (c.static_configs ?? []).flatMap((s) => s.targets.map((t) => ({ host: t.split(':')[0]!, port: t.split(':')[1] ?? '80' })));
  const fromDns = (c.dns_sd_configs ?? []).flatMap((d) => {
    expect(d.type ?? 'SRV', `${c.job_name}: an A lookup (Compose's DNS has no SRV records) with a port`).toBe('A');
    return d.names.map((host) => ({ host, port: String(d.port) }));
  });
  return [...fromStatic, ...fromDns];
}

/** Every query of the dashboard: each panel's (rows' nested panels included) and each query variable's. */
function dashboardQueries(): string[] {
  const dashboard = JSON.parse(read(DASHBOARD)) as { panels: Panel[]; templating: { list: Array<{ type: string; query?: string | { query: string } }> } };
  type Panel = { targets?: Array<{ expr?: string }>; panels?: Panel[] };
  const panels = (list: Panel[]): Panel[] => list.flatMap((p) => [p, ...panels(p.panels ?? [])]);
  const exprs = panels(dashboard.panels).flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? ''));
  const variables = dashboard.templating.list.filter((v) => v.type === 'query').map((v) => variableExpr(typeof v.query === 'string' ? v.query : (v.query?.query ?? '')));
  return [...exprs, ...variables];
}

describe('the monitoring profile in docker-compose.yml', () => {
  it('adds prometheus and grafana, pinned images, only with --profile monitoring', () => {
    expect(Object.keys(monitoring).sort()).toEqual(['board', 'consumer', 'grafana', 'producer', 'prometheus', 'redis']);
    expect(servicesIn(compose)).not.toHaveProperty('prometheus');
    expect(servicesIn(compose)).not.toHaveProperty('grafana');
    expect(prometheus.image).toMatch(/^prom\/prometheus:v\d+\.\d+\.\d+$/);
    expect(grafana.image).toMatch(/^grafana\/grafana(-oss)?:\d+\.\d+\.\d+$/);
  });

  it.each([
    ['prometheus', '/-/ready'],
    ['grafana', '/api/health'],
  ])('%s: a healthcheck on %s at the port it listens on, published on loopback only, restarted', (name, path) => {
    const s = monitoring[name]!;
    const url = new URL(healthcheckArgs(s).find((a) => /^https?:\/\//.test(a))!);
    expect(url.hostname).toBe('127.0.0.1');
    expect(url.pathname).toBe(path);
    const published = (s.ports ?? []).map(String);
    expect(published).toHaveLength(1);
    expect(published[0]).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    expect(published[0]!.split(':')[2], 'the healthcheck probes the port the container publishes').toBe(url.port);
    if (name === 'prometheus') expect(flagValue(argv(s.command).flatMap((a) => a.split('=')), '--web.listen-address')).toBe(`0.0.0.0:${url.port}`);
    expect(s.healthcheck?.interval).toBeDefined();
    expect(s.healthcheck?.timeout).toBeDefined();
    expect(s.restart).toBe('unless-stopped');
  });

  it('prometheus scrapes every autopoll service, at the port its --port says, with the board token from a Compose secret', () => {
    const scraped = new Set<string>();
    for (const c of promConfig.scrape_configs) {
      expect(c.scheme ?? 'http').toBe('http');
      expect(c.metrics_path ?? '/metrics').toBe('/metrics');
      for (const t of targets(c)) {
        const service = compose.services[t.host];
        expect(service, `${c.job_name}: target ${t.host} is a service of docker-compose.yml`).toBeDefined();
        expect(t.port, `${c.job_name}: ${t.host}'s --port`).toBe(flagValue(argv(service!.command), '--port'));
        expect(c.job_name, "the job is named after the service (the dashboard's job variable)").toBe(t.host);
        scraped.add(t.host);
      }
      // The token never in the file: Prometheus expands no variables there, so it reads a file.
      expect(c.authorization?.type ?? 'Bearer').toBe('Bearer');
      expect(c.authorization?.credentials).toBeUndefined();
      const secret = [...secretFiles(prometheus)].find(([, file]) => file === c.authorization?.credentials_file)?.[0];
      expect(secret, `${c.job_name}: credentials_file ${c.authorization?.credentials_file} is a secret of the prometheus service`).toBeDefined();
      expect(compose.secrets?.[secret!]).toEqual({ environment: 'AUTOPOLL_BOARD_TOKEN' });
    }
    expect([...scraped].sort()).toEqual([...AUTOPOLL_SERVICES].sort());
    expect(promConfig.rule_files, 'no rules yet: rules would need their metric names checked below too').toBeUndefined();
  });

  it('the board token file is readable by the non-root users the prometheus and grafana images run as', () => {
    // Compose writes a secret made from a variable owned by root, and some versions with mode 0400
    // unless told. Compose reads `0444` as octal, as YAML 1.1 does.
    const raw = parse(read('docker-compose.yml'), { merge: true, version: '1.1' }) as { services: Record<string, Service> };
    for (const name of ['prometheus', 'grafana']) {
      const entry = raw.services[name]!.secrets?.find((x) => typeof x === 'object' && x.source === 'board_token') as { mode?: number } | undefined;
      expect(entry?.mode, `${name}: board_token with a mode`).toBeDefined();
      expect(entry!.mode! & 0o004, `${name}: board_token readable by others`).toBe(0o004);
    }
  });

  it('grafana: the datasource is the prometheus service, the dashboards are provisioned from deploy/grafana/dashboards, the admin password is the board token', () => {
    const provisioning = mountedFile(grafana, '/etc/grafana/provisioning');
    const datasources = parse(read(posix.relative(REPO, join(provisioning, 'datasources/prometheus.yml')))) as { datasources: Array<{ type: string; url: string; isDefault?: boolean; jsonData?: { timeInterval?: string } }> };
    const ds = datasources.datasources.find((d) => d.type === 'prometheus')!;
    expect(ds.isDefault).toBe(true);
    const url = new URL(ds.url);
    expect(monitoring).toHaveProperty(url.hostname);
    expect(url.hostname).toBe('prometheus');
    expect(`0.0.0.0:${url.port}`).toBe(flagValue(argv(prometheus.command).flatMap((a) => a.split('=')), '--web.listen-address'));
    expect(ds.jsonData?.timeInterval, "Grafana's minimum interval is Prometheus's scrape_interval").toBe(promConfig.global?.scrape_interval);

    const providers = parse(read(posix.relative(REPO, join(provisioning, 'dashboards/autopoll.yml')))) as { providers: Array<{ type: string; options: { path: string } }> };
    const folder = mountedFile(grafana, providers.providers[0]!.options.path);
    expect(existsSync(folder)).toBe(true);
    expect(readdirSync(folder)).toContain(posix.basename(DASHBOARD));
    expect(join(folder, posix.basename(DASHBOARD))).toBe(join(REPO, DASHBOARD));

    const env = containerEnv(grafana, COMPOSE_ENV);
    const secret = [...secretFiles(grafana)].find(([, file]) => file === env.GF_SECURITY_ADMIN_PASSWORD__FILE)?.[0];
    expect(compose.secrets?.[secret!]).toEqual({ environment: 'AUTOPOLL_BOARD_TOKEN' });
  });
});

describe('the metrics the dashboard reads', () => {
  const pipeline = new SpawnedPipeline(['--redis', inject('redisUrl')]);
  afterAll(() => pipeline.stop());
  const token = COMPOSE_ENV.AUTOPOLL_BOARD_TOKEN!;

  it('are a dozen or more, and the dashboard filters each by the job and instance variables', () => {
    const queries = dashboardQueries();
    expect(new Set(queries.flatMap(metricNames)).size).toBeGreaterThanOrEqual(12);
    for (const q of queries.filter((x) => x.includes('('))) {
      for (const selector of q.match(/\b[a-z_:]+\{[^}]*\}/g) ?? []) expect(selector, q).toMatch(/job=~"\$job", instance=~"\$instance"/);
    }
  });

  it('are all exported by /metrics of a real producer and consumer, scraped as Prometheus does (the board token as a Bearer token)', async () => {
    // As in Compose: bound to every address, so the token is required, probes and /metrics included.
    const served = ['--host', '0.0.0.0', '--port', '0'];
    const env = { AUTOPOLL_BOARD_TOKEN: token };
    const procs = [pipeline.producer(served, env), pipeline.consumer(['--answerer', 'stub', '--sessions', '2', ...served], env)];
    pipeline.ask(1, 'q_metrics');
    await pipeline.expectAllAnsweredOnce();

    const types = new Map<string, string>();
    for (const p of procs) {
      const url = `${await p.operatorUrl()}/metrics`;
      expect((await fetch(url)).status, 'without the token').toBe(401);
      const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      for (const [name, type] of exportedTypes(await res.text())) types.set(name, type);
    }
    expect(types.get('autopoll_answer_latency_seconds')).toBe('histogram');

    const named = new Set(dashboardQueries().flatMap(metricNames));
    const unknown = [...named].filter((n) => !isExported(n, types) && !PROMETHEUS_SERIES.has(n));
    expect(unknown, 'metrics the dashboard reads that /metrics does not export').toEqual([]);
  }, 60_000);
});
