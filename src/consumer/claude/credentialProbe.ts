import type { Logger } from '../../shared/logger.js';
import { redactText } from '../../shared/redact.js';
import { FatalAnswererError } from '../Answerer.js';
import type { ClaudeSession } from './ClaudeSession.js';

/** What a probe of the credentials showed. */
export type ProbeVerdict =
  /** Refused without any question: the credentials are at fault. */
  | { kind: 'refused'; refusal: FatalAnswererError }
  | { kind: 'accepted' }
  /** It ended another way (timeout, network, crash): nothing proven either way. */
  | { kind: 'unknown'; reason: string };

export interface CredentialProbeOptions {
  /** How long the probe's one turn may take. */
  timeoutMs: number;
  /** How long a verdict stands for the refusals that follow. */
  rememberMs: number;
}

/** What the probe asks: nothing a content filter could object to, one word back. */
export const PROBE_PROMPT = 'Reply with the single word: ok';

/**
 * Tells a refusal of the credentials from a refusal of one question (a gateway or filter in front
 * of the API may answer 401/403 because of what a question says): one turn of a fixed, harmless
 * prompt on a fresh session, never a pool slot, whose context may still hold the refused question.
 *
 * One probe at a time: refusals that arrive while it runs wait for its verdict, and a verdict
 * stands for `rememberMs`, so that a stream of refused questions costs one probe process per
 * window, not one each (and the questions other sessions had when the credentials were found
 * refused are handed back on that verdict).
 */
export class CredentialProbe {
  private running: Promise<ProbeVerdict> | undefined;
  private remembered: { verdict: ProbeVerdict; at: number } | undefined;
  private session: ClaudeSession | undefined;
  private closed = false;

  constructor(
    private readonly createSession: () => ClaudeSession,
    private readonly options: CredentialProbeOptions,
    private readonly logger: Logger,
  ) {}

  check(): Promise<ProbeVerdict> {
    // A refusal racing the consumer's shutdown: no process started that close would miss.
    if (this.closed) return Promise.resolve({ kind: 'unknown', reason: 'the consumer is closing' });
    const kept = this.remembered;
    if (kept && Date.now() - kept.at < this.options.rememberMs) return Promise.resolve(kept.verdict);
    this.running ??= this.probe().finally(() => (this.running = undefined));
    return this.running;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.session?.close();
  }

  private async probe(): Promise<ProbeVerdict> {
    const session = this.createSession();
    this.session = session;
    let verdict: ProbeVerdict;
    try {
      await session.turn(PROBE_PROMPT, this.options.timeoutMs);
      verdict = { kind: 'accepted' };
    } catch (err) {
      verdict = err instanceof FatalAnswererError ? { kind: 'refused', refusal: err } : { kind: 'unknown', reason: redactText(err instanceof Error ? err.message : String(err)) };
    } finally {
      this.session = undefined;
      await session.close();
    }
    this.remembered = { verdict, at: Date.now() };
    this.logger.info({ verdict: verdict.kind, ...(verdict.kind === 'unknown' ? { reason: verdict.reason } : {}) }, 'Claude credentials probed without the refused question');
    return verdict;
  }
}
