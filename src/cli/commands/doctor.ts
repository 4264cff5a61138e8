import type { Command } from 'commander';
import { doctorChecks } from '../../doctor/doctor.js';
import { doctorExitCode, formatJson, formatReport } from '../../doctor/format.js';
import { runDoctorChecks } from '../../doctor/check.js';
import { chosenRedis } from '../connect.js';
import { addOptions, COMMON, CONSUMER, DOCTOR, parseOptions, PRODUCER } from '../options.js';

export function registerDoctor(program: Command): void {
  const specs = {
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
  addOptions(
    program.command('doctor').description('check Redis, the bridge file, the served conversations, Claude Code and the context root; say how to fix what is wrong (exit 1 if anything failed)'),
    specs,
  ).action(async (_opts, cmd: Command) => {
    const o = parseOptions(specs, cmd.opts());
    const results = await runDoctorChecks(
      doctorChecks({
        redis: await chosenRedis(o, cmd),
        bridgeDb: o.bridgeDb,
        conversations: o.conversation,
        role: o.role,
        contextRoot: o.contextRoot,
        answerer: o.answerer,
        model: o.model,
        skipClaude: o.skipClaude,
        claudePassEnv: o.claudeEnv,
      }),
    );
    // Exit once the report is written: a check that timed out may still hold a handle open.
    process.stdout.write(o.json ? formatJson(results) : formatReport(results), () => process.exit(doctorExitCode(results)));
  });
}
