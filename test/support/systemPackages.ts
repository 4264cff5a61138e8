/**
 * What `npm test` needs from the system besides Node: redis-server (every Redis the tests start),
 * Chromium (the board's browser test), python3 (the bridge's own JSON and timestamps, compared
 * byte for byte) and ps (procps: the Claude tests count processes). The README's install section
 * gives this one command and .ci/run installs the same packages; a test that finds one missing
 * names the command.
 */
export const SYSTEM_PACKAGES = ['redis-server', 'chromium', 'python3', 'procps'];
// The update first: a fresh Debian (a container) has no package lists and finds none of them without it.
export const INSTALL_SYSTEM_PACKAGES = `sudo apt-get update && sudo apt-get install -y ${SYSTEM_PACKAGES.join(' ')}`;
