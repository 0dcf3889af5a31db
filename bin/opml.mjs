#!/usr/bin/env node
// Launcher. In the repository it runs the TypeScript sources as they are: it preloads binaryen (see
// preload.mjs), registers tsx, then starts bin/main.ts. An installed package (npm pack; see
// docs/library.md) ships no sources but the JavaScript that `npm run build` compiles into dist/, which
// runs on plain Node.
import fs from 'node:fs';
import v8 from 'node:v8';

v8.setFlagsFromString('--no-liftoff'); // TurboFan for every kernel from its first run (see preload.mjs)

if (fs.existsSync(new URL('./main.ts', import.meta.url))) {
  await import('./preload.mjs');
  const { register } = await import('tsx/esm/api');
  register();
  await import('./main.ts');
} else {
  await import('../dist/bin/main.js');
}
