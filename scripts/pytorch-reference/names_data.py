"""The lecture's data for the PyTorch peers: names.txt as (context of 3, next character) pairs, split
80/10/10 after random.seed(42) and a shuffle, as the makemore notebooks build them."""
import random
import torch

block_size = 3


def lecture_split(path="data/names.txt", block_size=block_size):
    """(Xtr, Ytr), (Xdev, Ydev), (Xte, Yte) and the vocabulary size, for contexts of `block_size`."""
    words = open(path, "r").read().splitlines()
    chars = sorted(set("".join(words)))
    stoi = {s: i + 1 for i, s in enumerate(chars)}
    stoi["."] = 0

    def build_dataset(words):
        X, Y = [], []
        for w in words:
            context = [0] * block_size
            for ch in w + ".":
                ix = stoi[ch]
                X.append(context)
                Y.append(ix)
                context = context[1:] + [ix]
        return torch.tensor(X), torch.tensor(Y)

    random.seed(42)
    random.shuffle(words)
    n1, n2 = int(0.8 * len(words)), int(0.9 * len(words))
    return build_dataset(words[:n1]), build_dataset(words[n1:n2]), build_dataset(words[n2:]), len(stoi)
