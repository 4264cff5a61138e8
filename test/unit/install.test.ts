import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { minVersion, satisfies } from 'semver';
import { describe, expect, it } from 'vitest';
import { REPO } from '../support/bridge.js';

const read = (file: string) => readFileSync(join(REPO, file), 'utf8');
/** The README's "Install and run" section: all a newcomer follows. */
const installSection = () => /^## Install and run\n([\s\S]*?)^## /m.exec(read('README.md'))![1]!;

describe("a newcomer's install", () => {
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
