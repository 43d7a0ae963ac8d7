"""PyTorch's numbers for notebook 07: the lecture's final hierarchical model (makemore part 5: n_embd 24,
n_hidden 128, 76,579 parameters), the lecture's seed (torch.manual_seed(42)) and split, its layer classes
and training loop (batch 32, lr 0.1, then 0.01 after 150,000 steps). The notebook draws the same weights
and batches (TorchGenerator(42)), so its first-batch loss can be compared digit for digit.

BatchNorm's formula: "lecture" is the lecture's class (normalised by the unbiased variance, x.var());
"notebook" is the library's (the paper's biased variance; the running variance unbiased, as PyTorch).

Needs Python 3 and PyTorch (Debian's python3-torch 1.13 was used), and names.txt:
    python3 scripts/pytorch-reference/lecture07.py path/to/names.txt [steps] [lecture|notebook]
"""
import sys
import time

import torch
import torch.nn.functional as F
from names_data import lecture_split

block_size = 8
formula = "lecture"  # set by the command line; lecture07-bench.py keeps the lecture's


class Linear:
    def __init__(self, fan_in, fan_out, bias=True):
        self.weight = torch.randn((fan_in, fan_out)) / fan_in**0.5
        self.bias = torch.zeros(fan_out) if bias else None

    def __call__(self, x):
        self.out = x @ self.weight
        if self.bias is not None:
            self.out += self.bias
        return self.out

    def parameters(self):
        return [self.weight] + ([] if self.bias is None else [self.bias])


class BatchNorm1d:
    def __init__(self, dim, eps=1e-5, momentum=0.1):
        self.eps, self.momentum, self.training = eps, momentum, True
        self.gamma, self.beta = torch.ones(dim), torch.zeros(dim)
        self.running_mean, self.running_var = torch.zeros(dim), torch.ones(dim)

    def __call__(self, x):
        if self.training:
            dim = 0 if x.ndim == 2 else (0, 1)
            xmean = x.mean(dim, keepdim=True)
            xvar = x.var(dim, keepdim=True)  # unbiased
            norm_var = xvar if formula == "lecture" else x.var(dim, keepdim=True, unbiased=False)
        else:
            xmean, xvar = self.running_mean, self.running_var
            norm_var = xvar
        self.out = self.gamma * (x - xmean) / torch.sqrt(norm_var + self.eps) + self.beta
        if self.training:
            with torch.no_grad():
                self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * xmean.view(-1)
                self.running_var = (1 - self.momentum) * self.running_var + self.momentum * xvar.view(-1)
        return self.out

    def parameters(self):
        return [self.gamma, self.beta]


class Tanh:
    def __call__(self, x):
        self.out = torch.tanh(x)
        return self.out

    def parameters(self):
        return []


class Embedding:
    def __init__(self, num_embeddings, embedding_dim):
        self.weight = torch.randn((num_embeddings, embedding_dim))

    def __call__(self, IX):
        self.out = self.weight[IX]
        return self.out

    def parameters(self):
        return [self.weight]


class FlattenConsecutive:
    def __init__(self, n):
        self.n = n

    def __call__(self, x):
        B, T, C = x.shape
        x = x.view(B, T // self.n, C * self.n)
        if x.shape[1] == 1:
            x = x.squeeze(1)
        self.out = x
        return self.out

    def parameters(self):
        return []


class Sequential:
    def __init__(self, layers):
        self.layers = layers

    def __call__(self, x):
        for layer in self.layers:
            x = layer(x)
        self.out = x
        return self.out

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]


def final_model(vocab_size, n_embd=24, n_hidden=128):
    """The lecture's final model, its weights drawn from PyTorch's global generator; its parameters."""
    model = Sequential([
        Embedding(vocab_size, n_embd),
        FlattenConsecutive(2), Linear(n_embd * 2, n_hidden, bias=False), BatchNorm1d(n_hidden), Tanh(),
        FlattenConsecutive(2), Linear(n_hidden * 2, n_hidden, bias=False), BatchNorm1d(n_hidden), Tanh(),
        FlattenConsecutive(2), Linear(n_hidden * 2, n_hidden, bias=False), BatchNorm1d(n_hidden), Tanh(),
        Linear(n_hidden, vocab_size),
    ])
    with torch.no_grad():
        model.layers[-1].weight *= 0.1
    parameters = model.parameters()
    for p in parameters:
        p.requires_grad = True
    return model, parameters


def main():
    global formula
    torch.set_num_threads(1)
    (Xtr, Ytr), (Xdev, Ydev), _, vocab_size = lecture_split(sys.argv[1] if len(sys.argv) > 1 else "data/names.txt", block_size)
    max_steps = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
    formula = sys.argv[3] if len(sys.argv) > 3 else "lecture"
    torch.manual_seed(42)
    model, parameters = final_model(vocab_size)
    print("parameters:", sum(p.nelement() for p in parameters), flush=True)

    start = time.time()
    for i in range(max_steps):
        ix = torch.randint(0, Xtr.shape[0], (32,))
        loss = F.cross_entropy(model(Xtr[ix]), Ytr[ix])
        for p in parameters:
            p.grad = None
        loss.backward()
        lr = 0.1 if i < 150_000 else 0.01
        for p in parameters:
            p.data += -lr * p.grad
        if i % 10_000 == 0:
            print(f"{i:7d}/{max_steps:7d}: {loss.item():.4f}", flush=True)

    for layer in model.layers:
        layer.training = False
    with torch.no_grad():
        train, val = (F.cross_entropy(model(X), Y).item() for X, Y in ((Xtr, Ytr), (Xdev, Ydev)))
    print(f"BatchNorm formula {formula}, {max_steps} steps: train {train:.4f}, val {val:.4f} ({time.time() - start:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
