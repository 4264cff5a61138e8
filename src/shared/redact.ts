import { knownSecrets } from './knownSecrets.js';

/**
 * Python's `\s` for str patterns (str.isspace): JavaScript's differs (it has U+FEFF, lacks
 * U+001C-U+001F and U+0085), and a secret must end where the bridge's regex ends it.
 */
const PY_SPACE = '\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

/** `(?i)key["\s:=]+[^\s"]+` with Python's \s; `u` gives Python's Unicode case folding (ſ, K). */
function keyValueRule(key: string): RegExp {
  return new RegExp(`${key}["${PY_SPACE}:=]+[^${PY_SPACE}"]+`, 'gisu');
}

/**
 * The bridge's secret redaction rules, in the bridge's order (PROTOCOL.md). Python's `re.DOTALL`
 * is the `s` flag; `(?i)` is `i`.
 */
const RULES: ReadonlyArray<readonly [RegExp, string]> = [
  [/AKIA[0-9A-Z]{16}/gs, 'AWS_KEY_REDACTED'],
  [/-----BEGIN[^-]+PRIVATE KEY-----.*?-----END[^-]+PRIVATE KEY-----/gs, 'PRIVATE_KEY_REDACTED'],
  [/Bearer [A-Za-z0-9\-._~+/]+=*/gs, 'BEARER_TOKEN_REDACTED'],
  [keyValueRule('password'), 'PASSWORD_REDACTED'],
  [keyValueRule('api[_-]?key'), 'API_KEY_REDACTED'],
  [keyValueRule('secret'), 'SECRET_REDACTED'],
  [/ghp_[A-Za-z0-9]{36}/gs, 'GITHUB_TOKEN_REDACTED'],
  [/sk-[A-Za-z0-9]{48}/gs, 'OPENAI_KEY_REDACTED'],
];

/**
 * Any rule's match, in one pass: most texts hold no secret and leave after this test. Case-
 * insensitive for every rule, so it matches a superset of what the rules match.
 */
const ANY_RULE = new RegExp(RULES.map(([pattern]) => pattern.source).join('|'), 'isu');

/**
 * The bridge's own redaction, byte for byte (PROTOCOL.md): what its send_message stores. Only for
 * text autopoll sends as the bridge's client would (side `a`'s questions); everything else uses
 * redactText.
 */
export function redactAsBridge(text: string): string {
  if (!ANY_RULE.test(text)) return text;
  let out = text;
  for (const [pattern, replacement] of RULES) out = out.replace(pattern, replacement);
  return out;
}

/**
 * The secrets this process knows (conversation tokens, board token, Redis password, Anthropic
 * credentials; see knownSecrets.ts) replaced first, so that no bridge rule cuts one in pieces,
 * then the bridge's rules: a row stays what the bridge's own send would store for it.
 */
export function redactText(text: string): string {
  return redactAsBridge(knownSecrets.redact(text));
}

/**
 * Redacts every string inside a JSON-able value. The bridge redacts the serialised text, which
 * can break the JSON; redacting the values first keeps it valid and hides the same secrets.
 */
export function redactValues<T>(value: T): { value: T; redacted: boolean } {
  let redacted = false;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const r = redactText(v);
      if (r !== v) redacted = true;
      return r;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  return { value: walk(value) as T, redacted };
}
