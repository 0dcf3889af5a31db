#!/usr/bin/env node
// Launcher: preloads binaryen (see preload.mjs), registers tsx so that the TypeScript sources run as they
// are, then starts the CLI.
import './preload.mjs';
import { register } from 'tsx/esm/api';
register();
await import('./main.ts');
