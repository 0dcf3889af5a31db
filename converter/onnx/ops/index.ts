/** Registers every ONNX op lowering and every deliberate refusal. */
import './core.ts';
import './elementwise.ts';
import './tensor.ts';
import './reduce.ts';
import './nn.ts';
import './quant.ts';
import './special.ts';
import './control.ts';
import './sequence.ts';
import './tfidf.ts';
import './nms.ts';
import './refused.ts';
