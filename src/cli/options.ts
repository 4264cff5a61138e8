import { Option, type Command } from 'commander';
import type { z } from 'zod';
import { BUSY_TIMEOUT_MS } from '../bridge/busyTimeout.js';
import { DEFAULT_CONTEXT_ROOT } from '../shared/ownedFiles.js';
import { SECRET_VARIABLES } from '../consumer/claude/sessionEnv.js';
import type * as OptionValues from './optionValues.js';

/**
 * Every flag once: its environment twin, default, help and zod schema. Commander reads flags
 * and environment; zod then checks the result (parseOptions.ts), and an error names the flag and the variable.
 *
 * This module loads no zod: `--help` needs only the flags, and zod is a third of its time. So each
 * schema is a function of the zod helpers (optionValues.ts), called only when the options are parsed.
 */
export interface Spec {
  flags: string;
  env: string;
  help: string;
  default?: string;
  schema: (values: typeof OptionValues) => z.ZodType;
  /** Repeatable flag whose environment twin is a comma list. */
  list?: boolean;
}

const DAY_SECONDS = 86_400;
const DAY_MS = DAY_SECONDS * 1000;

/**
 * The side-b role `up` serves and `ask` asks when told neither --role nor --conversation: `npm start`
 * and `autopoll ask "..."` then meet with no flag, the newcomer's first ten minutes. Not `producer`'s:
 * it runs against shared bridges, where taking another shard's questions would be wrong.
 */
export const DEFAULT_ROLE = 'haiku_shard';

export const COMMON = {
  redis: {
    flags: '--redis <url>', env: 'REDIS_URL', default: 'redis://127.0.0.1:6379',
    help: 'Redis: redis://[USER:PASSWORD@]HOST:PORT[/DB] (rediss:// for TLS), a Sentinel set redis-sentinel://HOST:PORT[,HOST:PORT...]/MASTER_NAME[?db=N], or with --redis-cluster seed nodes redis://HOST:PORT[,HOST:PORT...]; with a password, prefer the variable: flags show in ps',
    // The whole check needs --redis-cluster too: see crossIssues.
    schema: ({ z }) => z.string().min(1, 'expected a Redis URL'),
  },
  redisCluster: {
    flags: '--redis-cluster', env: 'AUTOPOLL_REDIS_CLUSTER',
    help: 'the Redis is a Redis Cluster and --redis lists seed nodes; --prefix must be hash-tagged, e.g. {autopoll} (env: any value turns it on)',
    schema: ({ z }) => z.boolean().default(false),
  },
  prefix: {
    flags: '--prefix <prefix>', env: 'AUTOPOLL_PREFIX', default: '{autopoll}',
    help: 'BullMQ key prefix, so several deployments share one Redis; one bridge file per prefix (hash-tagged for Redis Cluster)',
    schema: ({ z }) => z.string().min(1).refine((p) => !p.includes(':'), 'must not contain ":"'),
  },
  logLevel: {
    flags: '--log-level <level>', env: 'LOG_LEVEL', default: 'info', help: 'pino log level',
    schema: ({ z }) => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  },
  logFormat: {
    flags: '--log-format <format>', env: 'AUTOPOLL_LOG_FORMAT',
    help: 'json (one pino JSON object a line) or pretty (readable lines); default: pretty when stdout is a terminal, json otherwise',
    // Decided when the options are read, not in commander: --help shows no default that depends on where it is printed.
    schema: ({ z, emptyToUndefined }) => z.preprocess(emptyToUndefined, z.enum(['json', 'pretty']).default(() => (process.stdout.isTTY ? 'pretty' : 'json'))),
  },
  shutdownTimeout: {
    flags: '--shutdown-timeout <seconds>', env: 'AUTOPOLL_SHUTDOWN_TIMEOUT', default: '30',
    help: 'on SIGTERM/SIGINT, how long in-flight work may take before it is handed back', schema: ({ whole }) => whole(0, DAY_SECONDS),
  },
} satisfies Record<string, Spec>;

