"""The PyTorch peer for `npm run bench -- --only 03`: lecture 03's MLP training step (vocab 27, block 3,
embedding 10, hidden 200, batch 32), written as the lecture writes it (makemore_part2_mlp.ipynb):
    emb = C[Xtr[ix]]; h = tanh(emb.view(-1, 30) @ W1 + b1); logits = h @ W2 + b2
    loss = F.cross_entropy(logits, Ytr[ix]); backward; p.data += -lr * p.grad
The bench starts it once and sends one line per round, "<steps> <threads>"; it answers each with
"<steps per second> <steps per CPU second>" after a warm-up of 200 steps. Run by hand, it prints a few rounds:
    python3 scripts/pytorch-reference/lecture03-mlp-bench.py [threads ...]   (from the project root)
Needs Python 3 and PyTorch (Debian's python3-torch 1.13 was used) and data/names.txt.
"""
import torch, torch.nn.functional as F

from bench_peer import serve
from names_data import lecture_split

(Xtr, Ytr), _, _, _ = lecture_split()

g = torch.Generator().manual_seed(2147483647)
C = torch.randn((27, 10), generator=g)
W1 = torch.randn((30, 200), generator=g)
b1 = torch.randn(200, generator=g)
W2 = torch.randn((200, 27), generator=g) * 0.01
b2 = torch.randn(27, generator=g) * 0
parameters = [C, W1, b1, W2, b2]
for p in parameters: p.requires_grad = True

def step():
  ix = torch.randint(0, Xtr.shape[0], (32,), generator=g)
  emb = C[Xtr[ix]] # (32, 3, 10)
  h = torch.tanh(emb.view(-1, 30) @ W1 + b1) # (32, 200)
  logits = h @ W2 + b2 # (32, 27)
  loss = F.cross_entropy(logits, Ytr[ix])
  for p in parameters: p.grad = None
  loss.backward()
  for p in parameters: p.data += -0.1 * p.grad

if __name__ == '__main__':
  serve(step, 5000)
