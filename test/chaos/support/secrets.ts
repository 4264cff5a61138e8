/**
 * PROTOCOL.md's redaction table, written out again from the page (not taken from src/), in its
 * order, `.` matching newlines (DOTALL), `(?i)` as the `i` flag. The texts these tests redact
 * use ASCII spaces only, where JavaScript's and Python's `\s` agree.
 */
const PROTOCOL_RULES: Array<[RegExp, string]> = [
  [/AKIA[0-9A-Z]{16}/gs, 'AWS_KEY_REDACTED'],
  [/-----BEGIN[^-]+PRIVATE KEY-----.*?-----END[^-]+PRIVATE KEY-----/gs, 'PRIVATE_KEY_REDACTED'],
  [/Bearer [A-Za-z0-9\-._~+/]+=*/gs, 'BEARER_TOKEN_REDACTED'],
  [/password["\s:=]+[^\s"]+/gis, 'PASSWORD_REDACTED'],
  [/api[_-]?key["\s:=]+[^\s"]+/gis, 'API_KEY_REDACTED'],
  [/secret["\s:=]+[^\s"]+/gis, 'SECRET_REDACTED'],
  [/ghp_[A-Za-z0-9]{36}/gs, 'GITHUB_TOKEN_REDACTED'],
  [/sk-[A-Za-z0-9]{48}/gs, 'OPENAI_KEY_REDACTED'],
];

export function protocolRedact(text: string): string {
  let out = text;
  for (const [pattern, replacement] of PROTOCOL_RULES) out = out.replace(pattern, replacement);
  return out;
}

/** A secret to look for, and what it is (for the failure message). */
export type Needle = readonly [label: string, text: string];

/**
 * The needles found in `haystack`, raw or JSON-escaped (as they sit inside job data), each with
 * a little of the text around its first hit.
 */
export function leaksIn(haystack: string, needles: readonly Needle[]): string[] {
  const found: string[] = [];
  for (const [label, needle] of needles) {
    for (const form of [needle, JSON.stringify(needle).slice(1, -1)]) {
      const at = haystack.indexOf(form);
      if (at < 0) continue;
      found.push(`${label}: ...${haystack.slice(Math.max(0, at - 120), at + form.length + 40)}...`);
      break;
    }
  }
  return found;
}
