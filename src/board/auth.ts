import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import express from 'express';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { tokensMatch } from '../bridge/tokens.js';
import { loginPage } from './loginPage.js';
import type { LoginThrottle } from './loginThrottle.js';
import type { BoardSessions } from './sessions.js';

export const SESSION_COOKIE = 'autopoll_board';

/** What checks a board request: the token, the live sessions, the throttle on failed attempts. */
export interface BoardAuth {
  token: string;
  sessions: BoardSessions;
  throttle: LoginThrottle;
}

/** One cookie's value from a Cookie header; a well-kept parser is not worth a dependency for one name. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) {
      const value = part.slice(at + 1).trim();
      // A malformed escape (`%E0%A4%A`) is a cookie that proves nothing, not a server error.
      try {
        return decodeURIComponent(value);
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** The address a throttle counts: the client's, through trusted proxies only (express's trust proxy). */
function address(req: Pick<Request, 'ip'>): string {
  return req.ip ?? 'unknown';
}

/**
 * Checks a token at once: the right one is always accepted (see LoginThrottle for why); a wrong one
 * is counted and answered false once the throttle's pause is over, or with the seconds to wait when
 * too many wrong answers of its address already wait.
 */
async function checkToken(req: Pick<Request, 'ip'>, token: string, auth: BoardAuth): Promise<boolean | number> {
  if (tokensMatch(token, auth.token)) return true;
  const answer = auth.throttle.fail(address(req));
  if ('retryAfterSeconds' in answer) return answer.retryAfterSeconds;
  if (answer.waitMs > 0) await sleep(answer.waitMs);
  return false;
}

/**
 * Whether a request is logged in: a Bearer token (checked through the throttle) or a live session
 * cookie. A number is the seconds a guessing address must wait (its wrong token answered 429).
 */
export async function authorize(req: Pick<Request, 'headers' | 'ip'>, auth: BoardAuth): Promise<boolean | number> {
  const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (bearer === undefined) return auth.sessions.valid(readCookie(req.headers.cookie, SESSION_COOKIE));
  return checkToken(req, bearer.trim(), auth);
}

function tooMany(res: Response, seconds: number): Response {
  return res.status(429).set('Retry-After', String(seconds));
}

const TOO_MANY = 'Too many wrong tokens from this address are waiting for their answer (wrong ones are answered slowly); this one was wrong too. Try again in';

/** Only local paths: a login must not redirect to another site. */
const NextSchema = z.string().regex(/^\/(?!\/)[^\s\\]*$/).catch('/');
const LoginSchema = z.object({ token: z.string({ error: 'token is required' }).min(1, 'token is required'), next: z.string().optional() });

/**
 * Gate for every route but the open ones: browsers asking for a page go to the login form,
 * everything else gets 401 with a line that says how to authenticate.
 */
export function requireToken(auth: BoardAuth, open: (path: string) => boolean): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    if (open(req.path)) return next();
    const verdict = await authorize(req, auth);
    if (verdict === true) return next();
    if (typeof verdict === 'number') return tooMany(res, verdict).json({ error: `${TOO_MANY} ${verdict} s (Retry-After).` });
    // Only a browser (asking for HTML by name) is sent to the form; scripts and probes get the 401.
    if (req.method === 'GET' && (req.headers.accept ?? '').includes('text/html')) {
      return res.redirect(302, `/login?next=${encodeURIComponent(req.originalUrl)}`);
    }
    res.status(401).set('WWW-Authenticate', 'Bearer').json({
      error: 'unauthorized: send "Authorization: Bearer <AUTOPOLL_BOARD_TOKEN>" or log in at /login',
    });
  };
}

/** GET /login (the form), POST /login (sets the session cookie), POST /logout (ends every session). */
export function loginRoutes(auth: BoardAuth): Router {
  const router = express.Router();
  router.get('/login', (req, res) => {
    res.type('html').send(loginPage({ next: NextSchema.parse(req.query.next), error: undefined }));
  });
  router.post('/login', express.urlencoded({ extended: false, limit: '4kb' }), async (req, res) => {
    const parsed = LoginSchema.safeParse(req.body);
    const next = NextSchema.parse(parsed.success ? parsed.data.next : undefined);
    const verdict = parsed.success ? await checkToken(req, parsed.data.token, auth) : false;
    if (typeof verdict === 'number') return tooMany(res, verdict).type('html').send(loginPage({ next, error: `${TOO_MANY} ${verdict} seconds.` }));
    if (!verdict) {
      const error = parsed.success ? 'That token is not the board token (AUTOPOLL_BOARD_TOKEN).' : 'Enter the board token (AUTOPOLL_BOARD_TOKEN).';
      return res.status(401).type('html').send(loginPage({ next, error }));
    }
    // Secure when the request came over TLS, as express sees it: behind a proxy, only with --trust-proxy.
    res.cookie(SESSION_COOKIE, auth.sessions.issue(), { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/', maxAge: auth.sessions.ttlSeconds * 1000 });
    res.redirect(303, next);
  });
  router.post('/logout', async (req, res) => {
    // Only a logged-in caller ends everyone's sessions; anyone else would log the operators out.
    if ((await authorize(req, auth)) === true) auth.sessions.revokeAll();
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    res.redirect(303, '/login');
  });
  return router;
}
