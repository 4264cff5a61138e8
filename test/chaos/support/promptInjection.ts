import type { RecordedRequest, Reply, Responder } from '../../support/fakeAnthropic.js';

/**
 * A model that has been talked into an attack: asked a question, it answers with tool calls (run
 * a command, write a file, read outside the tools root), one after the other as their results
 * come back; once it has them all, it answers in text. The attack is picked by the question's
 * query id.
 */
export interface Attack {
  queryId: string;
  steps: Array<{ tool: string; input: Record<string, unknown> }>;
}

type Block = { type?: string; tool_use_id?: string; content?: unknown; is_error?: boolean; text?: string };

function blocksOf(content: unknown): Block[] {
  return Array.isArray(content) ? (content as Block[]) : [];
}

/** The query id of the question a request belongs to (each question is a fresh conversation). */
export function queryIdOf(req: RecordedRequest): string | undefined {
  return /<question query_id="([^"]+)">/.exec(req.text)?.[1];
}

/** The tool results a request sends back, with their text. */
export function toolResultsOf(req: RecordedRequest): Array<{ toolUseId: string; isError: boolean; text: string }> {
  const messages = Array.isArray(req.body.messages) ? (req.body.messages as Array<{ role: string; content: unknown }>) : [];
  const out: Array<{ toolUseId: string; isError: boolean; text: string }> = [];
  for (const m of messages) {
    if (m.role !== 'user') continue;
    for (const b of blocksOf(m.content)) {
      if (b.type !== 'tool_result') continue;
      const text = typeof b.content === 'string' ? b.content : blocksOf(b.content).map((c) => c.text ?? '').join('\n');
      out.push({ toolUseId: String(b.tool_use_id), isError: b.is_error === true, text });
    }
  }
  return out;
}

export function attackResponder(attacks: Attack[]): Responder {
  const byQuery = new Map(attacks.map((a) => [a.queryId, a]));
  return (req): Reply => {
    const queryId = queryIdOf(req);
    const attack = queryId ? byQuery.get(queryId) : undefined;
    if (!attack) return { kind: 'text', text: 'Nothing to see here.' };
    // Claude Code sends the whole turn each time: the results so far say which step is next.
    const step = attack.steps[toolResultsOf(req).length];
    return step ? { kind: 'tool_use', name: step.tool, input: step.input } : { kind: 'text', text: `Final answer to ${attack.queryId} after the tool call.` };
  };
}
