"""The PyTorch peer for `npm run bench -- --only 07`: lecture 07's final model (the lecture's own classes
from makemore_part5_cnn1.ipynb, in lecture07.py: n_embd 24, n_hidden 128, batch 32, SGD).
The bench starts it once and sends one line per round, "<steps> <threads>"; it answers each with
"<steps per second> <steps per CPU second>" after a warm-up of 200 steps. Run by hand, it prints a few rounds:
    python3 scripts/pytorch-reference/lecture07-bench.py [threads ...]   (from the project root)
Needs Python 3 and PyTorch (Debian's python3-torch 1.13 was used) and data/names.txt.
"""
import torch, torch.nn.functional as F

from bench_peer import serve
from names_data import lecture_split
from lecture07 import block_size, final_model

(Xtr, Ytr), _, _, vocab_size = lecture_split("data/names.txt", block_size)
torch.manual_seed(42)
model, parameters = final_model(vocab_size)

def step():
  ix = torch.randint(0, Xtr.shape[0], (32,))
  loss = F.cross_entropy(model(Xtr[ix]), Ytr[ix])
  for p in parameters: p.grad = None
  loss.backward()
  for p in parameters: p.data += -0.1 * p.grad

if __name__ == '__main__':
  serve(step, 2000)
