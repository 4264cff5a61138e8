import { DEFAULT_ROLE } from './options.js';

/** What `up` serves, for the line it logs once it has started. */
export interface UpServes {
  role: string | undefined;
  /** The role is up's own default: neither --role nor --conversation was given. */
  roleIsDefault: boolean;
  /** The granted conversations it serves (besides the role's). */
  conversations: string[];
  bridgeDb: string;
  /** Given only when it is not the default that `ask` uses too: then `ask` needs it. */
  askBridgeDb: string | undefined;
  boardUrl: string | undefined;
  /** Why its consumer takes no questions (no usable Claude credentials); undefined while it takes them. */
  consumerStopped?: string | undefined;
  /** The Redis it chose itself (--redis not given): the private one, or the one already on 127.0.0.1; never a password. */
  redis?: string | undefined;
}

/**
 * The one line a newcomer reads after `npm start`: what is served, where, the board, and the
 * command that asks a question from another terminal (`autopoll ask`'s own flags).
 */
export function upBanner(s: UpServes): string {
  const what: string[] = [];
  if (s.conversations.length) what.push(`conversation${s.conversations.length === 1 ? '' : 's'} ${s.conversations.join(', ')}`);
  if (s.role) what.push(`every conversation whose side-b role is ${s.role}${s.roleIsDefault ? " (up's default; choose with --role or --conversation)" : ''}`);
  const bridge = s.askBridgeDb === undefined ? '' : ` --bridge-db ${shellWord(s.askBridgeDb)}`;
  const ask = s.role
    ? `npx autopoll ask "what is 2+2?"${s.role === DEFAULT_ROLE ? '' : ` --role ${shellWord(s.role)}`}${bridge}`
    : `AUTOPOLL_ASK_TOKEN=<its session_a_token> npx autopoll ask "what is 2+2?" --conversation ${s.conversations[0]}${bridge}`;
  const board = s.boardUrl ? `; board at ${s.boardUrl}` : '';
  const redis = s.redis ? `; Redis: ${s.redis}` : '';
  const serving = `serving ${what.join(' and ')} from the bridge file ${s.bridgeDb}${board}${redis}`;
  // A question asked now would wait unanswered: the last line a newcomer reads says why, not "ask".
  if (s.consumerStopped !== undefined) return `autopoll is up but answers nothing: its consumer is stopped: ${s.consumerStopped}. It is ${serving}; questions wait in the queue until a consumer takes them.`;
  return `autopoll is up: ${serving}. Ask a question from another terminal: ${ask}`;
}

/** The text as one shell word: quoted when it holds anything but letters, digits and ./_-:@ */
export function shellWord(text: string): string {
  return /^[\w./:@-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
