import type { Queue } from 'bullmq';
import express, { type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../shared/logger.js';
import type { RedisConnection } from '../shared/redis.js';
import { loginRoutes, requireToken, type BoardAuth } from './auth.js';
import { bindRefusal, isLoopback, loopbackHost } from './bindPolicy.js';
import { bullBoardRouter } from './bullBoard.js';
import { consumersRoute } from './consumersRoute.js';
import { findRoute } from './findRoute.js';
import { refuseCrossSiteWrites } from './crossSite.js';
import { LoginThrottle } from './loginThrottle.js';
import type { AutopollMetrics } from './metrics.js';
import type { Check } from '../shared/checks.js';
import { readiness } from './readiness.js';
import { BoardSessions } from './sessions.js';

export interface OperatorServerOptions {
  host: string;
  /** 0 picks a free port (logged, and in `url`). */
  port: number;
  /** AUTOPOLL_BOARD_TOKEN; without one the server binds to loopback only. */
  token?: string | undefined;
  /** How long a login lasts (the cookie's Max-Age); a logout or a restart ends it sooner. */
  sessionTtlSeconds: number;
  /** Express's trust proxy: which X-Forwarded-* headers to believe (TLS for Secure cookies, the client's address). */
  trustProxy: boolean | number | string;
  /**
   * Bull Board over these queues, /consumers from the presence in `redis` under `prefix`, and
   * /find from the producer's index there;
   * without it the server has health and metrics only.
   */
  board?: { questions: Queue; answers: Queue; readOnly: boolean; redis: RedisConnection; prefix: string } | undefined;
  checks: Check[];
  metrics: AutopollMetrics;
}

export class BindRefusedError extends Error { override readonly name = 'BindRefusedError'; }

const PROBES = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * No page may frame the board (clickjacking its retry and delete buttons), no response is sniffed
 * into another type, no URL leaks in a Referer. Only frame-ancestors of CSP: Bull Board's own page
 * (inline bootstrap script and styles) needs the rest open, default-src included.
 */
const SECURITY_HEADERS = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: helmet.contentSecurityPolicy.dangerouslyDisableDefaultSrc, frameAncestors: ["'none'"] },
  },
  frameguard: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
  strictTransportSecurity: false,
  crossOriginEmbedderPolicy: false,
});

function refuseForeignHost(req: Request, res: Response, next: NextFunction): void {
  if (loopbackHost(req.headers.host)) return next();
  res.status(403).type('text/plain').send('Forbidden: this server listens on loopback, so it answers only requests to a loopback name (127.0.0.1, localhost, [::1]). To serve it under another name, bind it elsewhere with --host and set AUTOPOLL_BOARD_TOKEN.\n');
}

/**
 * The operator's HTTP server: /healthz, /readyz, /metrics and (for `board` and `up`) Bull Board
 * /consumers and /find, behind the board token. Probes need no token only on loopback, where only this
 * machine's users (and its orchestrator) reach them.
 */
export class OperatorServer {
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(o: OperatorServerOptions, logger: Logger): Promise<OperatorServer> {
    const refusal = bindRefusal(o.host, Boolean(o.token), Boolean(o.board));
    if (refusal) throw new BindRefusedError(refusal);
    const app = express();
    app.disable('x-powered-by');
    app.set('trust proxy', o.trustProxy);
    app.use(SECURITY_HEADERS);
    // Before the login routes too: a forged login or logout is a cross-site write as well.
    app.use(refuseCrossSiteWrites);
    const startedAt = Date.now();
    const loopback = isLoopback(o.host);
    // On loopback a request under another name is a web page's (DNS rebinding), probes included,
    // token or not: with one, such a page could still read the open probes and try the login form.
    if (loopback) app.use(refuseForeignHost);
    if (o.token) {
      const auth: BoardAuth = { token: o.token, sessions: new BoardSessions(o.sessionTtlSeconds), throttle: new LoginThrottle() };
      app.use(loginRoutes(auth));
      app.use(requireToken(auth, (path) => loopback && PROBES.has(path)));
    } else if (o.board) {
      logger.warn({ host: o.host }, 'board has no token: open to every user of this machine; set AUTOPOLL_BOARD_TOKEN to require one');
    }
    app.get('/healthz', (_req, res) => {
      res.json({ status: 'ok', pid: process.pid, uptimeSeconds: Math.round((Date.now() - startedAt) / 1000) });
    });
    app.get('/readyz', async (_req, res) => {
      const result = await readiness(o.checks);
      res.status(result.ready ? 200 : 503).json(result);
    });
    app.get('/metrics', async (_req, res) => {
      res.type(o.metrics.registry.contentType).send(await o.metrics.registry.metrics());
    });
    if (o.board) {
      app.use(consumersRoute(o.board.redis, o.board.prefix, o.board.readOnly));
      app.use(findRoute(o.board.redis, o.board.prefix, o.board));
      app.use(bullBoardRouter(o.board, o.board.readOnly));
    }
    app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
      logger.error({ err }, 'operator server request failed');
      res.status(500).json({ error: err instanceof Error ? err.message : 'internal error' });
    });
    const server = await listen(app, o.host, o.port);
    const { port } = server.address() as AddressInfo;
    const url = `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}/`;
    logger.info({ url, board: Boolean(o.board), readOnly: o.board?.readOnly ?? false, tokenRequired: Boolean(o.token) }, 'operator server listening');
    return new OperatorServer(server, url);
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Browsers hold keep-alive connections open; they would hold the close for minutes.
    this.server.closeAllConnections();
    await closed;
  }
}

function listen(app: express.Express, host: string, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host);
    server.once('listening', () => resolve(server));
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE' ? new Error(`port ${port} on ${host} is in use: pick another with --port (env AUTOPOLL_PORT)`) : err);
    });
  });
}
