#!/usr/bin/python3
"""Post-training int8 quantization of the bundled Fashion-MNIST CNN into ONNX QLinear form.

Usage (Debian's python3 with python3-onnx, numpy and dataset-fashion-mnist; torch is not needed):
    /usr/bin/python3 models/fashion_mnist.py --arch cnn      # first, if models/fmnist-cnn/ is missing
    /usr/bin/python3 models/quantize_fmnist.py               # -> models/fmnist-cnn-int8/

Reads the trained float model models/fmnist-cnn/model.onnx (Conv → Relu → MaxPool → Conv → Relu → MaxPool →
Flatten → Gemm → Relu → Gemm, BatchNorm already folded), runs it in numpy on calibration images from the
training set to find activation ranges, and writes an opset-13 ONNX model that uses only default-domain ops:

    image ─QuantizeLinear(1/255, 0)→ uint8
          ─QLinearConv(int8 per-channel weights, int32 bias)→ uint8 (ReLU folded: zero point 0, clamp at 0)
          ─MaxPool→ ─QLinearConv→ uint8 ─MaxPool→ ─Flatten→ uint8[1,784]
          ─QLinearMatMul(int8 per-column weights)→ int8 ─DequantizeLinear→ ─Add(bias)→ ─QuantizeLinear→ uint8 (ReLU)
          ─QLinearMatMul→ int8 ─DequantizeLinear→ ─Add(bias)→ logits float32[1,10]

Activations are uint8 with zero point 0 (every quantized activation follows a ReLU, so its range starts at 0;
the input pixels k/255 are represented exactly); the pre-bias QLinearMatMul outputs are int8 symmetric.
Weights are int8 symmetric per output channel in [-127, 127]; conv biases are int32 with scale
x_scale·w_scale[c]. All scales and zero points are initializers.

Then the quantized graph is evaluated on the 10 000 test images by a numpy implementation that follows the
ONNX definitions in integer arithmetic: QuantizeLinear = saturate(round_half_even(f32(x / scale)) + zp);
QLinearConv / QLinearMatMul accumulate (x − x_zp)·(w − w_zp) (+ bias) exactly in int32 and requantize with
the real scale ratio x_scale·w_scale / y_scale, rounding half to even and saturating. The same evaluation is
also run with the integer fixed-point multipliers (31-bit multiplier, right shift) that OPML's converter
derives for its Requantize op, to show how often the two differ. The float model is evaluated as well.

Writes model.onnx, samples/ (copied from models/fmnist-cnn/samples, the same first test images),
metrics.json and reference logits of the samples (samples/expected_logits.json). Deterministic: the
calibration images are a seeded random subset of the training set. The accuracy through OPML is added
afterwards, as for the float models, by
    node --import tsx models/evaluate.ts models/fmnist-cnn-int8 --write    # metrics.json: opml_test_accuracy
"""
import argparse, gzip, json, os, shutil, struct, sys
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = '/usr/share/datasets/fashion-mnist'


def load(kind):
    with gzip.open(f'{DATA}/{kind}-images-idx3-ubyte.gz') as f:
        _, n, rows, cols = struct.unpack('>IIII', f.read(16))
        x = np.frombuffer(f.read(), dtype=np.uint8).reshape(n, 1, rows, cols)
    with gzip.open(f'{DATA}/{kind}-labels-idx1-ubyte.gz') as f:
        f.read(8)
        y = np.frombuffer(f.read(), dtype=np.uint8)
    return (x.astype(np.float32) / np.float32(255.0)), y.astype(np.int64)


# ----------------------------------------------------------------------------- the float model

