/**
 * Compile the OPML contracts with solc-js (node_modules/solc, WebAssembly: nothing is downloaded) through
 * the standard-JSON interface, with the settings of contracts/foundry.toml (optimizer on, 200 runs, EVM
 * version prague), and return each contract's ABI and bytecode, for TypeScript tests and clients that
 * deploy to anvil or a chain.
 *
 *   const { OPVM } = compileContracts();
 *   const factory = new ethers.ContractFactory(OPVM.abi, OPVM.bytecode, signer);
 *
 * Sources are contracts/src/*.sol (or only the units named in `only`) plus any `extraSources` (paths
 * relative to contracts/, e.g. test harnesses). Imports resolve relative to contracts/ and never outside it. Results are memoised in the
 * process and cached on disk in the OS temp directory, keyed by the sources, settings and compiler version.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const solc = require('solc') as { compile(input: string, callbacks?: { import(p: string): { contents: string } | { error: string } }): string; version(): string };

/** contracts/ */
export const CONTRACTS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const COMPILER_SETTINGS = {
  optimizer: { enabled: true, runs: 200 },
  evmVersion: 'prague',
  viaIR: false,
} as const;

export interface CompiledContract {
  /** Source unit, e.g. "src/OPVM.sol". */
  source: string;
  name: string;
  abi: unknown[];
  /** Creation bytecode, 0x-hex (unlinked libraries would show as __$…$__ placeholders; ours are internal). */
  bytecode: string;
  /** Runtime bytecode, 0x-hex. */
  deployedBytecode: string;
}

export class CompileError extends Error {
  override readonly name = 'CompileError';
}

export interface CompileOptions {
  /**
   * Compile only these source units (relative to contracts/, e.g. ['src/OPVM.sol']) and what they import,
   * instead of every contracts/src/*.sol.
   */
  only?: readonly string[];
  /** More sources to compile, relative to contracts/ (e.g. 'test/harness/OPVMHarness.sol'). */
  extraSources?: readonly string[];
  /** Skip the on-disk cache (the in-process memo still applies). */
  noCache?: boolean;
}

const memo = new Map<string, Record<string, CompiledContract>>();

function inside(file: string, root: string): boolean {
  const rel = path.relative(root, file);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function listSources(only: readonly string[] | undefined, extra: readonly string[]): string[] {
  const src = only ?? fs.readdirSync(path.join(CONTRACTS_DIR, 'src')).filter((f) => f.endsWith('.sol')).sort().map((f) => `src/${f}`);
  return [...new Set([...src, ...extra].map((e) => e.split(path.sep).join('/')))];
}

/**
 * Compile contracts/src (and extraSources) and return the contracts by name (e.g. result.OPVM). A name
 * defined in two source units is keyed "source:Name" instead.
 */
export function compileContracts(opts: CompileOptions = {}): Record<string, CompiledContract> {
  const units = listSources(opts.only, opts.extraSources ?? []);
  const sources: Record<string, { content: string }> = {};
  for (const u of units) {
    const file = path.resolve(CONTRACTS_DIR, u);
    if (!inside(file, CONTRACTS_DIR)) throw new CompileError(`${u}: outside contracts/`);
    sources[u] = { content: fs.readFileSync(file, 'utf8') };
  }
  const input = {
    language: 'Solidity',
    sources,
    settings: {
      ...COMPILER_SETTINGS,
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
    },
  };
  // Imports a unit pulls in are part of the key: hash every .sol file under src/ and the extras' folders.
  const key = crypto.createHash('sha256').update(solc.version()).update(JSON.stringify(input)).update(importedContentKey()).digest('hex');
  const hit = memo.get(key);
  if (hit) return hit;
  const cacheFile = path.join(os.tmpdir(), `opml-solc-${key.slice(0, 32)}.json`);
  if (!opts.noCache && fs.existsSync(cacheFile)) {
    try {
      const cached = JSON.parse(fs.readFileSync(cacheFile, 'utf8')) as Record<string, CompiledContract>;
      memo.set(key, cached);
      return cached;
    } catch {
      /* recompile */
    }
  }
  const findImports = (p: string) => {
    const file = path.resolve(CONTRACTS_DIR, p);
    if (!inside(file, CONTRACTS_DIR)) return { error: `import outside contracts/: ${p}` };
    try {
      return { contents: fs.readFileSync(file, 'utf8') };
    } catch {
      return { error: `file not found: ${p}` };
    }
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports })) as {
    errors?: { severity: string; formattedMessage: string }[];
    contracts?: Record<string, Record<string, { abi: unknown[]; evm: { bytecode: { object: string }; deployedBytecode: { object: string } } }>>;
  };
  const errors = (out.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length) throw new CompileError(errors.map((e) => e.formattedMessage).join('\n'));
  const result: Record<string, CompiledContract> = {};
  const seen = new Map<string, number>();
  for (const contracts of Object.values(out.contracts ?? {})) {
    for (const name of Object.keys(contracts)) seen.set(name, (seen.get(name) ?? 0) + 1);
  }
  for (const [source, contracts] of Object.entries(out.contracts ?? {})) {
    for (const [name, c] of Object.entries(contracts)) {
      const entry: CompiledContract = {
        source, name, abi: c.abi, bytecode: '0x' + c.evm.bytecode.object, deployedBytecode: '0x' + c.evm.deployedBytecode.object,
      };
      result[seen.get(name)! > 1 ? `${source}:${name}` : name] = entry;
    }
  }
  memo.set(key, result);
  if (!opts.noCache) {
    try {
      fs.writeFileSync(`${cacheFile}.${process.pid}.tmp`, JSON.stringify(result));
      fs.renameSync(`${cacheFile}.${process.pid}.tmp`, cacheFile);
    } catch {
      /* the cache is optional */
    }
  }
  return result;
}

/** Hash of every .sol file under contracts/src and contracts/test (what an import can reach). */
function importedContentKey(): string {
  const h = crypto.createHash('sha256');
  const walk = (dir: string) => {
    if (!fs.existsSync(dir)) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.sol')) h.update(path.relative(CONTRACTS_DIR, p)).update(fs.readFileSync(p));
    }
  };
  walk(path.join(CONTRACTS_DIR, 'src'));
  walk(path.join(CONTRACTS_DIR, 'test'));
  return h.digest('hex');
}
