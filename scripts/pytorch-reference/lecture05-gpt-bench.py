"""The PyTorch peer for `npm run bench -- --only gpt`: notebook 05's GPT as lecture05.py builds it (ReLU,
biases, a separate head) at nanoGPT's CPU recipe (block 64, batch 12, 4 layers, 4 heads, 128 channels),
AdamW with weight decay on matrices and clipping at norm 1, on one fixed batch of random tokens, as
scripts/bench-gpt.ts times ours. The bench starts it once and sends one line per round, "<steps> <threads>";
it answers each with "<steps per second> <steps per CPU second>" after a warm-up of 5 steps.
Run by hand, it prints a few rounds:
    python3 scripts/pytorch-reference/lecture05-gpt-bench.py [threads ...]   (from the project root)
Needs Python 3 and PyTorch (Debian's python3-torch 1.13 was used) and data/tinyshakespeare.txt (its vocabulary).
"""
import torch

from bench_peer import serve
from lecture05 import GPT, batch_size, block_size, chars, grad_clip, weight_decay

torch.manual_seed(1337)
model = GPT()
decay = [p for p in model.parameters() if p.dim() >= 2]
no_decay = [p for p in model.parameters() if p.dim() < 2]
optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=1e-3, betas=(0.9, 0.99))
inputs = torch.randint(len(chars), (batch_size, block_size))
targets = torch.randint(len(chars), (batch_size, block_size))

def step():
  loss = model(inputs, targets)
  optimizer.zero_grad(set_to_none=True)
  loss.backward()
  torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
  optimizer.step()

if __name__ == '__main__':
  serve(step, 20, warmup=5)
