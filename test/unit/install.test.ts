import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { minVersion, satisfies } from 'semver';
import { describe, expect, it } from 'vitest';
import { REPO } from '../support/bridge.js';
import { INSTALL_SYSTEM_PACKAGES, SYSTEM_PACKAGES } from '../support/systemPackages.js';

const read = (file: string) => readFileSync(join(REPO, file), 'utf8');
/** The README's "Install and run" section: all a newcomer follows. */
const installSection = () => /^## Install and run\n([\s\S]*?)^## /m.exec(read('README.md'))![1]!;

describe("a newcomer's install", () => {
  it("the README gives one apt-get command for what npm test needs from the system, then npm install; .ci/run does the same", () => {
    const section = installSection();
    expect(section.match(/^sudo apt-get .*$/gm)?.map((l) => l.replace(/\s+#.*$/, ''))).toEqual([INSTALL_SYSTEM_PACKAGES]);
    expect(section).toMatch(/^npm install\b/m);
    expect(section).toMatch(/^npm test\b/m);
    const ci = read('.ci/run');
    expect(/^packages=\((.*)\)$/m.exec(ci)?.[1]?.split(' ')).toEqual(SYSTEM_PACKAGES);
    expect(ci).toMatch(/^ .*apt-get install -y .*"\$\{packages\[@\]\}"/m);
    expect(ci.match(/^npm .*$/gm)).toEqual(['npm install', 'npm test']);
  });

  it("every package the lock file installs accepts the README's oldest Node, package.json's engines", () => {
    const floor = minVersion((JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node)!;
    expect(installSection()).toContain(`Node.js ${floor.major}.${floor.minor}+`);
    const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { version?: string; engines?: { node?: string } }> };
    const refusing = Object.entries(lock.packages).flatMap(([path, entry]) => {
      const range = entry.engines?.node;
      // What npm install reports as EBADENGINE on that Node.
      return range && !satisfies(floor, range) ? [`${path.replace(/^.*node_modules\//, '')}@${entry.version} wants node ${range}`] : [];
    });
    expect(refusing).toEqual([]);
  });
});
