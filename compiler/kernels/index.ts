/** Registers every kernel family. */
import './elementwise.ts';
import './tensor.ts';
import './nn.ts';
import './nn-extra.ts';
import './transcendental.ts';
import './data.ts';
import './reduce.ts';
import './special.ts';
import './quant.ts';