export const PRODUCER = {
  bridgeDb: { flags: '--bridge-db <path>', env: 'BRIDGE_DB', default: './data/bridge.db', help: 'bridge SQLite file (created with the bridge schema if missing)', schema: ({ z }) => z.string().min(1) },
  conversation: {
    flags: '--conversation <CONV_ID:TOKEN>', env: 'AUTOPOLL_CONVERSATIONS', list: true,
    help: 'serve this conversation, checked against its side-b token (repeatable; env: comma list); prefer the variable: flags show in ps',
    schema: ({ z, ConversationSchema }) => z.array(ConversationSchema).default([]),
  },
  role: { flags: '--role <role>', env: 'AUTOPOLL_ROLE', help: "serve every unexpired conversation whose session_b_role is this", schema: ({ z, emptyToUndefined }) => z.preprocess(emptyToUndefined, z.string().min(1).optional()) },
  contextRoot: {
    flags: '--context-root <dir>', env: 'AUTOPOLL_CONTEXT_ROOT', default: DEFAULT_CONTEXT_ROOT,
    help: "queries' context_file must resolve inside this folder (the default one is created; a folder holding the bridge file or data/redis is refused)", schema: ({ z }) => z.string().min(1),
  },
  contextMaxBytes: { flags: '--context-max-bytes <n>', env: 'AUTOPOLL_CONTEXT_MAX_BYTES', default: '200000', help: "a context is cut to this many bytes as the job carries it (numbered, redacted), and says it was cut", schema: ({ whole }) => whole(1, 10_000_000) },
  pollIntervalMs: { flags: '--poll-interval-ms <ms>', env: 'AUTOPOLL_POLL_INTERVAL_MS', default: '250', help: 'fallback poll of the bridge, besides watching it', schema: ({ whole }) => whole(10, 60_000) },
  busyTimeoutMs: {
    flags: '--busy-timeout-ms <ms>', env: 'AUTOPOLL_BUSY_TIMEOUT_MS', default: String(BUSY_TIMEOUT_MS.producer),
    help: 'SQLite busy timeout per statement (it blocks the process); longer locks are retried without blocking', schema: ({ whole }) => whole(0, 60_000),
  },
  reconcileInterval: { flags: '--reconcile-interval <seconds>', env: 'AUTOPOLL_RECONCILE_INTERVAL', default: '60', help: 're-enqueue ledger questions that Redis lost, this often', schema: ({ whole }) => whole(1, DAY_SECONDS) },
  maxQueued: {
    flags: '--max-queued <n>', env: 'AUTOPOLL_MAX_QUEUED', default: '10000',
    help: 'stop taking questions from the bridge while the questions queue holds this many waiting jobs (they stay unread until consumers catch up)',
    schema: ({ whole }) => whole(1, 10_000_000),
  },
  heartbeatInterval: { flags: '--heartbeat-interval <seconds>', env: 'AUTOPOLL_HEARTBEAT_INTERVAL', default: '15', help: "refresh side b's session_status this often (under 120: askers count b dead after 120 s)", schema: ({ whole }) => whole(1, 119) },
} satisfies Record<string, Spec>;