def float_params(path):
    m = onnx.load(path)
    init = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    ops = [n.op_type for n in m.graph.node]
    expect = ['Conv', 'Relu', 'MaxPool', 'Conv', 'Relu', 'MaxPool', 'Flatten', 'Gemm', 'Relu', 'Gemm']
    if ops != expect:
        sys.exit(f'unexpected float graph {ops}, expected {expect}')
    p = {}
    convs = [n for n in m.graph.node if n.op_type == 'Conv']
    gemms = [n for n in m.graph.node if n.op_type == 'Gemm']
    for i, n in enumerate(convs):
        a = {x.name: helper.get_attribute_value(x) for x in n.attribute}
        assert list(a.get('pads', [0] * 4)) == [1, 1, 1, 1] and list(a.get('strides', [1, 1])) == [1, 1]
        assert a.get('group', 1) == 1 and list(a.get('dilations', [1, 1])) == [1, 1]
        p[f'conv{i + 1}.w'] = init[n.input[1]]
        p[f'conv{i + 1}.b'] = init[n.input[2]]
    for i, n in enumerate(gemms):
        a = {x.name: helper.get_attribute_value(x) for x in n.attribute}
        assert a.get('transB', 0) == 1 and a.get('transA', 0) == 0 and a.get('alpha', 1.0) == 1.0 and a.get('beta', 1.0) == 1.0
        p[f'fc{i + 1}.w'] = init[n.input[1]]  # [out, in]
        p[f'fc{i + 1}.b'] = init[n.input[2]]
    return p


def im2col3x3(x):
    """x [N, C, H, W] → [N, H, W, C*9] patches of a 3×3, pad 1, stride 1 convolution (C-major, then kh, kw)."""
    n, c, h, w = x.shape
    xp = np.zeros((n, c, h + 2, w + 2), dtype=x.dtype)
    xp[:, :, 1:-1, 1:-1] = x
    cols = np.empty((n, c, 3, 3, h, w), dtype=x.dtype)
    for i in range(3):
        for j in range(3):
            cols[:, :, i, j] = xp[:, :, i:i + h, j:j + w]
    return cols.transpose(0, 4, 5, 1, 2, 3).reshape(n, h, w, c * 9)


def conv3x3(x, w):
    """Correlation as ONNX Conv (pad 1, zero padding; every zero point here is 0). x [N,C,H,W], w [M,C,3,3];
    computed in float64, which is exact for the integer accumulators (|acc| < 2^31)."""
    cols = im2col3x3(x.astype(np.float64))
    out = cols @ w.reshape(w.shape[0], -1).astype(np.float64).T  # [N, H, W, M]
    return out.transpose(0, 3, 1, 2)


