import type { NextFunction, Request, RequestHandler, Response, Router } from 'express';
import express from 'express';
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { tokensMatch } from '../producer/ConversationRegistry.js';
import { loginPage } from './loginPage.js';

export const SESSION_COOKIE = 'autopoll_board';

/** The cookie proves a login without holding the token itself: a stolen cookie does not reveal it. */
export function sessionCookieValue(token: string): string {
  return createHmac('sha256', token).update('autopoll-board-session').digest('hex');
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

export function isAuthorized(req: Pick<Request, 'headers'>, token: string): boolean {
  const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
  if (bearer !== undefined) return tokensMatch(bearer.trim(), token);
  const cookie = readCookie(req.headers.cookie, SESSION_COOKIE);
  return cookie !== undefined && tokensMatch(cookie, sessionCookieValue(token));
}

/** Only local paths: a login must not redirect to another site. */
const NextSchema = z.string().regex(/^\/(?!\/)[^\s\\]*$/).catch('/');
const LoginSchema = z.object({ token: z.string({ error: 'token is required' }).min(1, 'token is required'), next: z.string().optional() });

/**
 * Gate for every route but the open ones: browsers asking for a page go to the login form,
 * everything else gets 401 with a line that says how to authenticate.
 */
export function requireToken(token: string, open: (path: string) => boolean): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (open(req.path) || isAuthorized(req, token)) return next();
    // Only a browser (asking for HTML by name) is sent to the form; scripts and probes get the 401.
    if (req.method === 'GET' && (req.headers.accept ?? '').includes('text/html')) {
      return res.redirect(302, `/login?next=${encodeURIComponent(req.originalUrl)}`);
    }
    res.status(401).set('WWW-Authenticate', 'Bearer').json({
      error: 'unauthorized: send "Authorization: Bearer <AUTOPOLL_BOARD_TOKEN>" or log in at /login',
    });
  };
}

/** GET /login (the form), POST /login (sets the session cookie), POST /logout. */
export function loginRoutes(token: string): Router {
  const router = express.Router();
  router.get('/login', (req, res) => {
    res.type('html').send(loginPage({ next: NextSchema.parse(req.query.next), error: undefined }));
  });
  router.post('/login', express.urlencoded({ extended: false, limit: '4kb' }), (req, res) => {
    const parsed = LoginSchema.safeParse(req.body);
    const next = NextSchema.parse(parsed.success ? parsed.data.next : undefined);
    if (!parsed.success || !tokensMatch(parsed.data.token, token)) {
      const error = parsed.success ? 'That token is not the board token (AUTOPOLL_BOARD_TOKEN).' : 'Enter the board token (AUTOPOLL_BOARD_TOKEN).';
      return res.status(401).type('html').send(loginPage({ next, error }));
    }
    res.cookie(SESSION_COOKIE, sessionCookieValue(token), { httpOnly: true, sameSite: 'strict', secure: req.secure, path: '/' });
    res.redirect(303, next);
  });
  router.post('/logout', (_req, res) => {
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    res.redirect(303, '/login');
  });
  return router;
}
