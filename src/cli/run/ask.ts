import type { Command } from 'commander';
import { z } from 'zod';
import { BridgeLostError } from '../../bridge/BridgeChanges.js';
import { askQuestion, AskRefusedError, type AskSent, type AskTarget } from '../../ops/ask/askQuestion.js';
import { askOutput, bridgeLostOutput, sentLine, type AskOutput } from '../../ops/ask/formatAsk.js';
import { createLogger } from '../../shared/logger.js';
import { type ASK, ConfigError, DEFAULT_ROLE, type Parsed } from '../options.js';

const QuestionSchema = z.string().trim().min(1, 'the question must not be empty');

export async function runAsk(o: Parsed<typeof ASK>, _cmd: Command, args: unknown[]): Promise<void> {
  const question = QuestionSchema.safeParse(args[0]);
  if (!question.success) throw new ConfigError(`invalid question: ${question.error.issues[0]!.message}`);
  let out: AskOutput;
  let asked: AskSent | undefined;
  try {
    const outcome = await askQuestion({
      bridgeDb: o.bridgeDb,
      question: question.data,
      target: askTarget(o),
      contextFile: o.contextFile,
      waitMs: o.wait * 1000,
      onSent: (sent) => {
        asked = sent;
        process.stderr.write(sentLine(sent, o.wait));
      },
      // Only warnings (the folder cannot be watched): stderr is for people, stdout only the answer's.
      logger: createLogger({ level: 'warn', stream: 'stderr', name: 'autopoll-ask', format: process.stderr.isTTY ? 'pretty' : 'json' }),
    });
    out = askOutput(outcome, o.json);
  } catch (err) {
    if (err instanceof AskRefusedError) throw new ConfigError(err.message);
    if (!(err instanceof BridgeLostError)) throw err;
    out = bridgeLostOutput(err.message, asked);
  }
  process.stdout.write(out.stdout);
  process.stderr.write(out.stderr);
  process.exitCode = out.exitCode;
}

/** A conversation given by id and side-a token, or a new one for the served role (up's default unless named). */
function askTarget(o: Parsed<typeof ASK>): AskTarget {
  if (o.conversation) {
    if (!o.token) throw new ConfigError('--conversation needs --token (env AUTOPOLL_ASK_TOKEN), the side-a token of that conversation');
    return { conversationId: o.conversation, token: o.token };
  }
  if (o.token) throw new ConfigError('--token needs --conversation (env AUTOPOLL_ASK_CONVERSATION)');
  return { role: o.role ?? DEFAULT_ROLE };
}
