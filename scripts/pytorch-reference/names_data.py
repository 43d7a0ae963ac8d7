"""The lecture's data for the PyTorch peers: names.txt as (context of 3, next character) pairs, split
80/10/10 after random.seed(42) and a shuffle, as makemore_part2_mlp.ipynb builds them."""
import random
import torch

words = open('data/names.txt', 'r').read().splitlines()
chars = sorted(list(set(''.join(words))))
stoi = {s:i+1 for i,s in enumerate(chars)}
stoi['.'] = 0
itos = {i:s for s,i in stoi.items()}
vocab_size = len(itos)
block_size = 3

def build_dataset(words):
  X, Y = [], []
  for w in words:
    context = [0] * block_size
    for ch in w + '.':
      ix = stoi[ch]
      X.append(context)
      Y.append(ix)
      context = context[1:] + [ix]
  return torch.tensor(X), torch.tensor(Y)

random.seed(42)
random.shuffle(words)
n1 = int(0.8*len(words)); n2 = int(0.9*len(words))
Xtr, Ytr = build_dataset(words[:n1]); Xdev, Ydev = build_dataset(words[n1:n2])