export const CONSUMER = {
  sessions: { flags: '--sessions <n>', env: 'AUTOPOLL_SESSIONS', default: '2', help: 'questions answered at once: the most Claude Code sessions (one question each)', schema: ({ whole }) => whole(1, 1000) },
  minSessions: {
    flags: '--min-sessions <n>', env: 'AUTOPOLL_MIN_SESSIONS', default: '1',
    help: 'Claude Code sessions kept warm with no question waiting (at most --sessions); more start as questions come',
    schema: ({ whole }) => whole(1, 1000),
  },
  sessionIdleTimeout: {
    flags: '--session-idle-timeout <seconds>', env: 'AUTOPOLL_SESSION_IDLE_TIMEOUT', default: '60',
    help: 'a session beyond --min-sessions (and what recent questions need) closes after this long without a turn',
    schema: ({ whole }) => whole(1, DAY_SECONDS),
  },
  attempts: { flags: '--attempts <n>', env: 'AUTOPOLL_ATTEMPTS', default: '5', help: 'tries per question before an error response', schema: ({ whole }) => whole(1, 100) },
  backoffMs: { flags: '--backoff-ms <ms>', env: 'AUTOPOLL_BACKOFF_MS', default: '1000', help: 'first retry delay, doubled on each further try', schema: ({ whole }) => whole(0, DAY_MS) },
  maxDefer: {
    flags: '--max-defer <seconds>', env: 'AUTOPOLL_MAX_DEFER', default: '1800',
    help: 'a question the Claude API keeps rate limiting (429/529) waits, longer each time (up to 5 minutes), for at most this long since its first rate limit; then its asker gets an error response rate_limited (replay it with `autopoll replay`)',
    schema: ({ whole }) => whole(1, 7 * DAY_SECONDS),
  },
  answerer: { flags: '--answerer <name>', env: 'AUTOPOLL_ANSWERER', default: 'claude', help: 'who answers: claude (persistent Claude Code sessions) or stub', schema: ({ z }) => z.enum(['claude', 'stub']) },
  model: { flags: '--model <model>', env: 'AUTOPOLL_MODEL', default: 'haiku', help: 'model Claude Code answers with', schema: ({ z }) => z.string().min(1) },
  turnTimeout: { flags: '--turn-timeout <seconds>', env: 'AUTOPOLL_TURN_TIMEOUT', default: '120', help: 'a turn running longer is interrupted (and its session killed if it does not stop)', schema: ({ whole }) => whole(1, DAY_SECONDS) },
  maxTurnsPerSession: { flags: '--max-turns-per-session <n>', env: 'AUTOPOLL_MAX_TURNS_PER_SESSION', default: '50', help: 'a session process is replaced after this many turns', schema: ({ whole }) => whole(1, 1_000_000) },
  maxContextTokens: { flags: '--max-context-tokens <n>', env: 'AUTOPOLL_MAX_CONTEXT_TOKENS', default: '100000', help: 'a session is replaced once a turn carries more context than this', schema: ({ whole }) => whole(1000, 10_000_000) },
  sessionMemory: {
    flags: '--session-memory <mode>', env: 'AUTOPOLL_SESSION_MEMORY', default: 'none',
    help: 'none: each question starts a fresh conversation; conversation: follow-ups of one bridge conversation keep their context on a slot',
    schema: ({ z }) => z.enum(['none', 'conversation']),
  },
  toolsRoot: { flags: '--tools-root <dir>', env: 'AUTOPOLL_TOOLS_ROOT', help: 'give the sessions read-only tools (Read, Grep, Glob) inside this folder (default: no tools; the context travels in the prompt); a folder holding the bridge file, data/redis or any SQLite file is refused', schema: ({ z, emptyToUndefined }) => z.preprocess(emptyToUndefined, z.string().min(1).optional()) },
  stubLatencyMs: { flags: '--stub-latency-ms <ms>', env: 'AUTOPOLL_STUB_LATENCY_MS', default: '0', help: "the stub answerer's time per answer", schema: ({ whole }) => whole(0, DAY_MS) },
  lockDurationMs: { flags: '--lock-duration-ms <ms>', env: 'AUTOPOLL_LOCK_DURATION_MS', default: '30000', help: "how soon a dead consumer's question goes to another", schema: ({ whole }) => whole(1000, DAY_MS) },
  claudeEnv: {
    flags: '--claude-env <NAME>', env: 'AUTOPOLL_CLAUDE_ENV', list: true,
    help: "also pass this variable of the consumer's environment to Claude Code, besides the ones it needs (API settings, proxies, HOME, PATH, locale, CLAUDE_*) (repeatable; env: comma list)",
    schema: ({ z }) => z.array(
      z.string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a variable name: letters, digits and _')
        .refine((name) => !SECRET_VARIABLES.includes(name), { error: (issue) => `${String(issue.input)} holds a secret of autopoll's: Claude Code never gets it` }),
    ).default([]),
  },
  name: { flags: '--name <name>', env: 'AUTOPOLL_NAME', help: 'worker name, as BullMQ lists its workers (default: host-pid)', schema: ({ z, emptyToUndefined }) => z.preprocess(emptyToUndefined, z.string().min(1).optional()) },
} satisfies Record<string, Spec>;

