#!/usr/bin/env node
// The CLI runs the TypeScript sources through tsx, so there is no build step.
import { register } from 'tsx/esm/api';

// `mapsync runs show … | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv);
