/**
 * The line `autopoll replay` adds to the log of a job it retries. The job keeps its log across
 * rounds, and BullMQ's retry clears its times: the line dates the replay, and splits the log into
 * rounds, for `autopoll trace`.
 */
export function replayLogLine(at: number): string {
  return `replayed by autopoll replay at ${new Date(at).toISOString()}: a new round of attempts`;
}

const REPLAY_LOG = /^replayed by autopoll replay at (\S+): /;

/** The time of a replay log line; undefined for any other line. */
export function replayLogTime(line: string): number | undefined {
  const m = REPLAY_LOG.exec(line);
  const at = m ? Date.parse(m[1]!) : NaN;
  return Number.isFinite(at) ? at : undefined;
}
