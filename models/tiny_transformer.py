#!/usr/bin/python3
"""Train a tiny character-level decoder-only transformer and export it to ONNX.

Usage (Debian's python3 with python3-torch and python3-onnx):
    /usr/bin/python3 models/tiny_transformer.py        # -> models/tiny-transformer/

The corpus is the GNU GPL v3 text that every Debian system ships (/usr/share/common-licenses/GPL-3).
The model: token and position embeddings, 2 pre-norm decoder blocks (causal multi-head self-attention,
LayerNorm, GELU MLP), a final LayerNorm and a tied output projection. Input: int64 token ids [1, T];
output: logits float32 [1, T, vocab]. Writes model.onnx, samples/input_K.pb (token windows from the
held-out tail of the corpus), vocab.json and metrics.json (next-character accuracy on held-out text).
"""
import json, math, os, sys
import numpy as np
import torch
import torch.nn as nn
import onnx
from onnx import numpy_helper

CORPUS = '/usr/share/common-licenses/GPL-3'
T, D, H, L = 32, 64, 4, 2


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(D), nn.LayerNorm(D)
        self.qkv, self.proj = nn.Linear(D, 3 * D), nn.Linear(D, D)
        self.fc1, self.fc2 = nn.Linear(D, 4 * D), nn.Linear(4 * D, D)
        self.register_buffer('mask', torch.tril(torch.ones(T, T)).view(1, 1, T, T))

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(D, dim=2)
        q = q.view(b, t, H, d // H).transpose(1, 2)
        k = k.view(b, t, H, d // H).transpose(1, 2)
        v = v.view(b, t, H, d // H).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(d // H))
        att = att.masked_fill(self.mask[:, :, :t, :t] == 0, float('-inf')).softmax(dim=-1)
        y = (att @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.proj(y)
        return x + self.fc2(nn.functional.gelu(self.fc1(self.ln2(x))))


class TinyTransformer(nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.tok, self.pos = nn.Embedding(vocab, D), nn.Embedding(T, D)
        self.blocks = nn.ModuleList([Block() for _ in range(L)])
        self.ln = nn.LayerNorm(D)

    def forward(self, ids):
        x = self.tok(ids) + self.pos(torch.arange(ids.shape[1]))
        for blk in self.blocks:
            x = blk(x)
        return self.ln(x) @ self.tok.weight.t()


def main():
    torch.manual_seed(0)
    torch.set_num_threads(2)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'tiny-transformer')
    os.makedirs(os.path.join(out, 'samples'), exist_ok=True)
    text = open(CORPUS, encoding='utf-8').read()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    data = torch.tensor([stoi[c] for c in text], dtype=torch.int64)
    split = int(len(data) * 0.9)
    train, held = data[:split], data[split:]
    model = TinyTransformer(len(chars))
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(0)
    steps = int(os.environ.get('STEPS', 1500))
    for step in range(steps):
        ix = torch.randint(len(train) - T - 1, (32,), generator=g)
        x = torch.stack([train[i:i + T] for i in ix])
        y = torch.stack([train[i + 1:i + T + 1] for i in ix])
        loss = nn.functional.cross_entropy(model(x).reshape(-1, len(chars)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 300 == 0:
            print(f'step {step}: loss {loss.item():.3f}', file=sys.stderr)
    model.eval()
    with torch.no_grad():
        starts = range(0, len(held) - T - 1, T)
        x = torch.stack([held[i:i + T] for i in starts])
        y = torch.stack([held[i + 1:i + T + 1] for i in starts])
        acc = (model(x).argmax(-1) == y).float().mean().item()
    path = os.path.join(out, 'model.onnx')
    torch.onnx.export(model, held[:T].view(1, T), path, input_names=['ids'], output_names=['logits'], opset_version=14,
                      do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path))
    for k in range(4):
        t = numpy_helper.from_array(held[k * T:(k + 1) * T].view(1, T).numpy(), name='ids')
        with open(os.path.join(out, 'samples', f'input_{k}.pb'), 'wb') as f:
            f.write(t.SerializeToString())
    with open(os.path.join(out, 'vocab.json'), 'w') as f:
        json.dump(chars, f)
    with open(os.path.join(out, 'metrics.json'), 'w') as f:
        json.dump({'held_out_next_char_accuracy': round(acc, 4), 'steps': steps, 'context': T, 'd_model': D, 'heads': H,
                   'layers': L, 'vocab': len(chars), 'torch': torch.__version__, 'onnx_opset': 14}, f, indent=1)
    print(f'wrote {path} (held-out next-char accuracy {acc:.4f})')


if __name__ == '__main__':
    main()
