"""PyTorch's numbers for notebook 06: the lecture's code (makemore part 4, becoming a backprop ninja),
the lecture's seed and split. One change: the lecture draws bngain and bnbias with torch.randn
without its generator g, from PyTorch's global generator, which a fresh process seeds at random, so
the lecture's own numbers (first loss 3.3377; train 2.0705 / val 2.1099) come from draws nobody can
repeat. Here the global generator is seeded with torch.manual_seed(42) first, as the notebook's
TorchGenerator(42) does, so the two can be compared digit for digit.

Prints the first loss of the small network (hidden 64), then trains the lecture's network (hidden
200) with the hand-written backward pass of exercise 4 and prints train and val loss after
calibrating BatchNorm on the training set, as the lecture does. One more change, for speed only: the
embedding's gradient is one index_add_ instead of the lecture's Python double loop (same sums).

Needs Python 3 and PyTorch (Debian's python3-torch 1.13 was used), and names.txt:
    python3 scripts/pytorch-reference/lecture06.py path/to/names.txt [steps]
"""
import sys
import time

import torch
import torch.nn.functional as F
from names_data import block_size, lecture_split

torch.set_num_threads(1)
(Xtr, Ytr), (Xdev, Ydev), _, vocab_size = lecture_split(sys.argv[1] if len(sys.argv) > 1 else "data/names.txt")
max_steps = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
n_embd = 10
torch.manual_seed(42)  # the global generator that bngain and bnbias are drawn from


def init(n_hidden):
    g = torch.Generator().manual_seed(2147483647)
    C = torch.randn((vocab_size, n_embd), generator=g)
    W1 = torch.randn((n_embd * block_size, n_hidden), generator=g) * (5 / 3) / ((n_embd * block_size) ** 0.5)
    b1 = torch.randn(n_hidden, generator=g) * 0.1
    W2 = torch.randn((n_hidden, vocab_size), generator=g) * 0.1
    b2 = torch.randn(vocab_size, generator=g) * 0.1
    bngain = torch.randn((1, n_hidden)) * 0.1 + 1.0
    bnbias = torch.randn((1, n_hidden)) * 0.1
    return g, [C, W1, b1, W2, b2, bngain, bnbias]


# The first loss (cells "forward pass, chunkated"), hidden 64.
g, (C, W1, b1, W2, b2, bngain, bnbias) = init(64)
n = 32
ix = torch.randint(0, Xtr.shape[0], (n,), generator=g)
Xb, Yb = Xtr[ix], Ytr[ix]
hprebn = C[Xb].view(n, -1) @ W1 + b1
bnmeani = 1 / n * hprebn.sum(0, keepdim=True)
bndiff = hprebn - bnmeani
bnvar = 1 / (n - 1) * (bndiff**2).sum(0, keepdim=True)
hpreact = bngain * bndiff * (bnvar + 1e-5) ** -0.5 + bnbias
logits = torch.tanh(hpreact) @ W2 + b2
print(f"first loss (hidden 64): {F.cross_entropy(logits, Yb).item():.4f}")

# Exercise 4: the lecture's training loop with the hand-written backward pass, hidden 200.
g, parameters = init(200)
C, W1, b1, W2, b2, bngain, bnbias = parameters
print(f"parameters: {sum(p.nelement() for p in parameters)}")
start = time.time()
with torch.no_grad():
    for i in range(max_steps):
        ix = torch.randint(0, Xtr.shape[0], (n,), generator=g)
        Xb, Yb = Xtr[ix], Ytr[ix]
        emb = C[Xb]
        embcat = emb.view(emb.shape[0], -1)
        hprebn = embcat @ W1 + b1
        bnmean = hprebn.mean(0, keepdim=True)
        bnvar = hprebn.var(0, keepdim=True, unbiased=True)
        bnvar_inv = (bnvar + 1e-5) ** -0.5
        bnraw = (hprebn - bnmean) * bnvar_inv
        hpreact = bngain * bnraw + bnbias
        h = torch.tanh(hpreact)
        logits = h @ W2 + b2
        loss = F.cross_entropy(logits, Yb)
        dlogits = F.softmax(logits, 1)
        dlogits[range(n), Yb] -= 1
        dlogits /= n
        dh = dlogits @ W2.T
        dW2 = h.T @ dlogits
        db2 = dlogits.sum(0)
        dhpreact = (1.0 - h**2) * dh
        dbngain = (bnraw * dhpreact).sum(0, keepdim=True)
        dbnbias = dhpreact.sum(0, keepdim=True)
        dhprebn = bngain * bnvar_inv / n * (n * dhpreact - dhpreact.sum(0) - n / (n - 1) * bnraw * (dhpreact * bnraw).sum(0))
        dembcat = dhprebn @ W1.T
        dW1 = embcat.T @ dhprebn
        db1 = dhprebn.sum(0)
        demb = dembcat.view(emb.shape)
        dC = torch.zeros_like(C).index_add_(0, Xb.view(-1), demb.view(-1, n_embd))
        lr = 0.1 if i < 100000 else 0.01
        for p, grad in zip(parameters, [dC, dW1, db1, dW2, db2, dbngain, dbnbias]):
            p.data += -lr * grad
        if i % 10000 == 0:
            print(f"{i:7d}/{max_steps:7d}: {loss.item():.4f}")
    seconds = time.time() - start
    hpreact = C[Xtr].view(Xtr.shape[0], -1) @ W1 + b1
    bnmean = hpreact.mean(0, keepdim=True)
    bnvar = hpreact.var(0, keepdim=True, unbiased=True)
    for name, (x, y) in {"train": (Xtr, Ytr), "val": (Xdev, Ydev)}.items():
        hpreact = C[x].view(x.shape[0], -1) @ W1 + b1
        h = torch.tanh(bngain * (hpreact - bnmean) * (bnvar + 1e-5) ** -0.5 + bnbias)
        print(f"{name} {F.cross_entropy(h @ W2 + b2, y).item():.4f}")
print(f"{max_steps} steps in {seconds:.0f} s ({max_steps / seconds:.0f} steps/s, 1 thread)")
