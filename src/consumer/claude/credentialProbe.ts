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
  /** How many refusals a proof that the credentials work judges, with no turn answered between them, before the next probe. */
  refusalsPerProof: number;
}

/** What the probe asks: nothing a content filter could object to, one word back. */
export const PROBE_PROMPT = 'Reply with the single word: ok';

/**
 * Tells a refusal of the credentials from a refusal of one question (a gateway or filter in front
 * of the API may answer 401/403 because of what a question says): one turn of a fixed, harmless
 * prompt on a fresh session, never a pool slot, whose context may still hold the refused question.
 *
 * One probe at a time: refusals that arrive while it runs wait for its verdict (and the questions
 * other sessions had when the credentials were found refused are handed back on it). Credentials
 * proven to work (by the probe, or by any answered turn) judge the next `refusalsPerProof`
 * refusals without a probe: a stream of refused questions costs one probe per that many, while a
 * key revoked after its last proof is found out within as many refusals, each costing one try of
 * one question. Nothing else is remembered: a probe that proved nothing proves nothing later.
 */
export class CredentialProbe {
  private running: Promise<ProbeVerdict> | undefined;
  private proven = false;
  private judgedSinceProof = 0;
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
    if (this.running === undefined && this.proven && this.judgedSinceProof < this.options.refusalsPerProof) {
      this.judgedSinceProof++;
      return Promise.resolve({ kind: 'accepted' });
    }
    this.running ??= this.probe().finally(() => (this.running = undefined));
    return this.running;
  }

  /** A turn was answered: the credentials work, whatever was refused before it. */
  proved(): void {
    this.proven = true;
    this.judgedSinceProof = 0;
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
    this.proven = verdict.kind === 'accepted';
    this.judgedSinceProof = 0;
    this.logger.info({ verdict: verdict.kind, ...(verdict.kind === 'unknown' ? { reason: verdict.reason } : {}) }, 'Claude credentials probed without the refused question');
    return verdict;
  }
}
