"""An independent PyTorch implementation of shatter's MLP recipe, for a cross-check.

It reads the bundled Fashion-MNIST subset from assets/fashion-mnist-mini (the same IDX
files shatter embeds), applies the paper's randomizations with its own random draws,
standardizes each image as TensorFlow's per_image_standardization does, and trains the
MLP 1x512 with the paper's recipe: SGD with momentum 0.9, learning rate 0.01 multiplied by
0.95 per 50,000 training images seen (in steps), batch 128 with a partial last batch,
Glorot-uniform weights and zero biases, no weight decay. After every epoch it measures
the whole training set's accuracy and the test accuracy, and it stops at 100% training
accuracy or at the epoch budget.

Nothing here is shared with shatter's code: the point is to see whether two
implementations of the same recipe on the same images agree.

    python reference/train_mlp.py --corrupt random-labels --seed 1 --out run.json
"""

import argparse
import gzip
import json
import math
import os
import struct
import time

import numpy as np
import torch

ASSETS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "assets", "fashion-mnist-mini")
CLASSES = 10


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    if magic == 0x801:
        return np.frombuffer(data, np.uint8, count, 8)
    rows, cols = struct.unpack(">II", data[8:16])
    return np.frombuffer(data, np.uint8, count * rows * cols, 16).reshape(count, rows, cols)


def load(subset, test_subset):
    train_x = read_idx(os.path.join(ASSETS, "train-images-idx3-ubyte.gz"))
    train_y = read_idx(os.path.join(ASSETS, "train-labels-idx1-ubyte.gz"))
    test_x = read_idx(os.path.join(ASSETS, "t10k-images-idx3-ubyte.gz"))
    test_y = read_idx(os.path.join(ASSETS, "t10k-labels-idx1-ubyte.gz"))
    if subset:
        train_x, train_y = train_x[:subset], train_y[:subset]
    if test_subset:
        test_x, test_y = test_x[:test_subset], test_y[:test_subset]
    # Pixels on the scale the paper divides them to.
    return (train_x.astype(np.float64) / 255.0, train_y.astype(np.int64),
            test_x.astype(np.float64) / 255.0, test_y.astype(np.int64))


def randomize(corrupt, rng, train_x, train_y, test_x, test_y):
    """The paper's section 2.1, drawn once. Test labels stay true."""
    changed = 0
    if corrupt == "none":
        pass
    elif corrupt == "random-labels" or corrupt.startswith("labels:"):
        p = 1.0 if corrupt == "random-labels" else float(corrupt.split(":")[1])
        train_y = train_y.copy()
        replace = rng.random(len(train_y)) < p
        # Uniform over all classes, so the original can be drawn again.
        new = rng.integers(0, CLASSES, len(train_y))
        changed = int(np.sum(replace & (new != train_y)))
        train_y[replace] = new[replace]
    elif corrupt == "shuffled-pixels":
        perm = rng.permutation(train_x.shape[1] * train_x.shape[2])
        flat = lambda x: x.reshape(len(x), -1)[:, perm].reshape(x.shape)
        train_x, test_x = flat(train_x), flat(test_x)
    elif corrupt == "random-pixels":
        def each(x):
            flat = x.reshape(len(x), -1).copy()
            for i in range(len(flat)):
                flat[i] = flat[i][rng.permutation(flat.shape[1])]
            return flat.reshape(x.shape)
        train_x, test_x = each(train_x), each(test_x)
    elif corrupt == "gaussian":
        mean, std = train_x.mean(), train_x.std()
        train_x = rng.normal(mean, std, train_x.shape)
        test_x = rng.normal(mean, std, test_x.shape)
    else:
        raise SystemExit(f"unknown corruption '{corrupt}'")
    return train_x, train_y, test_x, test_y, changed


def standardize(x):
    """TensorFlow's per_image_standardization: (x - mean) / max(std, 1/sqrt(N))."""
    flat = x.reshape(len(x), -1)
    mean = flat.mean(axis=1, keepdims=True)
    std = flat.std(axis=1, keepdims=True)
    adjusted = np.maximum(std, 1.0 / math.sqrt(flat.shape[1]))
    return ((flat - mean) / adjusted).astype(np.float32)


def model(inputs, seed):
    torch.manual_seed(seed)
    net = torch.nn.Sequential(
        torch.nn.Linear(inputs, 512), torch.nn.ReLU(), torch.nn.Linear(512, CLASSES))
    for layer in (net[0], net[2]):
        # shatter's (and TensorFlow's) dense initialization, not PyTorch's default.
        torch.nn.init.xavier_uniform_(layer.weight)
        torch.nn.init.zeros_(layer.bias)
    return net


def accuracy(net, x, y):
    with torch.no_grad():
        return float((net(x).argmax(dim=1) == y).float().mean())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corrupt", default="none")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=800)
    parser.add_argument("--subset", type=int, default=0)
    parser.add_argument("--test-subset", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    rng = np.random.default_rng(args.seed)
    train_x, train_y, test_x, test_y = load(args.subset, args.test_subset)
    train_x, train_y, test_x, test_y, changed = randomize(
        args.corrupt, rng, train_x, train_y, test_x, test_y)
    train_x = torch.from_numpy(standardize(train_x))
    test_x = torch.from_numpy(standardize(test_x))
    train_y, test_y = torch.from_numpy(train_y), torch.from_numpy(test_y)
    net = model(train_x.shape[1], args.seed)
    optimizer = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()

    n = len(train_y)
    seen = 0
    epochs = []
    fit = {"at_99": None, "at_99_9": None, "at_100": None}
    started = time.time()
    order_rng = torch.Generator().manual_seed(args.seed)
    for epoch in range(1, args.epochs + 1):
        order = torch.randperm(n, generator=order_rng)
        loss_sum, correct = 0.0, 0
        for start in range(0, n, args.batch_size):
            batch = order[start:start + args.batch_size]
            for group in optimizer.param_groups:
                group["lr"] = args.lr * 0.95 ** (seen // 50_000)
            logits = net(train_x[batch])
            loss = loss_fn(logits, train_y[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            seen += len(batch)
            loss_sum += loss.item() * len(batch)
            correct += int((logits.argmax(dim=1) == train_y[batch]).sum())
        train_accuracy = accuracy(net, train_x, train_y)
        test_accuracy = accuracy(net, test_x, test_y)
        epochs.append({
            "epoch": epoch,
            "running_train_loss": loss_sum / n,
            "running_train_accuracy": correct / n,
            "train_accuracy": train_accuracy,
            "test_accuracy": test_accuracy,
        })
        for key, level in (("at_99", 0.99), ("at_99_9", 0.999), ("at_100", 1.0)):
            if fit[key] is None and train_accuracy >= level - 1e-12:
                fit[key] = epoch
        if train_accuracy >= 1.0:
            break
    record = {
        "implementation": f"PyTorch {torch.__version__}",
        "corrupt": args.corrupt,
        "seed": args.seed,
        "train_images": n,
        "test_images": len(test_y),
        "labels_changed": changed,
        "fit_epochs": fit,
        "final_train_accuracy": epochs[-1]["train_accuracy"],
        "final_test_accuracy": epochs[-1]["test_accuracy"],
        "seconds": time.time() - started,
        "epochs": epochs,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(record, f, indent=1)
    print(f"{args.corrupt} seed {args.seed}: fit {fit}, test {record['final_test_accuracy']:.4f}, "
          f"{len(epochs)} epochs, {record['seconds']:.0f}s")


if __name__ == "__main__":
    main()