/** The operator server (Bull Board, /healthz, /readyz, /metrics) of every long-running command. */
export const SERVER = {
  host: { flags: '--host <host>', env: 'AUTOPOLL_HOST', default: '127.0.0.1', help: 'address the operator server binds to (a non-loopback one needs AUTOPOLL_BOARD_TOKEN)', schema: ({ z }) => z.string().min(1) },
  port: {
    flags: '--port <port>', env: 'AUTOPOLL_PORT',
    help: 'port of the operator server (/healthz, /readyz, /metrics); 0 picks a free one; producer and consumer serve none unless it is set',
    schema: ({ z, whole, emptyToUndefined }) => z.preprocess(emptyToUndefined, whole(0, 65_535).optional()),
  },
  boardToken: {
    flags: '--board-token <token>', env: 'AUTOPOLL_BOARD_TOKEN',
    help: 'token the board (and, off loopback, the probes) require, as a Bearer header or a login; prefer the variable: flags show in ps',
    schema: ({ z, emptyToUndefined }) => z.preprocess(emptyToUndefined, z.string().min(16, 'use at least 16 characters, e.g. `openssl rand -hex 32`').optional()),
  },
  sessionTtl: {
    flags: '--session-ttl <seconds>', env: 'AUTOPOLL_SESSION_TTL', default: '43200',
    help: 'a board login lasts this long (its cookie\'s Max-Age); a logout ends every login at once, and so does a restart',
    schema: ({ whole }) => whole(1, 30 * DAY_SECONDS),
  },
  trustProxy: {
    flags: '--trust-proxy [value]', env: 'AUTOPOLL_TRUST_PROXY',
    help: "behind a TLS-terminating proxy: believe its X-Forwarded-Proto (the login cookie gets Secure) and X-Forwarded-For (the login throttle's address); express's trust proxy value: true, a hop count (1: one proxy, safer than true, with which a client names its own address) or the proxies' addresses/subnets",
    schema: ({ TrustProxySchema }) => TrustProxySchema,
  },
} satisfies Record<string, Spec>;

/** `board` and `up`: the server always runs, on port 3000 unless told otherwise. */
export const BOARD = {
  ...SERVER,
  port: { ...SERVER.port, default: '3000', help: 'port of the board and probes; 0 picks a free one (logged)' },
  readOnly: { flags: '--read-only', env: 'AUTOPOLL_READ_ONLY', help: "Bull Board's read-only mode: no retries, removals or pauses", schema: ({ z }) => z.boolean().default(false) },
} satisfies Record<string, Spec>;

/** `up` only: where it looks for a Redis, and starts its own, when --redis is not given. */
export const PRIVATE_REDIS = {
  privateRedisPort: {
    flags: '--private-redis-port <port>', env: 'AUTOPOLL_PRIVATE_REDIS_PORT', default: '6379',
    help: 'without --redis (env REDIS_URL): use the Redis already answering on 127.0.0.1 at this port, or else start a private one there with a random password (kept in ./data/redis/url, which the other commands of this folder read)',
    schema: ({ whole }) => whole(1, 65_535),
  },
} satisfies Record<string, Spec>;

/** The Redis an operator command reads once (status, replay): where it is, and the deployment's key prefix. */
export const OPERATOR_REDIS = { redis: COMMON.redis, redisCluster: COMMON.redisCluster, prefix: COMMON.prefix } satisfies Record<string, Spec>;

/** The bridge file as the operator commands use it: an existing one, never created. */
const existingBridgeDb = { ...PRODUCER.bridgeDb, help: 'bridge SQLite file (must exist; these commands never create it)' };
const json = { flags: '--json', env: 'AUTOPOLL_JSON', help: 'print JSON instead of text (env: any value turns it on)', schema: ({ z }) => z.boolean().default(false) } satisfies Spec;

/** `status`: a snapshot of conversations, ledger, queues, consumers and producers. */
export const STATUS = { bridgeDb: existingBridgeDb, json } satisfies Record<string, Spec>;

