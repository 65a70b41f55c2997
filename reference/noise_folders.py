"""Image folders of Gaussian noise with random labels, white or blurred: the experiment behind
docs/figure1.md's answer to why the AlexNet fits Gaussian inputs more slowly than random
labels. The white folder has independent pixels, as the `gaussian` randomization does; the
blurred ones have the same noise smoothed by a Gaussian of 1 and 2 pixels, so that neighbouring
pixels are alike, as in a photograph.

    python reference/noise_folders.py OUT        # OUT/sigma0, OUT/sigma1, OUT/sigma2
    cargo xtask train --model alexnet --dataset folder:OUT/sigma1 --epochs 100 --out results/noise1

Each folder holds 1,000 training and 100 test images of 32x32 in ten classes (a label drawn
at random per image), one channel, mean 128 and standard deviation 40 before clipping to bytes.
"""
import os
import sys

import numpy as np
from PIL import Image


def blur(x, sigma):
    """Separable Gaussian blur with wrap-around, so the edges are no different."""
    if sigma == 0:
        return x
    r = int(3 * sigma)
    k = np.exp(-np.arange(-r, r + 1) ** 2 / (2 * sigma ** 2))
    k /= k.sum()
    x = sum(w * np.roll(x, s, axis=-1) for s, w in zip(range(-r, r + 1), k))
    x = sum(w * np.roll(x, s, axis=-2) for s, w in zip(range(-r, r + 1), k))
    return x


def make(root, sigma, train, test, seed=1):
    rng = np.random.default_rng(seed)
    for split, n in (("train", train), ("test", test)):
        for c in range(10):
            os.makedirs(os.path.join(root, split, f"class{c}"), exist_ok=True)
        for i in range(n):
            x = blur(rng.normal(0.0, 1.0, (32, 32)), sigma)
            # The same contrast whatever the blur: blurring alone would shrink it.
            x = (x - x.mean()) / x.std()
            img = np.clip(128 + 40 * x, 0, 255).astype(np.uint8)
            label = rng.integers(0, 10)
            Image.fromarray(img, "L").save(os.path.join(root, split, f"class{label}", f"{i:05d}.png"))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    for sigma in (0, 1, 2):
        make(os.path.join(sys.argv[1], f"sigma{sigma}"), sigma, 1000, 100)
