/** Registers every IR op family. Import this module before using the op registry. */
import './elementwise.ts';
import './tensor.ts';
import './reduce.ts';
import './nn.ts';
import './quant.ts';
import './special.ts';
