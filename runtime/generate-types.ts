/**
 * The types of `opml generate` (docs/generate.md): its options and the transcript it writes. Kept apart from
 * runtime/generate.ts so that the library's declarations (index.ts) do not pull in the ONNX protobuf types.
 */
export type GenerateMode = 'kv-cache' | 'window';

export interface GenerateOptions {
  promptIds: readonly number[];
  maxTokens: number;
  /** Seeded sampling instead of greedy arg-max. */
  sample?: boolean;
  seed?: number | bigint;
  temperature?: number;
  topK?: number;
  /** Context length: kv-cache mode caches context − 1 positions; window mode runs windows of this length
   *  (fixed by the model when its sequence dimension is static). Default: prompt + max-tokens. */
  context?: number;
  /** Where compiled bundles are cached (default: $TMPDIR/opml-generate). */
  cacheDir?: string;
  threads?: number;
  /** Compute the graph states S_0 and S_n of every step (default true). */
  states?: boolean;
  /** Write every step's inputs as DIR/step_T/NAME.pb (ONNX TensorProto), ready for opml run/trace/request. */
  saveSteps?: string;
  onStep?: (s: StepRecord) => void;
  onCompile?: (what: string, phase: 'start' | 'cached' | 'done', ms?: number) => void;
}

export interface StepRecord {
  step: number;
  bundle: 'prefill' | 'decode' | 'window';
  /** Position id of the first token this step feeds. */
  position: number;
  /** Tensor commitment of every input, by name. */
  inputs: Record<string, string>;
  /** Tensor commitment of every output, by name. */
  outputs: Record<string, string>;
  /** Graph states: S_0 (constants + inputs) and S_n (after the last node). */
  s0?: string;
  sn?: string;
  token: number;
  ms: number;
}

export interface BundleInfo {
  dir: string;
  modelHash: string;
  modelCommitment?: string;
  nodes: number;
}

export const TRANSCRIPT_FORMAT = 'opml-generate-transcript';
export const TRANSCRIPT_VERSION = 1;

export interface Transcript {
  format: typeof TRANSCRIPT_FORMAT;
  version: number;
  model: string;
  mode: GenerateMode;
  context: number;
  prompt: number[];
  sampling: { kind: 'greedy' } | { kind: 'sample'; seed: string; temperature: number; topK: number; prng: 'splitmix64' };
  bundles: Record<string, BundleInfo>;
  steps: StepRecord[];
  tokens: number[];
  /** kv-cache mode: every past_key_values input of step t+1 has the commitment of the matching present output of step t. */
  chained?: boolean;
  text?: string;
}