def maxpool2(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def float_forward(p, x):
    """The float model; returns the logits and the intermediate tensors used for calibration."""
    t = {}
    c1 = np.maximum(conv3x3(x, p['conv1.w']) + p['conv1.b'][None, :, None, None], 0)
    t['conv1'] = c1
    c2 = np.maximum(conv3x3(maxpool2(c1), p['conv2.w']) + p['conv2.b'][None, :, None, None], 0)
    t['conv2'] = c2
    f = maxpool2(c2).reshape(len(x), -1)
    m1 = f @ p['fc1.w'].T.astype(np.float64)
    t['fc1.mm'] = m1
    h = np.maximum(m1 + p['fc1.b'], 0)
    t['fc1'] = h
    m2 = h @ p['fc2.w'].T.astype(np.float64)
    t['fc2.mm'] = m2
    return m2 + p['fc2.b'], t


# ----------------------------------------------------------------------------- quantization

def quant_weight(w):
    """Symmetric int8 per output channel (axis 0) in [-127, 127]. Returns q (int8), scale float32 [M]."""
    m = np.abs(w.reshape(w.shape[0], -1)).max(axis=1)
    s = (np.maximum(m, 1e-12) / 127.0).astype(np.float32)
    q = np.clip(np.rint(w / s.reshape(-1, *([1] * (w.ndim - 1)))), -127, 127).astype(np.int8)
    return q, s


def act_range(v, how, pct):
    v = np.asarray(v, dtype=np.float64).ravel()
    if how == 'max':
        return float(np.abs(v).max())
    return float(np.percentile(np.abs(v), pct))


def build(p, calib, how, pct):
    """Quantization parameters from the calibration activations."""
    q = {}
    q['in.s'] = np.float32(1.0 / 255.0)
    q['c1.s'] = np.float32(act_range(calib['conv1'], how, pct) / 255.0)
    q['c2.s'] = np.float32(act_range(calib['conv2'], how, pct) / 255.0)
    q['m1.s'] = np.float32(act_range(calib['fc1.mm'], how, pct) / 127.0)
    q['h1.s'] = np.float32(act_range(calib['fc1'], how, pct) / 255.0)
    q['m2.s'] = np.float32(act_range(calib['fc2.mm'], how, pct) / 127.0)
    q['conv1.wq'], q['conv1.ws'] = quant_weight(p['conv1.w'])
    q['conv2.wq'], q['conv2.ws'] = quant_weight(p['conv2.w'])
    q['fc1.wq'], q['fc1.ws'] = quant_weight(p['fc1.w'])  # per output feature = per column of W^T
    q['fc2.wq'], q['fc2.ws'] = quant_weight(p['fc2.w'])
    # int32 biases of the convolutions, scale x_scale · w_scale[c] (computed from the float32 values)
    bs1 = np.float64(q['in.s']) * q['conv1.ws'].astype(np.float64)
    bs2 = np.float64(q['c1.s']) * q['conv2.ws'].astype(np.float64)
    q['conv1.bq'] = np.rint(p['conv1.b'] / bs1).astype(np.int32)
    q['conv2.bq'] = np.rint(p['conv2.b'] / bs2).astype(np.int32)
    q['fc1.b'] = p['fc1.b'].astype(np.float32)
    q['fc2.b'] = p['fc2.b'].astype(np.float32)
    return q


def onnx_model(q):
    I = []

    def const(name, arr):
        I.append(numpy_helper.from_array(np.asarray(arr), name=name))
        return name

    u8 = lambda v: np.array(v, dtype=np.uint8)
    i8 = lambda v: np.array(v, dtype=np.int8)
    f32 = lambda v: np.array(v, dtype=np.float32)
    const('in_scale', f32(q['in.s'])); const('in_zp', u8(0))
    const('conv1_w', q['conv1.wq']); const('conv1_w_scale', q['conv1.ws']); const('conv1_w_zp', np.zeros(8, np.int8))
    const('conv1_b', q['conv1.bq'])
    const('act1_scale', f32(q['c1.s'])); const('act1_zp', u8(0))
    const('conv2_w', q['conv2.wq']); const('conv2_w_scale', q['conv2.ws']); const('conv2_w_zp', np.zeros(16, np.int8))
    const('conv2_b', q['conv2.bq'])
    const('act2_scale', f32(q['c2.s'])); const('act2_zp', u8(0))
    const('fc1_w', np.ascontiguousarray(q['fc1.wq'].T)); const('fc1_w_scale', q['fc1.ws']); const('fc1_w_zp', np.zeros(64, np.int8))
    const('fc1_mm_scale', f32(q['m1.s'])); const('fc1_mm_zp', i8(0))
    const('fc1_b', q['fc1.b'])
    const('act3_scale', f32(q['h1.s'])); const('act3_zp', u8(0))
    const('fc2_w', np.ascontiguousarray(q['fc2.wq'].T)); const('fc2_w_scale', q['fc2.ws']); const('fc2_w_zp', np.zeros(10, np.int8))
    const('fc2_mm_scale', f32(q['m2.s'])); const('fc2_mm_zp', i8(0))
    const('fc2_b', q['fc2.b'])
    conv = dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1], dilations=[1, 1], group=1)
    pool = dict(kernel_shape=[2, 2], strides=[2, 2], pads=[0, 0, 0, 0])
    N = helper.make_node
    nodes = [
        N('QuantizeLinear', ['image', 'in_scale', 'in_zp'], ['image_q'], name='quant_input'),
        N('QLinearConv', ['image_q', 'in_scale', 'in_zp', 'conv1_w', 'conv1_w_scale', 'conv1_w_zp',
                          'act1_scale', 'act1_zp', 'conv1_b'], ['conv1_q'], name='conv1_relu', **conv),
        N('MaxPool', ['conv1_q'], ['pool1_q'], name='pool1', **pool),
        N('QLinearConv', ['pool1_q', 'act1_scale', 'act1_zp', 'conv2_w', 'conv2_w_scale', 'conv2_w_zp',
                          'act2_scale', 'act2_zp', 'conv2_b'], ['conv2_q'], name='conv2_relu', **conv),
        N('MaxPool', ['conv2_q'], ['pool2_q'], name='pool2', **pool),
        N('Flatten', ['pool2_q'], ['flat_q'], name='flatten', axis=1),
        N('QLinearMatMul', ['flat_q', 'act2_scale', 'act2_zp', 'fc1_w', 'fc1_w_scale', 'fc1_w_zp',
                            'fc1_mm_scale', 'fc1_mm_zp'], ['fc1_mm_q'], name='fc1_matmul'),
        N('DequantizeLinear', ['fc1_mm_q', 'fc1_mm_scale', 'fc1_mm_zp'], ['fc1_mm'], name='fc1_dequant'),
        N('Add', ['fc1_mm', 'fc1_b'], ['fc1'], name='fc1_bias'),
        N('QuantizeLinear', ['fc1', 'act3_scale', 'act3_zp'], ['fc1_q'], name='fc1_relu_quant'),
        N('QLinearMatMul', ['fc1_q', 'act3_scale', 'act3_zp', 'fc2_w', 'fc2_w_scale', 'fc2_w_zp',
                            'fc2_mm_scale', 'fc2_mm_zp'], ['fc2_mm_q'], name='fc2_matmul'),
        N('DequantizeLinear', ['fc2_mm_q', 'fc2_mm_scale', 'fc2_mm_zp'], ['fc2_mm'], name='fc2_dequant'),
        N('Add', ['fc2_mm', 'fc2_b'], ['logits'], name='fc2_bias'),
    ]
    g = helper.make_graph(nodes, 'fmnist_cnn_int8',
                          [helper.make_tensor_value_info('image', TensorProto.FLOAT, [1, 1, 28, 28])],
                          [helper.make_tensor_value_info('logits', TensorProto.FLOAT, [1, 10])], I)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)], producer_name='opml models/quantize_fmnist.py')
    m.ir_version = 7
    onnx.checker.check_model(m, full_check=True)
    return m


