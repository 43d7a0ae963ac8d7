"""PyTorch's numbers for notebook 05's GPT: the notebook's model (lib/gpt.ts: ReLU, biases, a separate
head, initial weights of std 0.02 with the residual projections scaled by 1/sqrt(2 nLayer)) and its
recipe (nanoGPT's CPU recipe: block 64, batch 12, 4 layers, 4 heads, 128 channels, 2,000 steps,
AdamW betas (0.9, 0.99), weight decay 0.1 on matrices only, warm-up 100 steps then a cosine from 1e-3
to 1e-4, gradients clipped at norm 1), the same split (the first 90% trains) and the same estimates
(every 250 steps the mean of 20 batches per split; at the end the mean of 200). The draws are
PyTorch's, not the notebook's: compare the losses, not the digits.

Needs Python 3 and PyTorch (Debian's python3-torch 1.13 was used) and tinyshakespeare.txt:
    python3 scripts/pytorch-reference/lecture05.py path/to/tinyshakespeare.txt [steps]
About 3-5 minutes on a 2-core cloud machine (~90 ms a step).
"""
import math
import sys
import time

import torch
import torch.nn as nn
from torch.nn import functional as F

# Imported (lecture05-gpt-bench.py imports the model), it reads data/tinyshakespeare.txt for the vocabulary.
arguments = sys.argv[1:] if __name__ == "__main__" else []
text = open(arguments[0] if len(arguments) > 0 else "data/tinyshakespeare.txt", encoding="utf-8").read()
max_steps = int(arguments[1]) if len(arguments) > 1 else 2_000
block_size, batch_size, n_embd, n_head, n_layer = 64, 12, 128, 4, 4
max_lr, min_lr, warmup_steps, weight_decay, grad_clip = 1e-3, 1e-4, 100, 0.1, 1.0
eval_every, eval_iters, final_iters = 250, 20, 200
init_std = 0.02
torch.manual_seed(1337)

chars = sorted(set(text))
stoi = {ch: i for i, ch in enumerate(chars)}
data = torch.tensor([stoi[ch] for ch in text], dtype=torch.long)
n = int(0.9 * len(data))
splits = {"train": data[:n], "val": data[n:]}


def get_batch(split):
    tokens = splits[split]
    ix = torch.randint(len(tokens) - block_size, (batch_size,))
    x = torch.stack([tokens[i : i + block_size] for i in ix])
    y = torch.stack([tokens[i + 1 : i + block_size + 1] for i in ix])
    return x, y


def linear(fan_in, fan_out, bias=True, std=init_std):
    layer = nn.Linear(fan_in, fan_out, bias=bias)
    nn.init.normal_(layer.weight, std=std)
    if bias:
        nn.init.zeros_(layer.bias)
    return layer


residual_std = init_std / math.sqrt(2 * n_layer)


class MultiHeadAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.key, self.query, self.value = (linear(n_embd, n_embd, bias=False) for _ in range(3))
        self.proj = linear(n_embd, n_embd, std=residual_std)
        self.register_buffer("tril", torch.tril(torch.ones(block_size, block_size)))

    def forward(self, x):
        B, T, C = x.shape
        heads = lambda y: y.view(B, T, n_head, C // n_head).transpose(1, 2)  # (B, nh, T, hs)
        k, q, v = heads(self.key(x)), heads(self.query(x)), heads(self.value(x))
        wei = q @ k.transpose(-2, -1) * (C // n_head) ** -0.5
        wei = F.softmax(wei.masked_fill(self.tril[:T, :T] == 0, float("-inf")), dim=-1)
        return self.proj((wei @ v).transpose(1, 2).contiguous().view(B, T, C))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(n_embd), nn.LayerNorm(n_embd)
        self.attention = MultiHeadAttention()
        self.expand = linear(n_embd, 4 * n_embd)
        self.proj = linear(4 * n_embd, n_embd, std=residual_std)

    def forward(self, x):
        x = x + self.attention(self.ln1(x))
        return x + self.proj(F.relu(self.expand(self.ln2(x))))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.token_embedding = nn.Embedding(len(chars), n_embd)
        self.position_embedding = nn.Embedding(block_size, n_embd)
        nn.init.normal_(self.token_embedding.weight, std=init_std)
        nn.init.normal_(self.position_embedding.weight, std=init_std)
        self.blocks = nn.Sequential(*[Block() for _ in range(n_layer)])
        self.ln_final = nn.LayerNorm(n_embd)
        self.lm_head = linear(n_embd, len(chars))

    def forward(self, idx, targets):
        T = idx.shape[1]
        x = self.token_embedding(idx) + self.position_embedding(torch.arange(T))
        logits = self.lm_head(self.ln_final(self.blocks(x)))
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))


def learning_rate(step):
    """lib/schedule.ts's warmupCosine: step 0 already moves; the cosine ends at max_steps."""
    if step < warmup_steps:
        return max_lr * (step + 1) / (warmup_steps + 1)
    progress = (step - warmup_steps) / (max_steps - warmup_steps)
    return min_lr + 0.5 * (1 + math.cos(math.pi * progress)) * (max_lr - min_lr)


@torch.no_grad()
def estimate_loss(model, iters):
    model.eval()
    out = {split: sum(model(*get_batch(split)).item() for _ in range(iters)) / iters for split in splits}
    model.train()
    return out


if __name__ == "__main__":
    model = GPT()
    decay = [p for p in model.parameters() if p.dim() >= 2]  # matrices and embeddings, as lib/optim.ts
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=max_lr, betas=(0.9, 0.99), eps=1e-8
    )
    print(f"{sum(p.numel() for p in model.parameters()):,} parameters, {torch.get_num_threads()} threads, PyTorch {torch.__version__}")
    start = time.time()
    for step in range(max_steps):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step)
        loss = model(*get_batch("train"))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        if (step + 1) % eval_every == 0:
            losses = estimate_loss(model, eval_iters)
            print(f"step {step + 1}: train {losses['train']:.4f}, val {losses['val']:.4f} ({time.time() - start:.0f} s)", flush=True)
    final = estimate_loss(model, final_iters)
    print(f"final ({final_iters} batches each): train {final['train']:.4f}, val {final['val']:.4f}; {max_steps} steps in {time.time() - start:.0f} s")
