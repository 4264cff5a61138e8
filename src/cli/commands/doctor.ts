import type { Command } from 'commander';
import { lazyAction } from '../lazyAction.js';
import { addOptions, COMMON, CONSUMER, DOCTOR, PRODUCER } from '../options.js';

export const DOCTOR_SPECS = {
  redis: COMMON.redis,
  redisCluster: COMMON.redisCluster,
  bridgeDb: DOCTOR.bridgeDb,
  conversation: PRODUCER.conversation,
  role: PRODUCER.role,
  contextRoot: PRODUCER.contextRoot,
  answerer: CONSUMER.answerer,
  model: CONSUMER.model,
  claudeEnv: CONSUMER.claudeEnv,
  json: DOCTOR.json,
  skipClaude: DOCTOR.skipClaude,
};

export function registerDoctor(program: Command): void {
  addOptions(
    program.command('doctor').description('check Redis, the bridge file, the served conversations, Claude Code and the context root; say how to fix what is wrong (exit 1 if anything failed)'),
    DOCTOR_SPECS,
  ).action(lazyAction(DOCTOR_SPECS, async () => (await import('../run/doctor.js')).runDoctor));
}
