/**
 * What an unattended answering session does without: telemetry, update checks, CLAUDE.md files
 * from its folder (another agent's questions must not pick up local instructions), checkpoints
 * of files it never edits, background tasks. The consumer's own environment overrides these.
 */
export const SESSION_ENV_DEFAULTS: Readonly<Record<string, string>> = {
  DISABLE_TELEMETRY: '1',
  DISABLE_ERROR_REPORTING: '1',
  DISABLE_AUTOUPDATER: '1',
  CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
  CLAUDE_CODE_DISABLE_CLAUDE_MDS: '1',
  CLAUDE_CODE_DISABLE_FILE_CHECKPOINTING: '1',
  CLAUDE_CODE_DISABLE_BACKGROUND_TASKS: '1',
  CLAUDE_CODE_DISABLE_TERMINAL_TITLE: '1',
  // Bun's own GC timer collects whenever the process waits, and a session waits for the API on
  // every turn: with it, a turn at 1.5 s latency cost about twice the CPU of one at none (most of
  // it in GC threads); JavaScriptCore's allocation-driven collection still runs, and recycling
  // (--max-turns-per-session) bounds the slower-shrinking heap (~25% more RSS a session).
  BUN_GC_TIMER_DISABLE: '1',
  // JavaScriptCore's top JIT tier: a session lives for tens of turns, too few to win back what
  // compiling its hottest code again costs. Without it, 32 sessions at 1.5 s latency answered ~7%
  // more a second on 2 cores (bench/README.md#capacity). Either is undone by naming it in
  // --claude-env with the runtime's default (BUN_GC_TIMER_DISABLE=0, BUN_JSC_useFTLJIT=1).
  BUN_JSC_useFTLJIT: '0',
};

/**
 * Variables of autopoll's own that hold secrets: never passed to Claude Code, not even when an
 * operator names them in --claude-env.
 */
export const SECRET_VARIABLES: readonly string[] = ['REDIS_URL', 'AUTOPOLL_CONVERSATIONS', 'AUTOPOLL_BOARD_TOKEN', 'AUTOPOLL_ASK_TOKEN'];

/**
 * What Claude Code needs to run and reach the API: the process basics (PATH, HOME, user, shell,
 * locale, time zone, temp folder), proxies in both spellings, CA certificates, the config folder.
 */
const NAMES = new Set([
  'PATH', 'HOME', 'USER', 'LOGNAME', 'SHELL', 'LANG', 'LANGUAGE', 'TZ', 'TMPDIR',
  'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'no_proxy', 'all_proxy',
  'NODE_EXTRA_CA_CERTS', 'XDG_CONFIG_HOME',
  // Knobs Claude Code documents without a prefix of its own.
  'MAX_THINKING_TOKENS', 'API_TIMEOUT_MS', 'USE_BUILTIN_RIPGREP',
  // Vertex's settings (CLAUDE_CODE_USE_VERTEX); Bedrock's are AWS_*.
  'CLOUD_ML_REGION', 'GOOGLE_APPLICATION_CREDENTIALS', 'GOOGLE_CLOUD_PROJECT',
]);

/**
 * API settings and credentials (ANTHROPIC_*), Claude Code's own knobs (CLAUDE_*, CLAUDE_CODE_*,
 * DISABLE_*), locale (LC_*), CA bundles (SSL_CERT_*), and the cloud providers' chains it may be
 * switched to (AWS_*, VERTEX_REGION_*).
 */
const PREFIXES = ['ANTHROPIC_', 'CLAUDE_', 'DISABLE_', 'LC_', 'SSL_CERT_', 'AWS_', 'VERTEX_REGION_'];

/**
 * The environment a Claude Code session gets: the allowlisted variables of `env`, and the ones an
 * operator adds by name; never autopoll's own (REDIS_URL, AUTOPOLL_*: tokens, the board token).
 * Pure; credentials.ts reads the same, so it judges what the session will see.
 */
export function sessionEnv(env: NodeJS.ProcessEnv, extra: readonly string[] = []): Record<string, string> {
  const allowed = (name: string) =>
    !SECRET_VARIABLES.includes(name) && (NAMES.has(name) || PREFIXES.some((p) => name.startsWith(p)) || extra.includes(name));
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined && allowed(e[0])));
}
