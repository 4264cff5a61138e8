import type { Command } from 'commander';
import { doctorChecks } from '../../doctor/doctor.js';
import { doctorExitCode, formatJson, formatReport } from '../../doctor/format.js';
import { runDoctorChecks } from '../../doctor/check.js';
import { chosenRedis } from '../connect.js';
import type { DOCTOR_SPECS } from '../commands/doctor.js';
import type { Parsed } from '../options.js';

export async function runDoctor(o: Parsed<typeof DOCTOR_SPECS>, cmd: Command): Promise<void> {
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
}
