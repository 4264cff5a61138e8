import { spawn, type ChildProcess } from 'node:child_process';
import type { SpawnOptions, SpawnedProcess } from '@anthropic-ai/claude-agent-sdk';

/**
 * Spawns Claude Code as the leader of its own process group, so that it and everything it
 * started can be killed together; keeps the tail of its stderr for error messages.
 */
export function spawnInGroup(options: SpawnOptions, onStderr: (text: string) => void): ChildProcess & SpawnedProcess {
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  child.stderr!.on('data', (chunk: Buffer) => onStderr(chunk.toString()));
  // The SDK aborts this after its own graceful close (stdin EOF, then a grace period).
  options.signal?.addEventListener('abort', () => killGroup(child), { once: true });
  return child as ChildProcess & SpawnedProcess;
}

/** SIGKILL to the whole process group; a group that is already gone is fine. */
export function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
