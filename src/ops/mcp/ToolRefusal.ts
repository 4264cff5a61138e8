/**
 * A tool call that cannot be done as asked (empty question, unknown query id, no shard serving the
 * role): the client gets its message as a tool error, says what is wrong and how to fix it, and the
 * server carries on.
 */
export class ToolRefusal extends Error {
  override readonly name = 'ToolRefusal';
}