# ----------------------------------------------------------------------------- numpy QLinear reference

def quantize(x, scale, zp, dtype):
    """ONNX QuantizeLinear: saturate(round_half_even(f32(x / scale)) + zp)."""
    info = np.iinfo(dtype)
    y = np.rint((np.asarray(x, np.float32) / np.float32(scale)).astype(np.float32)).astype(np.int64) + int(zp)
    return np.clip(y, info.min, info.max).astype(dtype)


def dequantize(x, scale, zp):
    """ONNX DequantizeLinear: f32((x − zp) · scale)."""
    return ((x.astype(np.int64) - int(zp)).astype(np.float32) * np.float32(scale)).astype(np.float32)


def fixed_point(r):
    """OPML's importer rule: multiplier = round_half_even(r · 2^shift) in [2^30, 2^31), shift ≤ 62."""
    from fractions import Fraction
    r = Fraction(r)
    shift = 0
    while r * 2 ** shift < 2 ** 30 and shift < 62:
        shift += 1
    while r * 2 ** shift >= 2 ** 31:
        shift -= 1
    v = r * 2 ** shift
    fl = v.numerator // v.denominator
    rem = v - fl
    m = fl + (1 if rem > Fraction(1, 2) or (rem == Fraction(1, 2) and fl % 2 == 1) else 0)
    return m, shift


def exact_ratio(nums, den):
    from fractions import Fraction
    r = Fraction(1)
    for n in nums:
        r *= Fraction(float(n))
    return r / Fraction(float(den))


