/**
 * What every `opml` command shares: the examples block of its help, the check that an output path can be
 * written before any work starts, and one-line messages for file-system errors.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The help text shown after a command's options: `Examples:` and one command per line. */
export function examples(...lines: string[]): string {
  return `\n${lines.length > 1 ? 'Examples' : 'Example'}:\n${lines.map((l) => `  ${l}`).join('\n')}`;
}

/** An output path that cannot be written (exit code 2: the user chose it). */
export class OutputPathError extends Error {
  override name = 'OutputPathError';
}

/**
 * Fail early, before any work, when `target` cannot be created: an existing ancestor is a file, or the
 * nearest existing directory is not writable. `kind` says what goes there: a directory (a bundle, outputs)
 * or a file (a proof).
 */
export function checkOutputPath(target: string, option: string, kind: 'dir' | 'file'): void {
  const abs = path.resolve(target);
  const st = statOrNull(abs);
  if (st) {
    if (kind === 'dir' && !st.isDirectory()) throw new OutputPathError(`${option} ${target}: a file is in the way; choose another output directory or remove it`);
    if (kind === 'file' && st.isDirectory()) throw new OutputPathError(`${option} ${target}: is a directory; give a file name`);
  }
  let dir = path.dirname(abs);
  for (;;) {
    const s = statOrNull(dir);
    if (s) {
      if (!s.isDirectory()) throw new OutputPathError(`${option} ${target}: ${dir} is a file, not a directory; choose another output path`);
      // a real write, not access(2): root passes every permission check, yet not a read-only file system
      try {
        fs.rmdirSync(fs.mkdtempSync(path.join(dir, '.opml-write-check-')));
      } catch (e) {
        throw new OutputPathError(`${option} ${target}: cannot write into ${dir} (${(e as NodeJS.ErrnoException).code}); choose a writable directory`);
      }
      return;
    }
    const up = path.dirname(dir);
    if (up === dir) return;
    dir = up;
  }
}

/**
 * Remove what an interrupted run left beside `target`: the temporary directories and files (TARGET.tmp-PID-…,
 * TARGET.tmp-old-PID-…, TARGET.tmp-PID) of processes that no longer exist. Outputs are renamed into place
 * only when complete, so a Ctrl-C never leaves a half-written output, but it can leave these behind.
 */
export function removeStaleTemps(target: string): string[] {
  const abs = path.resolve(target);
  const dir = path.dirname(abs);
  const base = path.basename(abs);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    if (!n.startsWith(`${base}.tmp-`)) continue;
    const m = /^\.tmp-(?:old-)?(\d+)(?:-[0-9a-z]+)?$/.exec(n.slice(base.length));
    if (!m || isAlive(Number(m[1]))) continue;
    fs.rmSync(path.join(dir, n), { recursive: true, force: true });
    removed.push(path.join(dir, n));
  }
  return removed;
}

function isAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function statOrNull(p: string): fs.Stats | null {
  try {
    return fs.statSync(p);
  } catch {
    return null;
  }
}

/**
 * A file-system error that reached the command line (a disk filled up, a file vanished, permissions changed
 * during the run): one line naming the file, not a stack trace.
 */
export function fsErrorExit(e: unknown): { code: number; message: string } | undefined {
  const err = e as NodeJS.ErrnoException;
  if (!(e instanceof Error) || typeof err.code !== 'string' || !/^E[A-Z]+$/.test(err.code) || !err.path) return undefined;
  const what: Record<string, string> = {
    ENOENT: 'no such file or directory', EACCES: 'permission denied', EPERM: 'operation not permitted', ENOTDIR: 'a part of the path is a file',
    EISDIR: 'is a directory', EEXIST: 'already exists', ENOSPC: 'no space left on the device', EROFS: 'read-only file system', EMFILE: 'too many open files',
  };
  const dest = (err as { dest?: string }).dest;
  return { code: 2, message: `${err.path}${dest ? ` → ${dest}` : ''}: cannot ${err.syscall ?? 'access'} (${err.code}: ${what[err.code] ?? err.message}); check the path and its permissions` };
}

/** The directory of the opml package (the repository, or node_modules/opml when installed). */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = path.join(dir, 'package.json');
    if (fs.existsSync(pj)) {
      try {
        if ((JSON.parse(fs.readFileSync(pj, 'utf8')) as { name?: string }).name === 'opml') return dir;
      } catch {
        /* not ours */
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no opml package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/**
 * A file that ships with opml (a bundled model or sample), as a path: relative to the working directory
 * when it is there (inside the repository), else inside the installed package.
 */
export function bundledFile(rel: string): string {
  if (fs.existsSync(rel)) return rel;
  const p = path.join(packageRoot(), rel);
  return fs.existsSync(p) ? path.relative(process.cwd(), p) : rel;
}
