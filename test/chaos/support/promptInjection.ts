import { toolResultsOf, type RecordedRequest, type Reply, type Responder } from '../../support/fakeAnthropic.js';

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

/** The query id of the question a request belongs to (each question is a fresh conversation). */
export function queryIdOf(req: RecordedRequest): string | undefined {
  return /<question query_id="([^"]+)">/.exec(req.text)?.[1];
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
