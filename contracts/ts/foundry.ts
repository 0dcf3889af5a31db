/**
 * Paths of the foundry binaries installed by npm (@foundry-rs/forge, @foundry-rs/anvil 1.7.1).
 *
 * The packages' `bin.mjs` wrappers (what `npx forge` runs) do not pass the binary's exit status on:
 * `npx forge test` exits 0 even when tests fail. Scripts and tests therefore run the platform binary
 * (@foundry-rs/<tool>-<platform>-<arch>/bin/<tool>) directly.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const NODE_MODULES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'node_modules');
const require = createRequire(import.meta.url);

/** A package's directory as Node resolves it from here (also when opml is installed as a dependency and npm hoisted it). */
function packageDir(name: string): string | null {
  try {
    return path.dirname(require.resolve(`${name}/package.json`));
  } catch {
    return null;
  }
}

export function foundryBinary(tool: 'forge' | 'anvil'): string {
  const platform = process.platform === 'win32' ? 'win32' : process.platform;
  const arch = process.arch === 'x64' ? 'amd64' : process.arch;
  const exe = process.platform === 'win32' ? `${tool}.exe` : tool;
  const native = packageDir(`@foundry-rs/${tool}-${platform}-${arch}`);
  const wrapper = packageDir(`@foundry-rs/${tool}`);
  const candidates = [
    ...(native ? [path.join(native, 'bin', exe)] : []),
    ...(wrapper ? [path.join(wrapper, 'dist', exe)] : []),
    path.join(NODE_MODULES, '@foundry-rs', `${tool}-${platform}-${arch}`, 'bin', exe),
    path.join(NODE_MODULES, '@foundry-rs', tool, 'dist', exe),
  ];
  for (const c of candidates) if (fs.existsSync(c)) return c;
  throw new Error(`no ${tool} binary for ${process.platform}/${process.arch} under node_modules/@foundry-rs (tried ${candidates.join(', ')})`);
}
