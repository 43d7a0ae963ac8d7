"""The PyTorch peer for `npm run bench -- --only 04`: lecture 04's deep BatchNorm net (the lecture's own
layer classes from makemore_part3_bn.ipynb, gain 5/3, batch 32, SGD), steps/s on 1 and 2 threads.
    python3 scripts/pytorch-reference/lecture04-deep-bench.py [threads ...]   (from the project root)
Needs Python 3 and PyTorch (Debian's python3-torch 1.13 was used) and data/names.txt.
"""
import torch, torch.nn.functional as F, random, time, sys
torch.set_num_threads(1)
from names_data import lecture_split

(Xtr, Ytr), _, _, vocab_size = lecture_split()
# Let's train a deeper network
# The classes we create here are the same API as nn.Module in PyTorch

class Linear:
  
  def __init__(self, fan_in, fan_out, bias=True):
    self.weight = torch.randn((fan_in, fan_out), generator=g) / fan_in**0.5
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
    self.eps = eps
    self.momentum = momentum
    self.training = True
    # parameters (trained with backprop)
    self.gamma = torch.ones(dim)
    self.beta = torch.zeros(dim)
    # buffers (trained with a running 'momentum update')
    self.running_mean = torch.zeros(dim)
    self.running_var = torch.ones(dim)
  
  def __call__(self, x):
    # calculate the forward pass
    if self.training:
      xmean = x.mean(0, keepdim=True) # batch mean
      xvar = x.var(0, keepdim=True) # batch variance
    else:
      xmean = self.running_mean
      xvar = self.running_var
    xhat = (x - xmean) / torch.sqrt(xvar + self.eps) # normalize to unit variance
    self.out = self.gamma * xhat + self.beta
    # update the buffers
    if self.training:
      with torch.no_grad():
        self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * xmean
        self.running_var = (1 - self.momentum) * self.running_var + self.momentum * xvar
    return self.out
  
  def parameters(self):
    return [self.gamma, self.beta]

class Tanh:
  def __call__(self, x):
    self.out = torch.tanh(x)
    return self.out
  def parameters(self):
    return []


import statistics
def bench(threads, steps=2000):
  torch.set_num_threads(threads)
  global g
  g = torch.Generator().manual_seed(2147483647)
  n_embd, n_hidden = 10, 100
  C = torch.randn((vocab_size, n_embd), generator=g)
  layers = [Linear(30, n_hidden, bias=False), BatchNorm1d(n_hidden), Tanh()]
  for _ in range(4): layers += [Linear(n_hidden, n_hidden, bias=False), BatchNorm1d(n_hidden), Tanh()]
  layers += [Linear(n_hidden, vocab_size, bias=False), BatchNorm1d(vocab_size)]
  with torch.no_grad():
    layers[-1].gamma *= 0.1
    for layer in layers[:-1]:
      if isinstance(layer, Linear): layer.weight *= 5/3
  parameters = [C] + [p for layer in layers for p in layer.parameters()]
  for p in parameters: p.requires_grad = True
  def step(i):
    ix = torch.randint(0, Xtr.shape[0], (32,), generator=g)
    x = C[Xtr[ix]].view(32, -1)
    for layer in layers: x = layer(x)
    loss = F.cross_entropy(x, Ytr[ix])
    for p in parameters: p.grad = None
    loss.backward()
    for p in parameters: p.data += -0.1 * p.grad
  for i in range(200): step(i)
  t = time.time()
  for i in range(steps): step(i)
  return steps / (time.time() - t)
threads = [int(a) for a in sys.argv[1:]] or [1, 2]
for th in threads: print(f"torch {torch.__version__} threads {th}: {bench(th):.0f} steps/s", flush=True)
