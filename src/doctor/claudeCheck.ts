import { query, type SDKResultMessage } from '@anthropic-ai/claude-agent-sdk';
import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { FatalAnswererError, RateLimitedError } from '../consumer/Answerer.js';
import { killGroup } from '../consumer/claude/processTree.js';
import { sessionQueryOptions } from '../consumer/claude/sessionOptions.js';
import type { TurnSignals } from '../consumer/claude/turnFailure.js';
import { answeringModel, observeTurn, turnFailure } from '../consumer/claude/turnObserver.js';
import { fail, ok, skip, warn, type Check, type CheckResult } from '../shared/checks.js';
import { errorText } from './check.js';

const NOT_AUTHENTICATED = 'Claude Code is not authenticated: set ANTHROPIC_API_KEY or run claude login';

export interface ClaudeCheckOptions {
  model: string;
  /** Why Claude Code is not checked (the stub answerer, --skip-claude); checked when unset. */
  skipReason?: string | undefined;
  /** The environment Claude Code gets, as the consumer passes it (process.env by default). */
  env?: NodeJS.ProcessEnv;
  /** Variables Claude Code gets besides the allowlist, as the consumer's --claude-env. */
  passEnv?: readonly string[];
  timeoutMs?: number;
}

/**
 * The Claude Code binary the SDK ships, and one tiny request through it, started with the options
 * of the consumer's sessions (sessionOptions.ts; no tools): it answers only if the binary runs and
 * the credentials are accepted.
 */
export function claudeCheck(o: ClaudeCheckOptions): Check {
  return {
    name: 'claude',
    timeoutMs: o.timeoutMs ?? 60_000,
    timeoutFix: 'check that this machine reaches the Anthropic API (ANTHROPIC_BASE_URL, HTTPS_PROXY), then run autopoll doctor again',
    run: async (signal) => {
      if (o.skipReason) return [skip('claude', `not checked: ${o.skipReason}`)];
      const binary = findClaudeBinary();
      const reinstall = 'npm install in the autopoll folder, without --omit=optional: the binary comes in the SDK\'s platform package';
      if (!binary) return [fail('claude', `the Claude Code binary for ${process.platform}-${process.arch} is not installed (@anthropic-ai/claude-agent-sdk-${process.platform}-${process.arch})`, reinstall)];
      try {
        await access(binary, constants.X_OK);
      } catch {
        return [fail('claude', `${binary} is not executable by this user`, `chmod +x ${binary}, or ${reinstall}`)];
      }
      return [judgeClaude(binary, o.model, await probeClaude(binary, o, signal))];
    },
  };
}

/**
 * Where the SDK finds its binary: the platform package beside it (glibc before musl on Linux, as
 * the SDK orders them). Found here too so that the report can name it and the probe runs it.
 */
export function findClaudeBinary(): string | undefined {
  let sdk: NodeJS.Require;
  try {
    sdk = createRequire(createRequire(import.meta.url).resolve('@anthropic-ai/claude-agent-sdk'));
  } catch {
    return undefined;
  }
  const base = `@anthropic-ai/claude-agent-sdk-${process.platform}-${process.arch}`;
  const candidates = process.platform === 'linux' ? [base, `${base}-musl`] : [base];
  const exe = process.platform === 'win32' ? 'claude.exe' : 'claude';
  for (const pkg of candidates) {
    try {
      return sdk.resolve(`${pkg}/${exe}`);
    } catch {
      // not installed: try the next
    }
  }
  return undefined;
}

export interface ClaudeProbe {
  version?: string;
  model?: string;
  signals: TurnSignals;
  result?: SDKResultMessage;
  /** Why the run ended without a result (the binary did not start, it crashed, it was aborted). */
  error?: unknown;
  stderr: string;
  ms: number;
}

async function probeClaude(binary: string, o: ClaudeCheckOptions, signal: AbortSignal): Promise<ClaudeProbe> {
  const probe: ClaudeProbe = { signals: {}, stderr: '', ms: 0 };
  const abort = new AbortController();
  let child: ChildProcess | undefined;
  const stop = () => {
    abort.abort();
    killGroup(child?.pid);
  };
  signal.addEventListener('abort', stop, { once: true });
  const started = Date.now();
  const settings = { model: o.model, cwd: tmpdir(), tools: false, env: o.env ?? process.env, passEnv: o.passEnv, executable: binary };
  const q = query({
    prompt: 'ping',
    options: {
      ...sessionQueryOptions(settings, {
        onStderr: (text) => (probe.stderr = (probe.stderr + text).slice(-2000)),
        onSpawn: (spawned) => (child = spawned),
      }),
      maxTurns: 1,
      abortController: abort,
    },
  });
  try {
    for await (const m of q) {
      const event = observeTurn(m, probe.signals);
      if (event?.kind === 'init') {
        probe.version = event.version;
        probe.model = event.model;
      } else if (event?.kind === 'give_up') {
        break;
      } else if (event?.kind === 'result') {
        probe.result = event.result;
        break;
      }
    }
  } catch (err) {
    // The SDK throws after yielding an error result; the result says more than the throw.
    if (!probe.result) probe.error = err;
  } finally {
    probe.ms = Date.now() - started;
    signal.removeEventListener('abort', stop);
    q.close();
    killGroup(child?.pid);
  }
  return probe;
}

/** What the probe showed. Pure: the failure classes are the consumer's own (turnFailure.ts). */
export function judgeClaude(binary: string, model: string, p: ClaudeProbe): CheckResult {
  const who = `Claude Code${p.version ? ` ${p.version}` : ''}`;
  const failure = turnFailure(p.signals, p.result);
  if (!failure) {
    const answered = answeringModel(p.result, p.model) ?? model;
    return ok('claude', `${who} at ${binary}: authenticated, ${answered} answered in ${(p.ms / 1000).toFixed(1)} s`);
  }
  const stalled = !p.result && p.signals.retryStatus === undefined && p.signals.assistantError === undefined;
  if (stalled && p.error !== undefined) {
    const tail = p.stderr.trim().split('\n').slice(-3).join(' | ');
    return fail('claude', `${who} at ${binary} did not run: ${errorText(p.error)}${tail ? ` (stderr: ${tail})` : ''}`, `run it by hand to see why: ${binary} --version`);
  }
  if (failure instanceof FatalAnswererError) {
    const status = p.signals.retryStatus ? ` (the API answered HTTP ${p.signals.retryStatus})` : '';
    return fail('claude', `${NOT_AUTHENTICATED}${status}`, "export ANTHROPIC_API_KEY=<key> in the consumer's environment, or run `claude login` as the user the consumer runs as");
  }
  if (failure instanceof RateLimitedError) {
    return warn('claude', `${who} is authenticated, but ${failure.message}: questions wait while it lasts`, "nothing to change if it passes; if it does not, check the account's rate limits and usage");
  }
  return fail('claude', `${who}: ${failure.message}`, `check --model (env AUTOPOLL_MODEL, now ${model}); try it by hand as this user: ${binary} -p ping --model ${model}`);
}
