/** Registers every kernel family. */
import './elementwise.ts';
import './tensor.ts';
import './nn.ts';
