/**
 * `file:line` and `file:start-end` citations in an answer, in order of first appearance. Any file
 * name with an extension counts (paths too), so no file is hard-coded as in the old shard.
 */
const CITATION = /(?<![\w./-])((?:[\w.-]+\/)*[\w.-]*\w\.[A-Za-z0-9]{1,10}):(\d+(?:-\d+)?)(?![\w])/g;

export function extractSources(answer: string): string[] {
  const seen = new Set<string>();
  for (const m of answer.matchAll(CITATION)) {
    if (/^\d+(\.\d+)*$/.test(m[1]!)) continue; // a version or a time like 1.2:30 is not a file
    seen.add(`${m[1]}:${m[2]}`);
  }
  return [...seen];
}
