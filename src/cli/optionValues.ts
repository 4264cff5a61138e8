import { isIP } from 'node:net';
import { z } from 'zod';
import type { ConversationGrant } from '../bridge/conversations.js';

/** What the values of the flags mean: the zod helpers each option's schema (options.ts) is built from, once options are parsed. */
export { z };

/** A whole number in [min, max]; timers cap durations (setTimeout overflows past ~24 days). */
export const whole = (min: number, max: number) =>
  z.coerce
    .number({ error: 'expected a whole number' })
    .int('expected a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);
export const emptyToUndefined = (v: unknown) => (v === '' ? undefined : v);

/** CONV_ID:TOKEN: a conversation granted by its side-b token. */
export const ConversationSchema = z.string().transform((text, ctx): ConversationGrant => {
  const at = text.indexOf(':');
  const id = at > 0 ? text.slice(0, at).trim() : '';
  const token = at > 0 ? text.slice(at + 1).trim() : '';
  if (!id || !token) {
    // The token is a secret: the message never repeats the input.
    ctx.addIssue({ code: 'custom', message: 'expected CONV_ID:TOKEN, the conversation id and its side-b token separated by a colon' });
    return z.NEVER;
  }
  return { id, token };
});

/** An entry of express's trust proxy list: one of its named ranges, an address, or a subnet. */
function proxyEntry(entry: string): boolean {
  if (['loopback', 'linklocal', 'uniquelocal'].includes(entry)) return true;
  const [addr = '', bits, ...rest] = entry.split('/');
  const family = isIP(addr);
  if (rest.length || family === 0) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
}

/** Express's trust proxy value: a boolean, a hop count, or a comma list of proxies it trusts. */
export const TrustProxySchema = z
  .union([z.boolean(), z.string()])
  .default(false)
  .transform((value, ctx): boolean | number | string => {
    const v = typeof value === 'string' ? value.trim() : value;
    if (v === '' || v === 'false') return false;
    if (v === 'true') return true;
    if (typeof v === 'boolean') return v;
    if (/^\d{1,3}$/.test(v)) return Number(v);
    const bad = v.split(',').map((e) => e.trim()).find((e) => !proxyEntry(e));
    if (bad === undefined) return v;
    ctx.addIssue({
      code: 'custom',
      message: `"${bad}" is not a proxy: expected true, false, a hop count (1: one proxy in front) or a comma list of proxy addresses, subnets (10.0.0.0/8) or loopback, linklocal, uniquelocal`,
    });
    return z.NEVER;
  });
