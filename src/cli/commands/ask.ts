import type { Command } from 'commander';
import { z } from 'zod';
import { askQuestion, AskRefusedError, type AskTarget } from '../../ops/ask/askQuestion.js';
import { askOutput, sentLine } from '../../ops/ask/formatAsk.js';
import { addOptions, ASK, ConfigError, DEFAULT_ROLE, parseOptions, type Parsed } from '../options.js';

const QuestionSchema = z.string().trim().min(1, 'the question must not be empty');

export function registerAsk(program: Command): void {
  addOptions(
    program
      .command('ask')
      .argument('<question>', 'the question, sent as a query from side a')
      .description('ask one question on the bridge as side a and print the answer (exit 0 answered, 1 error response, 3 no answer in time)'),
    ASK,
  ).action(async (questionArg: string, _opts, cmd: Command) => {
    const o = parseOptions(ASK, cmd.opts());
    const question = QuestionSchema.safeParse(questionArg);
    if (!question.success) throw new ConfigError(`invalid question: ${question.error.issues[0]!.message}`);
    let outcome;
    try {
      outcome = await askQuestion({
        bridgeDb: o.bridgeDb,
        question: question.data,
        target: askTarget(o),
        contextFile: o.contextFile,
        waitMs: o.wait * 1000,
        onSent: (sent) => process.stderr.write(sentLine(sent, o.wait)),
      });
    } catch (err) {
      if (err instanceof AskRefusedError) throw new ConfigError(err.message);
      throw err;
    }
    const out = askOutput(outcome, o.json);
    process.stdout.write(out.stdout);
    process.stderr.write(out.stderr);
    process.exitCode = out.exitCode;
  });
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
