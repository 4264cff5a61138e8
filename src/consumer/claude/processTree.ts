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
  options.signal?.addEventListener('abort', () => killGroup(child.pid), { once: true });
  return child as ChildProcess & SpawnedProcess;
}

/**
 * SIGKILL to the process group a process leads (one spawned with `detached`, as here and in the
 * bench); a group that is already gone, or a child that never got a pid, is fine.
 */
export function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
