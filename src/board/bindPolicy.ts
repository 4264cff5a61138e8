import { isIP } from 'node:net';

/** Loopback by name or address: only this machine's users can reach it. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/**
 * Whether a request's Host header names this machine's loopback (any port): the only requests a
 * server bound to loopback answers, with a token or without. A web page can make a browser on this machine send requests to
 * 127.0.0.1 under its own name (DNS rebinding); their Host is that name, not a loopback one.
 */
export function loopbackHost(hostHeader: string | undefined): boolean {
  if (hostHeader === undefined) return false;
  const name = /^(\[[^\]]*\]|[^:]*)(:\d+)?$/.exec(hostHeader.trim())?.[1];
  return name !== undefined && name !== '' && isLoopback(name);
}

/** Why a server may not bind as asked, or undefined when it may. */
export function bindRefusal(host: string, tokenSet: boolean, board: boolean): string | undefined {
  if (tokenSet || isLoopback(host)) return undefined;
  const risk = board ? 'the board, where anyone who reaches it could retry or delete jobs' : 'the probes and metrics, open to anyone who reaches them';
  return (
    `refusing to serve ${risk}, on ${host} without a token. ` +
    'Set AUTOPOLL_BOARD_TOKEN (a long random string, e.g. `openssl rand -hex 32`), or bind to 127.0.0.1 with --host.'
  );
}
