import { isIP } from 'node:net';

/** Loopback by name or address: only this machine's users can reach it. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
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
