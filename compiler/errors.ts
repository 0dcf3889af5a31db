/** Errors the compiler reports to users (no binaryen import, so the CLI can map them cheaply). */
export class CompileError extends Error {
  override readonly name = 'CompileError';
  constructor(message: string, readonly details: readonly string[] = []) {
    super(message);
  }
  describe(): string {
    return [this.message, ...this.details.map((d) => `  ${d}`)].join('\n');
  }
}
