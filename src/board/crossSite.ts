import type { NextFunction, Request, Response } from 'express';

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Whether a request that changes something was sent by a page of another origin. Such a page can
 * make this machine's browser POST a plain form (or a `no-cors` fetch) to http://127.0.0.1:3000:
 * its Host is then a loopback one and, on a board without a token, nothing else stops it (Bull
 * Board's `POST /api/queues/:queue/add` adds a job that way). A page on another port of 127.0.0.1
 * is even same-site, so a SameSite=Strict cookie rides along. Browsers say where a request comes
 * from in Sec-Fetch-Site (all current ones) or Origin (older ones, on every cross-origin write);
 * scripts and curl send neither and are not pages.
 */
export function crossSiteWrite(method: string, headers: { host?: string | undefined; origin?: string | undefined; 'sec-fetch-site'?: string | undefined }): boolean {
  if (READS.has(method.toUpperCase())) return false;
  const site = headers['sec-fetch-site'];
  if (site !== undefined) return site !== 'same-origin' && site !== 'none';
  if (headers.origin === undefined) return false;
  try {
    const origin = new URL(headers.origin);
    // Parsed under the origin's scheme, so a Host with the default port spelled out still matches.
    return origin.host !== new URL(`${origin.protocol}//${headers.host ?? ''}`).host;
  } catch {
    // `Origin: null` (a sandboxed frame, a file: page) or a Host that is no host: not this site.
    return true;
  }
}

export function refuseCrossSiteWrites(req: Request, res: Response, next: NextFunction): void {
  if (!crossSiteWrite(req.method, req.headers)) return next();
  res.status(403).type('text/plain').send('Forbidden: a page of another site may not change anything here. Use the board itself, or send the request from a script (without Origin or Sec-Fetch-Site headers).\n');
}
