// Loaded by `node --import` into a spawned autopoll (see test/support/packageLoads.ts): records every package
// the process loads, ESM imports through a resolve hook (they run on the hooks thread) and CommonJS
// requires from require.cache at exit, one file URL or path a line in AUTOPOLL_TEST_LOADS_FILE.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

register('./hooks.mjs', import.meta.url);

const file = process.env.AUTOPOLL_TEST_LOADS_FILE;
const require = createRequire(import.meta.url);
process.on('exit', () => {
  if (file) appendFileSync(file, Object.keys(require.cache).map((path) => `${path}\n`).join(''));
});
