#!/usr/bin/env node
// Launcher: registers tsx so that the TypeScript sources run as they are, then starts the CLI.
import { register } from 'tsx/esm/api';
register();
await import('./main.ts');
