/**
 * Errors the converter reports to users. Each carries a category (for the conformance report and the
 * exit code) and enough context to name the file, node and op.
 */
export type ConvertErrorCategory =
  | 'malformed'        // not a readable model file
  | 'unsupported-op'   // op types with no lowering
  | 'dtype'            // a dtype the IR does not carry (string, float64 inputs …)
  | 'dynamic-shape'    // a shape that depends on run-time values, or a missing --input-shape
  | 'unsupported-attr' // a supported op with an attribute value or mode not handled
  | 'invalid-model';   // inconsistent model (shapes do not match, missing tensors)

export class ConvertError extends Error {
  override readonly name = 'ConvertError';
  constructor(
    message: string,
    readonly category: ConvertErrorCategory,
    readonly details: readonly string[] = [],
  ) {
    super(message);
  }
  /** Full text for the terminal: the message, then one indented line per detail. */
  describe(): string {
    return [this.message, ...this.details.map((d) => `  ${d}`)].join('\n');
  }
}

/** Warnings collected during a conversion (precision loss, ignored attributes …). */
export interface WarningSink {
  warn(message: string): void;
}

/** "(CODE); what to do" for a file that could not be opened or read, to follow "FILE: cannot read ". */
export function fileProblem(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const hint: Record<string, string> = {
    ENOENT: 'no such file; check the path',
    EACCES: 'permission denied; check the file\'s permissions',
    EPERM: 'not permitted; check the file\'s permissions',
    EISDIR: 'it is a directory; give the file',
    ENOTDIR: 'a part of the path is a file; check the path',
  };
  return code ? `(${code})${hint[code] ? `; ${hint[code]}` : ''}` : `(${(e as Error).message})`;
}
