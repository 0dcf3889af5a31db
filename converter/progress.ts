/** A one-line progress display on stderr for long phases (only on a terminal). */
export interface Progress {
  (phase: string, done: number, total: number): void;
  done(): void;
}

export function progressReporter(enabled: boolean, stream: NodeJS.WriteStream = process.stderr): Progress {
  const tty = enabled && stream.isTTY;
  let last = 0;
  let shown = false;
  const f = ((phase: string, done: number, total: number) => {
    if (!tty) return;
    const now = Date.now();
    if (now - last < 100 && done < total) return;
    last = now;
    const pct = total ? Math.floor((100 * done) / total) : 100;
    const width = 30;
    const bar = '#'.repeat(Math.round((width * pct) / 100)).padEnd(width, '.');
    stream.write(`\r${phase.padEnd(8)} [${bar}] ${String(pct).padStart(3)}%`);
    shown = true;
  }) as Progress;
  f.done = () => {
    if (shown) stream.write('\r' + ' '.repeat(60) + '\r');
    shown = false;
  };
  return f;
}
