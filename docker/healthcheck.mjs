#!/usr/bin/env node
// The image's health probe (Docker Compose `healthcheck`; slim images have no curl):
//   node /app/docker/healthcheck.mjs http://127.0.0.1:3000/readyz
// Exit 0 when the URL answers 2xx, 1 otherwise. Sends AUTOPOLL_BOARD_TOKEN, when the container has
// it, as `Authorization: Bearer`: an operator server bound off loopback requires it on the probes.
// The answer's body goes to stdout, which `docker inspect` keeps with the health state.
const url = process.argv[2] ?? 'http://127.0.0.1:3000/readyz';
const token = process.env.AUTOPOLL_BOARD_TOKEN;

try {
  const res = await fetch(url, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    redirect: 'manual',
    signal: AbortSignal.timeout(4000),
  });
  const body = (await res.text()).slice(0, 2000);
  process.stdout.write(`${url}: HTTP ${res.status} ${body}\n`);
  process.exit(res.ok ? 0 : 1);
} catch (err) {
  process.stdout.write(`${url}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
