import { readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { sessionEnv } from './sessionEnv.js';

/** What every credentials message ends with: how to give a consumer credentials. */
export const CREDENTIALS_FIX =
  'set ANTHROPIC_API_KEY (or ANTHROPIC_AUTH_TOKEN / CLAUDE_CODE_OAUTH_TOKEN), or run `claude login` as this user; then restart the consumer';

/** A file Claude Code may read, with its content parsed (undefined: absent, unreadable or not JSON). */
export interface ReadFile {
  path: string;
  content: unknown;
}

/** What Claude Code takes its credentials from, as autopoll starts its sessions. */
export interface ClaudeAuthInputs {
  /** The sessions' environment: the allowlisted part of the consumer's (sessionEnv.ts). */
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  /** `.credentials.json` in the config folder: where `claude login` keeps a claude.ai login. */
  login: ReadFile;
  /** The global config (`.claude.json`): where `claude login` keeps a Console login's key. */
  globalConfig: ReadFile;
  /** Managed settings files: read whatever settingSources says, so their apiKeyHelper and env count. */
  managed: ReadFile[];
  /** The user's settings.json: Claude Code would run an apiKeyHelper there, but autopoll's sessions load no settings files. */
  userSettings: ReadFile;
}

/**
 * Switches to a cloud provider or gateway (as the SDK's Claude Code 2.1.330 reads them, true for
 * 1/true/yes/on); its credentials then come from that provider's own chain (AWS profile, Google
 * ADC, Azure), which autopoll cannot see: a refusal shows on the first question instead.
 */
const PROVIDER_SWITCHES = [
  'CLAUDE_CODE_USE_BEDROCK',
  'CLAUDE_CODE_USE_VERTEX',
  'CLAUDE_CODE_USE_FOUNDRY',
  'CLAUDE_CODE_USE_GATEWAY',
  'CLAUDE_CODE_USE_MANTLE',
  'CLAUDE_CODE_USE_ANTHROPIC_AWS',
  'CLAUDE_CODE_USE_ANTHROPIC_GOOGLE_CLOUD',
];

/** Credentials in the environment, in Claude Code's order of precedence (an apiKeyHelper comes between the key and the OAuth token). */
const TOKEN_VARIABLES = ['ANTHROPIC_AUTH_TOKEN', 'ANTHROPIC_API_KEY'] as const;

function field(content: unknown, ...path: string[]): unknown {
  let value = content;
  for (const key of path) value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  return value;
}

function filled(value: unknown): boolean {
  return typeof value === 'string' && value.trim() !== '';
}

function switchedOn(value: string | undefined): boolean {
  return value !== undefined && ['1', 'true', 'yes', 'on'].includes(value.trim().toLowerCase());
}

/**
 * Where Claude Code would take this consumer's credentials from, named for the log (never the
 * secret), or undefined when it has none: the first of its sources in its own order that is
 * there. Pure. It tells that a credential is configured, not that the API accepts it; an expired
 * or revoked one is refused at the first question (see turnFailure.ts).
 */
export function credentialSource(a: ClaudeAuthInputs): string | undefined {
  // A managed settings file's env block reaches the session as if it were the environment, and wins over it.
  const variable = (name: string): { value: string; where: string } | undefined => {
    const managed = a.managed.find((f) => typeof field(f.content, 'env', name) === 'string');
    if (managed) return { value: field(managed.content, 'env', name) as string, where: `${name} in ${managed.path}` };
    const value = a.env[name];
    return value === undefined ? undefined : { value, where: name };
  };
  for (const name of PROVIDER_SWITCHES) {
    const v = variable(name);
    if (v && switchedOn(v.value)) return `${v.where} (the provider's own credentials, not checked here)`;
  }
  for (const name of TOKEN_VARIABLES) {
    const v = variable(name);
    if (v && filled(v.value)) return v.where;
  }
  const helper = a.managed.find((f) => filled(field(f.content, 'apiKeyHelper')));
  if (helper) return `the apiKeyHelper in ${helper.path}`;
  const oauth = variable('CLAUDE_CODE_OAUTH_TOKEN');
  if (oauth && filled(oauth.value)) return oauth.where;
  if (filled(field(a.login.content, 'claudeAiOauth', 'accessToken'))) return `the claude.ai login in ${a.login.path}`;
  if (filled(field(a.globalConfig.content, 'primaryApiKey'))) return `the Console login's key in ${a.globalConfig.path}`;
  // On macOS `claude login` keeps its token in the keychain, which only Claude Code reads.
  if (a.platform === 'darwin') return 'a claude login in the macOS keychain, if there is one (not checked here)';
  return undefined;
}

/** The one line a consumer without credentials logs: what is missing, where it looked, the fix. Pure. */
export function noCredentialsMessage(a: ClaudeAuthInputs): string {
  const helper = field(a.userSettings.content, 'apiKeyHelper');
  const ignored = filled(helper) ? ` (the apiKeyHelper in ${a.userSettings.path} is not used: autopoll's sessions load no settings files)` : '';
  return `no Claude credentials: none in the environment, no login in ${a.login.path}${ignored}; ${CREDENTIALS_FIX}`;
}

/** What the API refusing the credentials (or Claude Code finding none mid-run) means here, and the fix. Pure. */
export function credentialsRefusedMessage(what: string, source: string | undefined): string {
  return `${what}; the credentials came from ${source ?? 'an unknown source'}: ${CREDENTIALS_FIX}`;
}

function readJson(path: string): ReadFile {
  try {
    return { path, content: JSON.parse(readFileSync(path, 'utf8')) as unknown };
  } catch {
    return { path, content: undefined };
  }
}

/** Where Claude Code keeps managed settings files on each platform. */
export function managedSettingsFolder(platform: NodeJS.Platform): string {
  if (platform === 'darwin') return '/Library/Application Support/ClaudeCode';
  if (platform === 'win32') return 'C:\\Program Files\\ClaudeCode';
  return '/etc/claude-code';
}

/** managed-settings.json, then the drop-in folder's files in name order. */
function managedFiles(folder: string): ReadFile[] {
  let dropIns: string[] = [];
  try {
    dropIns = readdirSync(join(folder, 'managed-settings.d')).filter((f) => f.endsWith('.json')).sort();
  } catch {
    // no drop-in folder: the usual case
  }
  return [join(folder, 'managed-settings.json'), ...dropIns.map((f) => join(folder, 'managed-settings.d', f))].map(readJson);
}

/**
 * Reads what credentialSource needs, where a session's Claude Code reads it, from the environment
 * the session gets (the consumer's, allowlisted): the config folder is
 * CLAUDE_CONFIG_DIR, else ~/.claude (HOME as the session gets it); the global config sits in
 * CLAUDE_CONFIG_DIR, else in the home folder. Managed settings delivered another way (MDM, the
 * registry, a server) cannot be read here.
 */
export function readClaudeAuthInputs(
  consumerEnv: NodeJS.ProcessEnv,
  { platform = process.platform, managedFolder = managedSettingsFolder(platform) }: { platform?: NodeJS.Platform; managedFolder?: string } = {},
): ClaudeAuthInputs {
  const env = sessionEnv(consumerEnv);
  const home = env.HOME || homedir();
  const configDir = env.CLAUDE_CONFIG_DIR || join(home, '.claude');
  return {
    env,
    platform,
    login: readJson(join(configDir, '.credentials.json')),
    globalConfig: readJson(env.CLAUDE_CONFIG_DIR ? join(env.CLAUDE_CONFIG_DIR, '.claude.json') : join(home, '.claude.json')),
    managed: managedFiles(managedFolder),
    userSettings: readJson(join(configDir, 'settings.json')),
  };
}
