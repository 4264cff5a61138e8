/** `npm run bench:report`: writes bench/REPORT.md and its charts again from bench/results/*.json, running no benchmark. */
import { writeReport } from './write.js';

try {
  const { reportFile, charts } = await writeReport({ command: 'npm run bench:report' });
  process.stdout.write(`report: ${reportFile}\ncharts: ${charts.length ? charts.join(', ') : 'none (no results)'}\n`);
} catch (err) {
  process.stderr.write(`bench:report failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
}
