import { afterAll, inject } from 'vitest';
import { cleanUpFile } from './cleanup.js';

// A setup file: registered before the test file's own hooks, so it runs after them (vitest runs
// after-hooks in reverse order), once the file has stopped what it started.
afterAll(() => cleanUpFile(inject('redisUrl')));
