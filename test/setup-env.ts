import { inject } from 'vitest';

// The sandbox's endpoints, as `testbed env` printed them, for tests and for the CLI processes they spawn.
Object.assign(process.env, inject('testbedEnv'));
