import { describe, expect, it } from 'vitest';
import { redactAsBridge, redactValues } from '../../src/shared/redact.js';
import { runPython } from './python.js';

const AWS = 'AKIAIOSFODNN7EXAMPLE';
const GHP = `ghp_${'aB3'.repeat(12)}`; // 36 alphanumerics
const SK = `sk-${'xY9'.repeat(16)}`; // 48 alphanumerics
const RSA = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nabc+/=\n-----END RSA PRIVATE KEY-----';

describe('redactAsBridge: each rule of PROTOCOL.md', () => {
  it.each([
    ['AWS access key', `id ${AWS} end`, 'id AWS_KEY_REDACTED end'],
    ['private key block', `before ${RSA} after`, 'before PRIVATE_KEY_REDACTED after'],
    ['bearer token', 'Authorization: Bearer abc.DEF-12_~+/xyz== rest', 'Authorization: BEARER_TOKEN_REDACTED rest'],
    ['password', 'the password: hunter2 ok', 'the PASSWORD_REDACTED ok'],
    ['api key', 'api_key=abc123 ok', 'API_KEY_REDACTED ok'],
    ['secret', 'client_secret="s3cr3t" ok', 'client_SECRET_REDACTED" ok'],
    ['GitHub token', `token ${GHP}.`, 'token GITHUB_TOKEN_REDACTED.'],
    ['OpenAI key', `key ${SK}!`, 'key OPENAI_KEY_REDACTED!'],
  ])('%s', (_name, input, expected) => {
    expect(redactAsBridge(input)).toBe(expected);
  });

  it('leaves near misses alone', () => {
    for (const text of [
      'AKIA123', // too short
      'akiaiosfodnn7example', // AKIA rule is case-sensitive
      'bearer abc', // so is Bearer
      'Bearer', // no token
      'passwordhunter2', // needs a separator
    ]) {
      expect(redactAsBridge(text), text).toBe(text);
    }
    expect(redactAsBridge(`GHP_${'a'.repeat(36)}`)).toBe(`GHP_${'a'.repeat(36)}`);
    expect(redactAsBridge(`ghp_${'a'.repeat(35)}`)).toBe(`ghp_${'a'.repeat(35)}`);
    expect(redactAsBridge(`sk-${'a'.repeat(47)}`)).toBe(`sk-${'a'.repeat(47)}`);
    expect(redactAsBridge(`SK-${'a'.repeat(48)}`)).toBe(`SK-${'a'.repeat(48)}`);
    expect(redactAsBridge('-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----')).toBe(
      '-----BEGIN PUBLIC KEY-----\nabc\n-----END PUBLIC KEY-----',
    );
  });

  it('a word followed by whitespace counts as a separator, as in the bridge', () => {
    expect(redactAsBridge('the secret is out')).toBe('the SECRET_REDACTED out');
  });

  it('password, api_key and secret are case-insensitive', () => {
    expect(redactAsBridge('PASSWORD=x1')).toBe('PASSWORD_REDACTED');
    expect(redactAsBridge('PassWord: x1')).toBe('PASSWORD_REDACTED');
    expect(redactAsBridge('API_KEY=x1')).toBe('API_KEY_REDACTED');
    expect(redactAsBridge('Api-Key: x1')).toBe('API_KEY_REDACTED');
    expect(redactAsBridge('APIKEY x1')).toBe('API_KEY_REDACTED');
    expect(redactAsBridge('SeCrEt=x1')).toBe('SECRET_REDACTED');
  });

  it('private keys match across newlines (DOTALL), non-greedily', () => {
    const ec = '-----BEGIN EC PRIVATE KEY-----\r\nline1\r\nline2\r\n-----END EC PRIVATE KEY-----';
    expect(redactAsBridge(`A\n${RSA}\nB\n${ec}\nC`)).toBe('A\nPRIVATE_KEY_REDACTED\nB\nPRIVATE_KEY_REDACTED\nC');
    expect(redactAsBridge('-----BEGIN PRIVATE KEY-----\n\n\nx\n-----END PRIVATE KEY-----')).toBe('PRIVATE_KEY_REDACTED');
  });

  it('replaces every occurrence, not just the first', () => {
    expect(redactAsBridge(`${AWS} ${AWS} password=a password=b`)).toBe(
      'AWS_KEY_REDACTED AWS_KEY_REDACTED PASSWORD_REDACTED PASSWORD_REDACTED',
    );
  });

  it('applies the rules in the table order', () => {
    // Bearer (rule 3) runs before password (rule 4): it eats "password=" as token characters.
    expect(redactAsBridge('Bearer password=abc')).toBe('BEARER_TOKEN_REDACTEDabc');
    // ...and a bearer token after "password:" is replaced first, then the password rule takes it.
    expect(redactAsBridge('password: Bearer xyz')).toBe('PASSWORD_REDACTED');
    // password (4) before secret (6): "secret:" is taken as the password's value.
    expect(redactAsBridge('password: secret: abc')).toBe('PASSWORD_REDACTED abc');
    // api_key (5) before secret (6).
    expect(redactAsBridge('api_key=secret: abc')).toBe('API_KEY_REDACTED abc');
  });

  it("gives the same text as the bridge's Python re.sub on a set of inputs", () => {
    const inputs = [
      `id ${AWS} end`,
      `before ${RSA} after`,
      `x ${RSA} y ${RSA} z`,
      'Authorization: Bearer abc.DEF-12_~+/xyz== rest',
      'Bearer password=abc',
      'password: Bearer xyz',
      'password: secret: abc',
      'api_key=secret: abc',
      'PASSWORD="hunter2"',
      'my Api-Key:\t\tk123 and SECRET = v',
      `${GHP} ${SK} ${AWS}`,
      'nothing to see',
      'pässword=x, clé secret:ü€😀',
      '{"password": "p", "api_key": "k", "note": "Bearer t0k"}',
      '',
      // Unicode case folding and Python's notion of whitespace.
      '\u017fecret=abc',
      'api_\u212aey=abc',
      'password=abc\ufeffdef',
      'password=abc\x1cdef secret=x\x85y',
      'password:\u3000abc\u00a0def',
    ];
    const expected = runPython(
      [
        'import re',
        'RULES = [',
        "  (r'AKIA[0-9A-Z]{16}', 'AWS_KEY_REDACTED'),",
        "  (r'-----BEGIN[^-]+PRIVATE KEY-----.*?-----END[^-]+PRIVATE KEY-----', 'PRIVATE_KEY_REDACTED'),",
        "  (r'Bearer [A-Za-z0-9\\-._~+/]+=*', 'BEARER_TOKEN_REDACTED'),",
        '  (r\'(?i)password["\\s:=]+[^\\s"]+\', \'PASSWORD_REDACTED\'),',
        '  (r\'(?i)api[_-]?key["\\s:=]+[^\\s"]+\', \'API_KEY_REDACTED\'),',
        '  (r\'(?i)secret["\\s:=]+[^\\s"]+\', \'SECRET_REDACTED\'),',
        "  (r'ghp_[A-Za-z0-9]{36}', 'GITHUB_TOKEN_REDACTED'),",
        "  (r'sk-[A-Za-z0-9]{48}', 'OPENAI_KEY_REDACTED'),",
        ']',
        'def redact(t):',
        '  for p, r in RULES: t = re.sub(p, r, t, flags=re.DOTALL)',
        '  return t',
        'out = [redact(t) for t in data]',
      ].join('\n'),
      inputs,
    ) as string[];
    expect(expected).toHaveLength(inputs.length);
    expect(expected[0]).toBe('id AWS_KEY_REDACTED end'); // the Python side really redacts
    expect(inputs.map(redactAsBridge)).toEqual(expected);
  });
});

