/**
 * `file:line` and `file:start-end` citations in an answer, in order of first appearance. Any file
 * name with an extension counts (relative or absolute paths too), so no file is hard-coded as in
 * the old shard.
 */
const CITATION = /(?<![\w./@-])(\/?(?:[\w.-]+\/)*[\w.-]*\w\.[A-Za-z0-9]{1,10}):(\d+(?:-\d+)?)(?!\w|-\d)/g;

/** host:port is not a file:line; these endings are far likelier hosts than file types. */
const HOST_ENDING = /\.(com|org|net|io|dev|ai|co|edu|gov|app|cloud|local|internal|lan|uk|de|fr|eu)$/i;

export function extractSources(answer: string): string[] {
  const seen = new Set<string>();
  for (const m of answer.matchAll(CITATION)) {
    const file = m[1]!;
    if (/^\/?v?\d+(\.\d+)*$/.test(file)) continue; // a version or a time like 1.2:30 is not a file
    if (HOST_ENDING.test(file) && !file.includes('/')) continue;
    seen.add(`${file}:${m[2]}`);
  }
  return [...seen];
}
