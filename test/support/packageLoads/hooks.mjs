// The resolve hook of register.mjs: every module the ESM loader resolves, written as it resolves.
import { appendFileSync } from 'node:fs';

const file = process.env.AUTOPOLL_TEST_LOADS_FILE;

export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  if (file) appendFileSync(file, `${resolved.url}\n`);
  return resolved;
}
