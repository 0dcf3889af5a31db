/**
 * Progress of a long phase on stderr. Shown only once the work has taken more than a second, and only on a
 * terminal (a bar redrawn in place) or when asked for with --progress (then one line per phase and at
 * most one per second elsewhere, for logs). Nothing is written otherwise: tests and pipes stay quiet.
 */
export interface Progress {
  (phase: string, done: number, total: number): void;
  /** Clear the bar (call when the work is done, also on failure). */
  done(): void;
}

export interface ProgressOptions {
  /** Show even when the stream is not a terminal (--progress). */
  force?: boolean;
  /** Milliseconds before anything is shown (default 1000). */
  delayMs?: number;
}

/** Whether to report progress: `--progress` forces it, `--quiet` silences it, otherwise on a terminal only. */
export function progressReporter(enabled: boolean, stream: NodeJS.WriteStream = process.stderr, opts: ProgressOptions = {}): Progress {
  const tty = Boolean(stream.isTTY);
  const on = enabled && (tty || opts.force === true);
  const start = Date.now();
  const delay = opts.delayMs ?? 1000;
  let last = 0;
  let lastPhase = '';
  let shown = false;
  const f = ((phase: string, done: number, total: number) => {
    if (!on) return;
    const now = Date.now();
    if (now - start < delay) return;
    const pct = total ? Math.min(100, Math.floor((100 * done) / total)) : 100;
    if (tty) {
      if (now - last < 100 && done < total && phase === lastPhase) return;
      const width = 30;
      const bar = '#'.repeat(Math.round((width * pct) / 100)).padEnd(width, '.');
      stream.write(`\r\x1b[K${phase.padEnd(8)} [${bar}] ${String(pct).padStart(3)}% (${done}/${total})`);
      shown = true;
    } else {
      if (phase === lastPhase && now - last < 1000 && done < total) return;
      stream.write(`${phase}: ${done}/${total} (${pct}%)\n`);
    }
    last = now;
    lastPhase = phase;
  }) as Progress;
  f.done = () => {
    if (shown) stream.write('\r\x1b[K');
    shown = false;
  };
  return f;
}