describe('redactValues', () => {
  it('redacts strings inside nested objects and arrays and reports it', () => {
    const input = {
      type: 'response',
      answer: 'use password=hunter2 here',
      sources: ['a.md:1', `key ${AWS}`],
      nested: { deep: [{ note: `Bearer tok.en` }, 7, null, true], n: 3.5 },
      empty: [],
    };
    const copy = structuredClone(input);
    const { value, redacted } = redactValues(input);
    expect(redacted).toBe(true);
    expect(value).toEqual({
      type: 'response',
      answer: 'use PASSWORD_REDACTED here',
      sources: ['a.md:1', 'key AWS_KEY_REDACTED'],
      nested: { deep: [{ note: 'BEARER_TOKEN_REDACTED' }, 7, null, true], n: 3.5 },
      empty: [],
    });
    expect(input).toEqual(copy); // the input is not mutated
    expect(Array.isArray(value.sources)).toBe(true);
  });

  it('reports redacted=false and keeps every value when nothing matches', () => {
    const input = { a: 'plain', b: ['x', { c: 'y' }], d: 0, e: false, f: null };
    const { value, redacted } = redactValues(input);
    expect(redacted).toBe(false);
    expect(value).toEqual(input);
  });

  it('handles bare strings and non-strings at the top level', () => {
    expect(redactValues(`x ${SK}`)).toEqual({ value: 'x OPENAI_KEY_REDACTED', redacted: true });
    expect(redactValues('fine')).toEqual({ value: 'fine', redacted: false });
    expect(redactValues(42)).toEqual({ value: 42, redacted: false });
    expect(redactValues(null)).toEqual({ value: null, redacted: false });
  });

  it('finds a secret deep inside an array of arrays', () => {
    const { value, redacted } = redactValues([[['ok', ['secret: 1']]]]);
    expect(redacted).toBe(true);
    expect(value).toEqual([[['ok', ['SECRET_REDACTED']]]]);
  });
});
