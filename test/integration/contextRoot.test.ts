import { execFileSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { redisDump } from '../support/redisDump.js';
import { BridgeFixture, tempDir } from '../support/bridge.js';
import { AutopollProcess, runAutopoll } from '../support/cli.js';
import { claudeEnv } from '../support/claudeEnv.js';
import { FakeAnthropic } from '../support/fakeAnthropic.js';
import { SpawnedPipeline } from '../support/spawnedPipeline.js';
import { testPrefix } from '../support/pipeline.js';
import { waitFor } from '../support/wait.js';

const redisUrl = inject('redisUrl');

/**
 * Context files are judged by what they are (device and inode), not by how their path is spelled:
 * the bridge file (every conversation's token) never travels in a job, whatever link, hard link or
 * folder names it; a root that holds it is refused before anything starts.
 */
describe('context root: the bridge file is never a context, by any name', () => {
  const pipeline = new SpawnedPipeline(['--redis', redisUrl]);
  const bridgeDir = dirname(pipeline.bridge.path);
  const base = tempDir('autopoll-ctxroot-');
  /** The bridge's folder through a symbolic link: the producer is given the bridge by this spelling. */
  const linkedBridgeDir = join(base, 'linked-bridge');
  /** The context root: a link, first to an empty folder, later re-pointed at the bridge's folder. */
  const rootLink = join(base, 'root');
  const plainRoot = join(base, 'plain');

  beforeAll(async () => {
    symlinkSync(bridgeDir, linkedBridgeDir);
    mkdirSync(plainRoot);
    symlinkSync(plainRoot, rootLink);
    writeFileSync(join(plainRoot, 'notes.md'), 'a note\n');
    await pipeline.start({ producer: ['--bridge-db', join(linkedBridgeDir, 'bridge.db'), '--context-root', rootLink] });
  });

  afterAll(() => pipeline.stop());

  /** Asks with this context_file; resolves with the response's body once it is written. */
  async function answerTo(queryId: string, contextFile: string): Promise<Record<string, unknown>> {
    pipeline.bridge.ask(pipeline.conv.id, queryId, 'what is in it?', { context_file: contextFile });
    const response = await waitFor(`response to ${queryId}`, () => pipeline.bridge.responses(pipeline.conv.id).find((r) => r.body.query_id === queryId), 20_000);
    return response.body;
  }

  async function expectNothingOfTheBridgeInRedis(): Promise<void> {
    const dump = await redisDump(redisUrl, pipeline.prefix);
    expect(dump.includes(pipeline.conv.tokenB), 'the side-b token in Redis').toBe(false);
    expect(dump.includes(pipeline.conv.tokenA), 'the side-a token in Redis').toBe(false);
    expect(dump).not.toMatch(/SQLite format 3/);
  }

  it('a file inside the root is read (the control)', async () => {
    expect(await answerTo('q_notes', 'notes.md')).toMatchObject({ answer: 'Stub answer to q_notes.' });
  });

  it('hard links to the bridge file and its -wal, placed in the root after start, are refused', async () => {
    linkSync(pipeline.bridge.path, join(plainRoot, 'copy.db'));
    linkSync(`${pipeline.bridge.path}-wal`, join(plainRoot, 'journal.txt'));
    symlinkSync(join(plainRoot, 'copy.db'), join(plainRoot, 'alias.md'));
    for (const [queryId, file] of [['q_hard', 'copy.db'], ['q_hard_wal', 'journal.txt'], ['q_link_to_hard', 'alias.md']]) {
      const body = await answerTo(queryId!, file!);
      expect((body.error as { message: string } | undefined)?.message, file).toMatch(/is the bridge database/);
    }
    await expectNothingOfTheBridgeInRedis();
  });

  it('with the root re-pointed at the folder of a bridge given through a symlinked folder, bridge.db and bridge.db-wal are refused', async () => {
    rmSync(rootLink);
    symlinkSync(bridgeDir, rootLink);
    try {
      for (const [queryId, file] of [['q_db', 'bridge.db'], ['q_wal', 'bridge.db-wal'], ['q_shm', 'bridge.db-shm']]) {
        const body = await answerTo(queryId!, file!);
        expect((body.error as { message: string } | undefined)?.message, file).toMatch(/is the bridge database/);
      }
      await expectNothingOfTheBridgeInRedis();
    } finally {
      rmSync(rootLink);
      symlinkSync(plainRoot, rootLink);
    }
  });

  it('a FIFO is refused at once (no writer ever comes), and the producer goes on', async () => {
    execFileSync('mkfifo', [join(plainRoot, 'pipe')]);
    const body = await answerTo('q_fifo', 'pipe');
    expect((body.error as { message: string }).message).toMatch(/pipe is not a regular file/);
    expect(await answerTo('q_after_fifo', 'notes.md')).toMatchObject({ answer: 'Stub answer to q_after_fifo.' });
  });

  it('a symbolic link is followed inside the root only', async () => {
    mkdirSync(join(plainRoot, 'docs'));
    writeFileSync(join(plainRoot, 'docs', 'real.md'), 'real\n');
    symlinkSync(join(plainRoot, 'docs', 'real.md'), join(plainRoot, 'inside-link.md'));
    symlinkSync(pipeline.bridge.path, join(plainRoot, 'bridge-link.db'));
    expect(await answerTo('q_inside_link', 'inside-link.md')).toMatchObject({ answer: 'Stub answer to q_inside_link.' });
    expect(((await answerTo('q_bridge_link', 'bridge-link.db')).error as { message: string }).message).toMatch(/symbolic link/);
  });
});

describe('context root: refused at start when it holds what autopoll owns', () => {
  it('a root holding the bridge file (named through a symlinked folder) stops the producer before it starts', async () => {
    const bridge = BridgeFixture.create();
    const conv = bridge.createConversation();
    const link = join(tempDir('autopoll-ctxroot-'), 'bridge-folder');
    symlinkSync(dirname(bridge.path), link);
    try {
      for (const [bridgeDb, root] of [[bridge.path, link], [join(link, 'bridge.db'), dirname(bridge.path)], [bridge.path, dirname(dirname(bridge.path))]]) {
        const run = await runAutopoll(['producer', '--redis', redisUrl, '--prefix', testPrefix(), '--bridge-db', bridgeDb!, '--conversation', `${conv.id}:${conv.tokenB}`, '--context-root', root!], {}, 30_000);
        expect(run.code, run.stderr).toBe(2);
        expect(run.stderr).toContain('--context-root (env AUTOPOLL_CONTEXT_ROOT)');
        expect(run.stderr).toContain('which autopoll owns');
        expect(run.stdout).not.toMatch(/producer started/);
      }
    } finally {
      bridge.close();
    }
  });

  it('a root holding the private Redis folder (data/redis) is refused too, and doctor says so', async () => {
    const cwd = tempDir('autopoll-cwd-');
    mkdirSync(join(cwd, 'data', 'redis', 'appendonlydir'), { recursive: true });
    writeFileSync(join(cwd, 'data', 'redis', 'appendonlydir', 'appendonly.aof.1.incr.aof'), '*3\r\n$3\r\nSET\r\n');
    const bridge = BridgeFixture.create();
    const conv = bridge.createConversation();
    try {
      const producer = new AutopollProcess(
        ['producer', '--redis', redisUrl, '--prefix', testPrefix(), '--bridge-db', bridge.path, '--conversation', `${conv.id}:${conv.tokenB}`, '--context-root', '.'],
        {}, { launcher: ['env', '-C', cwd] },
      );
      expect((await producer.exited).code, producer.stderr).toBe(2);
      expect(producer.stderr).toContain('--context-root (env AUTOPOLL_CONTEXT_ROOT) . would expose');
      expect(producer.stderr).toContain(join(cwd, 'data', 'redis'));

      const doctor = await runAutopoll(['doctor', '--redis', redisUrl, '--bridge-db', bridge.path, '--conversation', `${conv.id}:${conv.tokenB}`, '--context-root', dirname(bridge.path), '--skip-claude']);
      expect(doctor.code).toBe(1);
      expect(doctor.stdout).toMatch(/FAIL\s+context-root .*bridge\.db, which autopoll owns.*the producer refuses to start with it/);
    } finally {
      bridge.close();
    }
  });
});

describe("context root: Claude Code's config and credentials are autopoll's own", () => {
  it('a root holding ~/.claude (HOME as the producer has it) stops the producer before it starts, as does a root inside it', async () => {
    const home = tempDir('autopoll-home-');
    mkdirSync(join(home, '.claude'));
    writeFileSync(join(home, '.claude', '.credentials.json'), '{"claudeAiOauth":{"refreshToken":"sk-ant-ort01-x"}}\n');
    const bridge = BridgeFixture.create();
    const conv = bridge.createConversation();
    try {
      for (const root of [home, join(home, '.claude')]) {
        const run = await runAutopoll(['producer', '--redis', redisUrl, '--prefix', testPrefix(), '--bridge-db', bridge.path, '--conversation', `${conv.id}:${conv.tokenB}`, '--context-root', root], { HOME: home, CLAUDE_CONFIG_DIR: undefined }, 30_000);
        expect(run.code, run.stderr).toBe(2);
        expect(run.stderr).toContain('--context-root (env AUTOPOLL_CONTEXT_ROOT)');
        expect(run.stderr).toMatch(/\/\.claude(\.json)?, which autopoll owns/);
        expect(run.stderr).toContain(join(home, '.claude'));
        expect(run.stdout).not.toMatch(/producer started/);
      }
    } finally {
      bridge.close();
    }
  });
});

describe('context root: the default is ./data/context, never the working folder', () => {
  it('a producer whose default root exists but is empty warns, naming the flag', async () => {
    const cwd = tempDir('autopoll-cwd-');
    mkdirSync(join(cwd, 'data', 'context'), { recursive: true });
    const bridge = BridgeFixture.create();
    const conv = bridge.createConversation();
    const producer = new AutopollProcess(['producer', '--redis', redisUrl, '--prefix', testPrefix(), '--bridge-db', bridge.path, '--conversation', `${conv.id}:${conv.tokenB}`], {}, { launcher: ['env', '-C', cwd] });
    try {
      const warned = await producer.waitForLog(/^the context root is empty/);
      expect(warned).toMatchObject({ level: 40, created: false });
      expect(String(warned.msg)).toMatch(/--context-root \(env AUTOPOLL_CONTEXT_ROOT\)/);
      await producer.waitForLog(/^producer started$/);
    } finally {
      await producer.kill('SIGTERM');
      bridge.close();
    }
  });

  it('`up` in a fresh folder creates data/context and reads context files there only (not ./.env)', async () => {
    const cwd = tempDir('autopoll-cwd-');
    const canary = `ENV-CANARY-${Date.now()}`;
    writeFileSync(join(cwd, '.env'), `API_TOKEN=${canary}\n`);
    const prefix = testPrefix();
    const env = { AUTOPOLL_PREFIX: prefix, REDIS_URL: redisUrl };
    const up = new AutopollProcess(['up', '--answerer', 'stub', '--port', '0'], env, { launcher: ['env', '-C', cwd] });
    try {
      // An upgraded setup's context files were read from the working folder: the operator is told, with the flag.
      const created = await up.waitForLog(/created the context root/);
      expect(created.level, 'a warning').toBe(40);
      expect(String(created.msg)).toMatch(/--context-root \(env AUTOPOLL_CONTEXT_ROOT\)/);
      await up.waitForLog(/^autopoll is up/, 30_000);
      expect(existsSync(join(cwd, 'data', 'context'))).toBe(true);
      writeFileSync(join(cwd, 'data', 'context', 'notes.md'), 'a note\n');

      const ask = (contextFile: string) => new AutopollProcess(['ask', 'what is in it?', '--context-file', contextFile, '--json'], env, { launcher: ['env', '-C', cwd] });
      const good = ask('notes.md');
      expect((await good.exited).code, good.stderr).toBe(0);
      const leak = ask('.env');
      expect((await leak.exited).code, leak.stderr).toBe(1);
      const said = JSON.stringify(leak.lines) + leak.stderr;
      expect(said).toMatch(/does not exist under the context root/);
      expect(await redisDump(redisUrl, prefix)).not.toContain(canary);

      // The first refusal for a missing file is a warning naming the flag; later ones do not flood the log.
      const missing = /a context_file does not exist under the context root/;
      const warned = await up.waitForLog(missing);
      expect(warned.level).toBe(40);
      expect(String(warned.msg)).toMatch(/--context-root \(env AUTOPOLL_CONTEXT_ROOT\)/);
      const again = ask('docs/old.md');
      expect((await again.exited).code, again.stderr).toBe(1);
      expect(up.lines.filter((l) => missing.test(String(l.msg)))).toHaveLength(1);
    } finally {
      await up.kill('SIGTERM');
    }
  });
});

describe('tools root: the start scan', () => {
  it("refuses a root that is HOME (holding ~/.claude) or holds a hard link to Claude Code's credentials", async () => {
    const home = tempDir('autopoll-home-');
    mkdirSync(join(home, '.claude'));
    writeFileSync(join(home, '.claude', '.credentials.json'), '{"claudeAiOauth":{"refreshToken":"sk-ant-ort01-x"}}\n');
    const withLink = tempDir('autopoll-tools-');
    linkSync(join(home, '.claude', '.credentials.json'), join(withLink, 'notes.md'));
    for (const [root, what] of [[home, /\/\.claude(\.json)?, which autopoll owns/], [withLink, /notes\.md, which is Claude Code's config or credentials/]] as const) {
      const consumer = new AutopollProcess(['consumer', '--redis', redisUrl, '--prefix', testPrefix(), '--answerer', 'claude', '--tools-root', root], { ANTHROPIC_API_KEY: 'sk-ant-test', HOME: home, CLAUDE_CONFIG_DIR: undefined });
      const exit = await Promise.race([consumer.exited, new Promise((r) => setTimeout(r, 30_000)).then(() => consumer.kill())]);
      expect(exit.code, consumer.stderr).toBe(2);
      expect(consumer.stderr).toMatch(what);
    }
  });

  it('skips links to a device and a FIFO (no file Grep reads): the consumer starts, and says what the scan took', async () => {
    const root = tempDir('autopoll-tools-');
    writeFileSync(join(root, 'a.md'), 'fine\n');
    symlinkSync('/dev/null', join(root, 'null.txt'));
    execFileSync('mkfifo', [join(root, 'pipe')]);
    symlinkSync(join(root, 'pipe'), join(root, 'pipe-link.txt'));
    const api = await new FakeAnthropic().start();
    const consumer = new AutopollProcess(['consumer', '--redis', redisUrl, '--prefix', testPrefix(), '--answerer', 'claude', '--sessions', '1', '--tools-root', root], claudeEnv(api.url));
    try {
      const scanned = await Promise.race([consumer.waitForLog(/scanned the tools root/, 30_000), consumer.exited.then(() => expect.fail(`the consumer exited: ${consumer.stderr}`))]);
      expect(scanned).toMatchObject({ level: 30, entries: 4, durationMs: expect.any(Number) });
      await consumer.waitForLog(/^consumer started$/, 60_000);
    } finally {
      await consumer.kill('SIGTERM');
      await api.stop();
    }
  });
});

describe('tools root: Read, Grep and Glob never reach the bridge file', () => {
  it('a consumer refuses a --tools-root holding a hard link to a bridge file, a link to one, or data/redis', async () => {
    const bridge = BridgeFixture.create();
    try {
      const withHardLink = tempDir('autopoll-tools-');
      mkdirSync(join(withHardLink, 'docs'));
      writeFileSync(join(withHardLink, 'docs', 'a.md'), 'fine\n');
      linkSync(bridge.path, join(withHardLink, 'docs', 'notes.txt'));
      const withLink = tempDir('autopoll-tools-');
      symlinkSync(`${bridge.path}-wal`, join(withLink, 'log.txt'));
      const cwd = tempDir('autopoll-cwd-');
      mkdirSync(join(cwd, 'data', 'redis'), { recursive: true });
      for (const [root, what, dir] of [[withHardLink, /docs\/notes\.txt, which holds SQLite pages/, undefined], [withLink, /log\.txt, which holds SQLite pages/, undefined], ['.', /data\/redis, which autopoll owns/, cwd]] as const) {
        const consumer = new AutopollProcess(['consumer', '--redis', redisUrl, '--prefix', testPrefix(), '--answerer', 'claude', '--tools-root', root], { ANTHROPIC_API_KEY: 'sk-ant-test' }, { launcher: dir ? ['env', '-C', dir] : [] });
        const exit = await Promise.race([consumer.exited, new Promise((r) => setTimeout(r, 30_000)).then(() => consumer.kill())]);
        expect(exit.code, consumer.stderr).toBe(2);
        expect(consumer.stderr).toContain('--tools-root (env AUTOPOLL_TOOLS_ROOT)');
        expect(consumer.stderr).toMatch(what);
      }
    } finally {
      bridge.close();
    }
  });
});