def requantize(acc, ratios, zp, dtype, axis, mode):
    """int accumulator → saturate(round_half_even(acc · ratio) + zp); ratio per tensor or per `axis`.

    mode 'real': acc · ratio in float64 (ratio = the exact product/quotient of the float32 scales, rounded to
    float64) — the ONNX definition. mode 'fixed': OPML's integer fixed-point multiplier and shift."""
    info = np.iinfo(dtype)
    acc = acc.astype(np.int64)
    shape = [1] * acc.ndim
    shape[axis] = -1
    if mode == 'real':
        r = np.array([float(x) for x in ratios], np.float64).reshape(shape)
        q = np.rint(acc * r).astype(np.int64)
    else:
        ms, ss = zip(*(fixed_point(x) for x in ratios))
        ms = np.array(ms, dtype=np.int64).reshape(shape)
        ss = np.array(ss, dtype=np.int64).reshape(shape)
        assert np.abs(acc).max() < 2 ** 31 and ms.max() < 2 ** 31  # the product fits int64 exactly
        prod = acc * ms
        fl = prod >> ss  # arithmetic shift = floor
        rem = prod - (fl << ss)
        half = np.where(ss > 0, np.left_shift(1, np.maximum(ss - 1, 0)), 0)
        q = fl + ((rem > half) | ((rem == half) & (fl % 2 == 1) & (ss > 0)))
    return np.clip(q + int(zp), info.min, info.max).astype(dtype)


def qlinear_forward(q, x, mode='real'):
    """The quantized ONNX graph in numpy. Returns the float logits."""
    n = len(x)
    xq = quantize(x, q['in.s'], 0, np.uint8)
    r1 = [exact_ratio([q['in.s'], w], q['c1.s']) for w in q['conv1.ws']]
    acc = conv3x3(xq.astype(np.int64), q['conv1.wq'].astype(np.int64)).astype(np.int64) + q['conv1.bq'].reshape(1, -1, 1, 1)
    c1 = requantize(acc, r1, 0, np.uint8, 1, mode)
    p1 = maxpool2(c1)
    r2 = [exact_ratio([q['c1.s'], w], q['c2.s']) for w in q['conv2.ws']]
    acc = conv3x3(p1.astype(np.int64), q['conv2.wq'].astype(np.int64)).astype(np.int64) + q['conv2.bq'].reshape(1, -1, 1, 1)
    c2 = requantize(acc, r2, 0, np.uint8, 1, mode)
    f = maxpool2(c2).reshape(n, -1)
    r3 = [exact_ratio([q['c2.s'], w], q['m1.s']) for w in q['fc1.ws']]
    acc = (f.astype(np.float64) @ q['fc1.wq'].T.astype(np.float64)).astype(np.int64)
    m1 = requantize(acc, r3, 0, np.int8, 1, mode)
    h = (dequantize(m1, q['m1.s'], 0) + q['fc1.b']).astype(np.float32)
    hq = quantize(h, q['h1.s'], 0, np.uint8)
    r4 = [exact_ratio([q['h1.s'], w], q['m2.s']) for w in q['fc2.ws']]
    acc = (hq.astype(np.float64) @ q['fc2.wq'].T.astype(np.float64)).astype(np.int64)
    m2 = requantize(acc, r4, 0, np.int8, 1, mode)
    return (dequantize(m2, q['m2.s'], 0) + q['fc2.b']).astype(np.float32)


