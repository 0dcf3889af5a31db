#!/usr/bin/python3
"""Train a small Fashion-MNIST classifier with PyTorch and export it to ONNX.

Usage (Debian's python3 with python3-torch, python3-onnx and dataset-fashion-mnist):
    /usr/bin/python3 models/fashion_mnist.py --arch mlp   # -> models/fmnist-mlp/
    /usr/bin/python3 models/fashion_mnist.py --arch cnn   # -> models/fmnist-cnn/

Writes model.onnx, a few held-out test inputs as ONNX TensorProto files (samples/input_K.pb with
samples/labels.json), and metrics.json with the trainer's own test accuracy. Seeds are fixed so that a
rerun on the same software gives the same weights.
"""
import argparse, gzip, json, os, struct, sys
import numpy as np
import torch
import torch.nn as nn
import onnx
from onnx import numpy_helper

DATA = '/usr/share/datasets/fashion-mnist'
CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot']


def load(kind):
    with gzip.open(f'{DATA}/{kind}-images-idx3-ubyte.gz') as f:
        _, n, rows, cols = struct.unpack('>IIII', f.read(16))
        x = np.frombuffer(f.read(), dtype=np.uint8).reshape(n, 1, rows, cols)
    with gzip.open(f'{DATA}/{kind}-labels-idx1-ubyte.gz') as f:
        f.read(8)
        y = np.frombuffer(f.read(), dtype=np.uint8)
    return torch.from_numpy(x.astype(np.float32) / 255.0), torch.from_numpy(y.astype(np.int64))


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))


def cnn():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 7 * 7, 64), nn.ReLU(), nn.Linear(64, 10))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--arch', choices=['mlp', 'cnn'], required=True)
    ap.add_argument('--epochs', type=int, default=3)
    ap.add_argument('--samples', type=int, default=8, help='held-out test inputs to save')
    a = ap.parse_args()
    torch.manual_seed(0)
    np.random.seed(0)
    torch.set_num_threads(2)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), f'fmnist-{a.arch}')
    os.makedirs(os.path.join(out, 'samples'), exist_ok=True)
    xtr, ytr = load('train')
    xte, yte = load('t10k')
    model = mlp() if a.arch == 'mlp' else cnn()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    lossf = nn.CrossEntropyLoss()
    g = torch.Generator().manual_seed(0)
    for ep in range(a.epochs):
        model.train()
        perm = torch.randperm(len(xtr), generator=g)
        for i in range(0, len(xtr), 128):
            idx = perm[i:i + 128]
            opt.zero_grad()
            loss = lossf(model(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            acc = (model(xte).argmax(1) == yte).float().mean().item()
        print(f'epoch {ep + 1}: test accuracy {acc:.4f}', file=sys.stderr)
    path = os.path.join(out, 'model.onnx')
    torch.onnx.export(model, xte[:1], path, input_names=['image'], output_names=['logits'], opset_version=13,
                      do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path))
    labels = []
    for k in range(a.samples):
        t = numpy_helper.from_array(xte[k:k + 1].numpy(), name='image')
        with open(os.path.join(out, 'samples', f'input_{k}.pb'), 'wb') as f:
            f.write(t.SerializeToString())
        labels.append(int(yte[k]))
    with open(os.path.join(out, 'samples', 'labels.json'), 'w') as f:
        json.dump({'labels': labels, 'classes': CLASSES}, f, indent=1)
    with open(os.path.join(out, 'metrics.json'), 'w') as f:
        json.dump({'arch': a.arch, 'epochs': a.epochs, 'test_accuracy': round(acc, 4), 'test_examples': len(xte),
                   'torch': torch.__version__, 'onnx_opset': 13}, f, indent=1)
    print(f'wrote {path} (test accuracy {acc:.4f})')


if __name__ == '__main__':
    main()
