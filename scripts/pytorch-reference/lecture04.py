"""PyTorch's numbers for notebook 04's results table: the lecture's code (makemore part 3), the
lecture's seed and split, 200,000 steps per model. The notebook draws the same weights and batches
(TorchGenerator), so its losses can be compared with these digit for digit.

Needs Python 3 and PyTorch (Debian's python3-torch 1.13 was used), and names.txt:
    python3 scripts/pytorch-reference/lecture04.py path/to/names.txt [steps]
About 3 minutes per model on one core of a 2-core cloud machine.
"""
import sys
import time

import torch
import torch.nn.functional as F
from names_data import block_size, lecture_split

torch.set_num_threads(1)
(Xtr, Ytr), (Xdev, Ydev), _, vocab_size = lecture_split(sys.argv[1] if len(sys.argv) > 1 else "data/names.txt")
max_steps = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
n_embd, n_hidden = 10, 200


def batch_norm(x, batch_stats, running, formula):
    """The lecture's formula (unbiased std, no eps) or the notebook's (the paper's: biased variance + eps)."""
    if formula == "lecture":
        mean, scale = (x.mean(0, keepdim=True), x.std(0, keepdim=True)) if batch_stats else running
        return (x - mean) / scale, (mean, scale)
    if batch_stats:
        mean, var = x.mean(0, keepdim=True), x.var(0, keepdim=True, unbiased=False)
        normalized = (x - mean) / torch.sqrt(var + 1e-5)
        return normalized, (mean, var * x.shape[0] / (x.shape[0] - 1))  # running variance: unbiased
    mean, var = running
    return (x - mean) / torch.sqrt(var + 1e-5), running


def run(name, W1_scale, b1_scale, W2_scale, b2_scale, batchnorm=None):
    g = torch.Generator().manual_seed(2147483647)
    C = torch.randn((vocab_size, n_embd), generator=g)
    W1 = torch.randn((n_embd * block_size, n_hidden), generator=g) * W1_scale
    b1 = torch.randn(n_hidden, generator=g) * b1_scale if batchnorm is None else torch.zeros(n_hidden)
    W2 = torch.randn((n_hidden, vocab_size), generator=g) * W2_scale
    b2 = torch.randn(vocab_size, generator=g) * b2_scale
    bngain, bnbias = torch.ones((1, n_hidden)), torch.zeros((1, n_hidden))
    running = (torch.zeros((1, n_hidden)), torch.ones((1, n_hidden)))
    parameters = [C, W1, W2, b2] + ([b1] if batchnorm is None else [bngain, bnbias])
    for p in parameters:
        p.requires_grad = True

    def hidden(X, training):
        nonlocal running
        hpreact = C[X].view(-1, n_embd * block_size) @ W1 + b1
        if batchnorm is not None:
            normalized, stats = batch_norm(hpreact, training, running, batchnorm)
            if training:
                with torch.no_grad():
                    running = tuple(0.999 * r + 0.001 * s for r, s in zip(running, stats))
            hpreact = bngain * normalized + bnbias
        return torch.tanh(hpreact)

    start, first = time.time(), None
    for i in range(max_steps):
        ix = torch.randint(0, Xtr.shape[0], (32,), generator=g)
        loss = F.cross_entropy(hidden(Xtr[ix], True) @ W2 + b2, Ytr[ix])
        first = loss.item() if first is None else first
        for p in parameters:
            p.grad = None
        loss.backward()
        lr = 0.1 if i < 100_000 else 0.01
        for p in parameters:
            p.data += -lr * p.grad
    with torch.no_grad():
        train, val = (F.cross_entropy(hidden(X, False) @ W2 + b2, Y).item() for X, Y in ((Xtr, Ytr), (Xdev, Ydev)))
    print(f"{name}: first batch {first:.4f}, train {train:.4f}, val {val:.4f} ({time.time() - start:.0f} s)", flush=True)


kaiming = (5 / 3) / (n_embd * block_size) ** 0.5
run("original", 1, 1, 1, 1)
run("softmax fixed", 1, 1, 0.01, 0)
run("W1 x 0.2", 0.2, 0.01, 0.01, 0)
run("Kaiming", kaiming, 0.01, 0.01, 0)
run("BatchNorm, the notebook's formula", kaiming, 0, 0.01, 0, batchnorm="paper")
run("BatchNorm, the lecture's formula", kaiming, 0, 0.01, 0, batchnorm="lecture")