/** `ask`: one question as side `a`, in a conversation it creates or is given. */
export const ASK = {
  bridgeDb: existingBridgeDb,
  role: { flags: '--role <role>', env: 'AUTOPOLL_ROLE', help: `session_b_role of the conversation ask creates: the role the producer serves (default without --conversation: ${DEFAULT_ROLE}, what \`up\` serves by default)`, schema: PRODUCER.role.schema },
  conversation: {
    flags: '--conversation <id>', env: 'AUTOPOLL_ASK_CONVERSATION', help: 'ask in this existing conversation, as its side a (with --token)',
    schema: ({ z, emptyToUndefined }) => z.preprocess(emptyToUndefined, z.string().regex(/^conv_[0-9a-f]{16}$/, 'expected a conversation id: conv_ and 16 lowercase hex digits').optional()),
  },
  token: {
    flags: '--token <token>', env: 'AUTOPOLL_ASK_TOKEN', help: "the conversation's side-a token (session_a_token); prefer the variable: flags show in ps",
    // The token is a secret: the message never repeats the input.
    schema: ({ z, emptyToUndefined }) => z.preprocess(emptyToUndefined, z.string().regex(/^[0-9a-f]{64}$/, 'expected the 64 lowercase hex digits of a side-a token').optional()),
  },
  wait: { flags: '--wait <seconds>', env: 'AUTOPOLL_ASK_WAIT', default: '120', help: 'how long to wait for the answer', schema: ({ whole }) => whole(1, DAY_SECONDS) },
  contextFile: { flags: '--context-file <path>', env: 'AUTOPOLL_ASK_CONTEXT_FILE', help: "the query's context_file (resolved by the producer, inside its --context-root)", schema: ({ z, emptyToUndefined }) => z.preprocess(emptyToUndefined, z.string().min(1).optional()) },
  json,
} satisfies Record<string, Spec>;

/** `mcp`: side `a` for a Claude session, as an MCP server on stdio. */
export const MCP = {
  bridgeDb: existingBridgeDb,
  role: { flags: '--role <role>', env: 'AUTOPOLL_ROLE', help: `session_b_role of the conversation the server creates and renews: the role the shard serves (default without --conversation: ${DEFAULT_ROLE})`, schema: PRODUCER.role.schema },
  conversation: {
    flags: '--conversation <id>', env: 'AUTOPOLL_MCP_CONVERSATION', help: 'ask in this existing conversation as its side a, its side-a token in the variable AUTOPOLL_MCP_TOKEN (never a flag: flags show in ps); it is not renewed',
    schema: ASK.conversation.schema,
  },
  wait: { flags: '--wait <seconds>', env: 'AUTOPOLL_MCP_WAIT', default: '300', help: 'how long ask and get_answer wait for the answer when a call gives no wait_seconds', schema: ({ whole }) => whole(0, DAY_SECONDS) },
  renewBefore: {
    flags: '--renew-before <seconds>', env: 'AUTOPOLL_MCP_RENEW_BEFORE', default: '900',
    help: "a new conversation is created once the current one has less than this left (the bridge refuses a conversation's tokens 3 h after it is made)",
    schema: ({ whole }) => whole(0, 3 * 3600 - 60),
  },
  progressInterval: { flags: '--progress-interval <seconds>', env: 'AUTOPOLL_MCP_PROGRESS_INTERVAL', default: '5', help: 'how often a waiting call sends an MCP progress notification (clients that reset their timeout on progress then never time out)', schema: ({ whole }) => whole(1, 3600) },
  contextRoot: {
    flags: '--context-root <dir>', env: 'AUTOPOLL_CONTEXT_ROOT',
    help: "the shard's --context-root as an absolute path, when this host shares the shard's files: a context_file the shard would refuse is refused before it is asked (without it the shard judges)",
    schema: ({ z, emptyToUndefined }) => z.preprocess(emptyToUndefined, z.string().refine((p) => p.startsWith('/'), 'give an absolute path: the server runs in its client\'s folder, not the shard\'s').optional()),
  },
  pollIntervalMs: PRODUCER.pollIntervalMs,
} satisfies Record<string, Spec>;

/** `doctor`'s own flags; it also takes the flags of what it checks (Redis, bridge, conversations, Claude). */
export const DOCTOR = {
  bridgeDb: existingBridgeDb,
  json,
  skipClaude: { flags: '--skip-claude', env: 'AUTOPOLL_SKIP_CLAUDE', help: 'do not check Claude Code (no API request; env: any value turns it on)', schema: ({ z }) => z.boolean().default(false) },
} satisfies Record<string, Spec>;

export type Specs = Record<string, Spec>;
export type Parsed<S extends Specs> = { [K in keyof S]: z.output<ReturnType<S[K]['schema']>> };

export function addOptions(command: Command, specs: Specs): Command {
  for (const spec of Object.values(specs)) {
    const option = new Option(spec.flags, spec.help).env(spec.env);
    if (spec.list) option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), ...splitList(value)]);
    if (spec.default !== undefined) option.default(spec.default);
    command.addOption(option);
  }
  return command;
}

function splitList(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}