def batched(fn, x, bs=1000):
    return np.concatenate([fn(x[i:i + bs]) for i in range(0, len(x), bs)])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--calib-images', type=int, default=1000, help='training images used for calibration')
    ap.add_argument('--calib', choices=['max', 'percentile'], default='max', help='activation range rule')
    ap.add_argument('--percentile', type=float, default=99.99, help='with --calib percentile')
    ap.add_argument('--no-fixed', action='store_true', help='skip the fixed-point evaluation')
    a = ap.parse_args()
    src = os.path.join(HERE, 'fmnist-cnn')
    out = os.path.join(HERE, 'fmnist-cnn-int8')
    os.makedirs(os.path.join(out, 'samples'), exist_ok=True)
    p = float_params(os.path.join(src, 'model.onnx'))
    xtr, _ = load('train')
    xte, yte = load('t10k')
    rng = np.random.default_rng(0)
    idx = np.sort(rng.choice(len(xtr), a.calib_images, replace=False))
    _, calib = float_forward(p, xtr[idx])
    q = build(p, calib, a.calib, a.percentile)
    m = onnx_model(q)
    path = os.path.join(out, 'model.onnx')
    onnx.save(m, path)
    onnx.checker.check_model(onnx.load(path), full_check=True)

    flog = batched(lambda x: float_forward(p, x)[0], xte)
    facc = float((flog.argmax(1) == yte).mean())
    qlog = batched(lambda x: qlinear_forward(q, x, 'real'), xte)
    qacc = float((qlog.argmax(1) == yte).mean())
    agree = float((qlog.argmax(1) == flog.argmax(1)).mean())
    print(f'float accuracy {facc:.4f}; int8 accuracy {qacc:.4f}; top-1 agreement {agree:.4f}', file=sys.stderr)
    fixed = None
    if not a.no_fixed:
        xlog = batched(lambda x: qlinear_forward(q, x, 'fixed'), xte)
        fixed = {'images': len(xte), 'images_with_differing_logits': int((np.abs(xlog - qlog).max(1) > 0).sum()),
                 'top1_differing': int((xlog.argmax(1) != qlog.argmax(1)).sum()),
                 'test_accuracy': round(float((xlog.argmax(1) == yte).mean()), 4)}
        print(f'fixed-point requantization vs real ratio: {fixed}', file=sys.stderr)

    # samples: the same first test images as the float model
    labels = json.load(open(os.path.join(src, 'samples', 'labels.json')))
    expected = []
    for k in range(len(labels['labels'])):
        shutil.copyfile(os.path.join(src, 'samples', f'input_{k}.pb'), os.path.join(out, 'samples', f'input_{k}.pb'))
        t = TensorProto()
        t.ParseFromString(open(os.path.join(out, 'samples', f'input_{k}.pb'), 'rb').read())
        img = numpy_helper.to_array(t)
        assert np.array_equal(img, xte[k:k + 1])
        expected.append([float(v) for v in qlinear_forward(q, img, 'real')[0]])
    shutil.copyfile(os.path.join(src, 'samples', 'labels.json'), os.path.join(out, 'samples', 'labels.json'))
    with open(os.path.join(out, 'samples', 'expected_logits.json'), 'w') as f:
        json.dump({'note': 'int8 logits of input_K.pb from the numpy QLinear reference (models/quantize_fmnist.py)',
                   'logits': expected}, f, indent=1)

    scales = {k: float(q[k]) for k in ['in.s', 'c1.s', 'c2.s', 'm1.s', 'h1.s', 'm2.s']}
    names = {'in.s': 'input', 'c1.s': 'conv1_relu', 'c2.s': 'conv2_relu', 'm1.s': 'fc1_matmul_prebias',
             'h1.s': 'fc1_relu', 'm2.s': 'fc2_matmul_prebias'}
    metrics = {
        'arch': 'cnn-int8', 'source_model': 'models/fmnist-cnn/model.onnx',
        'test_accuracy': round(qacc, 4), 'float_test_accuracy': round(facc, 4),
        'float_test_accuracy_reported': json.load(open(os.path.join(src, 'metrics.json')))['test_accuracy'],
        'top1_agreement_with_float': round(agree, 4), 'test_examples': len(xte),
        'accuracy_measured_by': 'numpy QLinear reference in models/quantize_fmnist.py (ONNX integer semantics, '
                                'requantization with the real scale ratio, round half to even)',
        'fixed_point_requantize_check': fixed,
        'calibration': {'images': a.calib_images, 'source': 'training set, numpy default_rng(0) subset',
                        'rule': a.calib if a.calib == 'max' else f'percentile {a.percentile}',
                        'activation_scales': {names[k]: v for k, v in scales.items()},
                        'activation_zero_points': 'all 0 (uint8 after ReLU, int8 symmetric pre-bias)'},
        'weights': 'int8 symmetric per output channel [-127, 127], zero point 0; conv biases int32',
        'onnx_opset': 13, 'onnx': onnx.__version__, 'numpy': np.__version__,
    }
    with open(os.path.join(out, 'metrics.json'), 'w') as f:
        json.dump(metrics, f, indent=1)
    print(f'wrote {path} ({os.path.getsize(path)} bytes; int8 test accuracy {qacc:.4f}, float {facc:.4f})')


if __name__ == '__main__':
    main()
