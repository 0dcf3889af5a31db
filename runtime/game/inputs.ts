/**
 * Inputs given by URI (docs/game.md §3.1: large inputs keep only their data root on chain): a request
 * names a file (file:// URI or path) in a format opml reads (.pb, .npy, .json), and an agent accepts it
 * only when its bytes have the data root the request committed to.
 */
import { fileURLToPath } from 'node:url';
import type { HostTensor } from '../../converter/ir/host-tensor.ts';
import { hostBytes } from '../../converter/ir/host-tensor.ts';
import type { TensorType } from '../../converter/ir/types.ts';
import { formatShape, shapeEquals } from '../../converter/ir/types.ts';
import { toHex } from '../../converter/ir/keccak.ts';
import { readTensorFile } from '../../converter/io/tensor-files.ts';
import { dataRoot } from '../../compiler/commit/tensor.ts';
import { ChainError } from './chain.ts';

/** The file a URI names: file:// URIs and plain paths; other schemes cannot be fetched here. */
export function uriPath(uri: string): string {
  if (uri.startsWith('file://')) return fileURLToPath(uri);
  if (/^[a-z][a-z0-9+.-]*:/i.test(uri)) throw new ChainError(`input URI ${uri}: only file:// URIs (or paths) can be read; fetch it and serve it from a file`);
  return uri;
}

export function inputFromUri(uri: string, type: TensorType, root: Uint8Array, what: string): HostTensor {
  if (!uri) throw new ChainError(`${what}: given by data root only, with no URI to read it from`);
  const t = readTensorFile(uriPath(uri), type);
  if (t.dtype !== type.dtype || !shapeEquals(t.shape, type.shape)) throw new ChainError(`${what}: ${uri} holds ${t.dtype}${formatShape(t.shape)}, the model takes ${type.dtype}${formatShape(type.shape)}`);
  const got = dataRoot(hostBytes(t));
  if (toHex(got) !== toHex(root)) throw new ChainError(`${what}: the bytes at ${uri} have data root ${toHex(got)}, the request committed to ${toHex(root)}`);
  return t;
}
