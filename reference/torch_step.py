"""PyTorch's eager training step of shatter's CIFAR-10 models, beside `cargo xtask bench`.

The models are built layer for layer as crates/nn/src/model.rs describes them (the same layer
shapes, so the same parameter counts, which the script checks), and a training step is what
shatter's bench times: forward, softmax cross-entropy, backward and an SGD update with momentum
0.9 (learning rate 0.01, no weight decay: the bench's SgdConfig), at batch 128 on random
3x28x28 images and labels already on the device. The arithmetic is fp32 throughout, with TF32
off for matrix products and convolutions, and cuDNN picks its convolution algorithms by timing
them (torch.backends.cudnn.benchmark), as the PyTorch figures in docs/performance.md were taken.

Each model is timed as the bench times it: one untimed epoch of --steps steps, then three timed
epochs of the same steps, and the median of the three. Beside images/s it reports the time to
the first training step (in a fresh Python process, after `import torch`) and, on CUDA, the peak
of the GPU memory PyTorch allocated.

    python reference/torch_step.py                       # all five models, a text table
    python reference/torch_step.py --json --peak > torch.json
    cargo xtask bench --baseline torch.json              # shatter's images/s beside PyTorch's

The JSON lines carry a "workload" of "MODEL-train" and "images_per_second", as `bench --json`
does, so that bench's --baseline takes them as they are.
"""

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import torch
from torch import nn

MODELS = ["mlp1x512", "mlp3x512", "alexnet", "inception", "inception-nobn"]
CLASSES = 10
# The bench's input: a 28x28 centre crop of 32x32 synthetic images, as CIFAR-10's in the paper.
INPUT = (3, 28, 28)
# The bench's SgdConfig (xtask/src/bench.rs). The learning rate does not change the cost of a
# step; it is the bench's so that the two steps do the same arithmetic.
LEARNING_RATE = 0.01
MOMENTUM = 0.9
WEIGHT_DECAY = 0.0
# Timed epochs per model; the median is reported (the bench's three after an untimed one).
TRIALS = 3

# Trainable parameters of each model as shatter counts them (ModelKind::parameter_counts):
# conv and dense weights and biases as the paper counts them, and the batch-norm scales and
# shifts apart. Derived by hand from crates/nn/src/model.rs; they agree with README.md and
# docs/paper.md. A PyTorch model that drifts from shatter's shapes fails here, loudly.
EXPECTED_PARAMETERS = {
    # 2352*512 + 512 + 512*10 + 10
    "mlp1x512": (1_209_866, 0),
    # 2352*512 + 512 + 2 * (512*512 + 512) + 512*10 + 10
    "mlp3x512": (1_735_178, 0),
    # conv 5*5*3*64 + 64, conv 5*5*64*64 + 64, dense 7*7*64 -> 384, 384 -> 192, 192 -> 10
    "alexnet": (1_387_786, 0),
    # 19 conv modules; batch norm: 2 * 1712 output channels of those convolutions
    "inception": (1_649_402, 3_424),
    "inception-nobn": (1_649_402, 0),
}

# shatter's batch norm (crates/nn/src/batch_norm.rs): epsilon 1e-3, running averages kept as
# 0.9 * old + 0.1 * batch, which is PyTorch's momentum=0.1.
BATCH_NORM_EPSILON = 1e-3
BATCH_NORM_MOMENTUM = 0.1

# shatter's LRN (LrnParams::PAPER, TensorFlow's tf.nn.local_response_normalization with the
# CIFAR-10 tutorial's values): x / (bias + alpha * sum of squares over the 2r + 1 channels
# around)^beta, r = 4, bias 1, alpha 0.001 / 9, beta 0.75. PyTorch's LocalResponseNorm divides
# its alpha by the window's size (x / (k + alpha / n * sum)^beta), so its alpha is TensorFlow's
# times n = 9. Both clip the window at the first and last channels (PyTorch pads with zeros).
LRN_DEPTH_RADIUS = 4
LRN_SIZE = 2 * LRN_DEPTH_RADIUS + 1
LRN_ALPHA = 0.001 / 9.0 * LRN_SIZE
LRN_BETA = 0.75
LRN_BIAS = 1.0


class BadInput(Exception):
    """A command-line value the script cannot run with: one line naming it, exit status 2."""


def fail(message):
    print(f"torch_step.py: {message}", file=sys.stderr)
    sys.exit(2)


class Parser(argparse.ArgumentParser):
    """argparse, but its errors are one line (no usage block), like the script's own."""

    def error(self, message):
        fail(message)


# --- The models -------------------------------------------------------------------------------
#
# shatter's activations are NHWC and PyTorch's NCHW; that changes the order of the values a
# dense layer reads after a flatten, not its shape or its work.
#
# Padding: shatter's layers use TensorFlow's SAME rule. At stride 1 with an odd window that is
# (window - 1) / 2 on each side, as PyTorch's padding=window // 2. At stride 2 (the 3x3
# downsampling convolutions and the 3x3/2 max-pools) on an even side, SAME pads one row and
# column in all, below and right only, where PyTorch's padding=1 pads one on each side and its
# floor drops the last window: the outputs have the same size (28 -> 14 -> 7) and take the same
# work, but PyTorch's windows sit one pixel up and left of shatter's. The values differ; the
# time does not, and padding the input asymmetrically first would add a copy shatter does not make.


def conv_module(in_channels, filters, kernel, stride, batch_norm):
    """shatter's LayerSpec::conv: a square conv with SAME padding and a bias, then batch norm
    if asked (the small Inception keeps the conv's bias before its batch norm, as shatter
    does), then ReLU."""
    layers = [nn.Conv2d(in_channels, filters, kernel, stride, padding=kernel // 2, bias=True)]
    if batch_norm:
        layers.append(
            nn.BatchNorm2d(filters, eps=BATCH_NORM_EPSILON, momentum=BATCH_NORM_MOMENTUM))
    # In place, as PyTorch models usually are: one activation buffer fewer, and no other module
    # reads the conv's (or batch norm's) output.
    layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


def max_pool():
    """shatter's LayerSpec::max_pool(3, 2): a 3x3 window, stride 2, SAME padding."""
    return nn.MaxPool2d(3, stride=2, padding=1)


class Concat(nn.Module):
    """shatter's LayerSpec::Concat: branches that all read the input, their outputs
    concatenated on channels in order."""

    def __init__(self, *branches):
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x):
        return torch.cat([branch(x) for branch in self.branches], dim=1)


def mlp(hidden):
    """2352 -> 512 (ReLU) x hidden -> 10."""
    layers = [nn.Flatten()]
    width = INPUT[0] * INPUT[1] * INPUT[2]
    for _ in range(hidden):
        layers += [nn.Linear(width, 512), nn.ReLU(inplace=True)]
        width = 512
    layers.append(nn.Linear(width, CLASSES))
    return nn.Sequential(*layers)


def alexnet():
    """Two [conv 5x5 (64), ReLU -> max-pool 3x3/2 -> LRN] modules, then dense 384, 192 (ReLU)
    and the logits. shatter puts the LRN after the pool in both modules (the TensorFlow
    tutorial's second module normalizes before pooling); this follows shatter."""
    layers = []
    channels = INPUT[0]
    for _ in range(2):
        layers += [
            conv_module(channels, 64, 5, 1, batch_norm=False),
            max_pool(),
            nn.LocalResponseNorm(LRN_SIZE, alpha=LRN_ALPHA, beta=LRN_BETA, k=LRN_BIAS),
        ]
        channels = 64
    side = INPUT[1] // 4  # 28 -> 14 -> 7
    layers += [
        nn.Flatten(),
        nn.Linear(channels * side * side, 384),
        nn.ReLU(inplace=True),
        nn.Linear(384, 192),
        nn.ReLU(inplace=True),
        nn.Linear(192, CLASSES),
    ]
    return nn.Sequential(*layers)


def inception(batch_norm):
    """The paper's small Inception: a 3x3 conv module, Inception modules (a 1x1 and a 3x3 conv
    module side by side) and two downsample modules (a 3x3 stride-2 conv module beside a 3x3/2
    max-pool), a global mean pool and the logits."""
    channels = INPUT[0]
    layers = []

    def conv(filters, kernel, stride=1):
        return conv_module(channels, filters, kernel, stride, batch_norm)

    def module(a, b):
        nonlocal channels
        layers.append(Concat(conv(a, 1), conv(b, 3)))
        channels = a + b

    def downsample(b):
        nonlocal channels
        layers.append(Concat(conv(b, 3, stride=2), max_pool()))
        channels = b + channels

    layers.append(conv(96, 3))
    channels = 96
    module(32, 32)
    module(32, 48)
    downsample(80)
    module(112, 48)
    module(96, 64)
    module(80, 80)
    module(48, 96)
    downsample(96)
    module(176, 160)
    module(176, 160)
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, CLASSES)]
    return nn.Sequential(*layers)


BUILDERS = {
    "mlp1x512": lambda: mlp(1),
    "mlp3x512": lambda: mlp(3),
    "alexnet": alexnet,
    "inception": lambda: inception(True),
    "inception-nobn": lambda: inception(False),
}

# Initialization: PyTorch's defaults (Kaiming-uniform with a = sqrt(5) for weights, uniform
# biases), not shatter's Glorot or He weights with zero biases. A step's cost does not depend
# on the values, so the timings do not either.


def parameter_counts(model):
    """(conv and dense weights and biases, batch-norm scales and shifts), shatter's split."""
    counted = batch_norm = 0
    for module in model.modules():
        own = sum(p.numel() for p in module.parameters(recurse=False))
        if isinstance(module, nn.BatchNorm2d):
            batch_norm += own
        else:
            counted += own
    return counted, batch_norm


def build(name):
    """The model, its parameter counts checked against shatter's."""
    model = BUILDERS[name]()
    counts = parameter_counts(model)
    expected = EXPECTED_PARAMETERS[name]
    if counts != expected:
        raise AssertionError(
            f"{name}: PyTorch's model has {counts[0]:,} parameters and {counts[1]:,} batch-norm"
            f" scales and shifts; shatter's has {expected[0]:,} and {expected[1]:,}")
    return model, counts


# --- Timing -------------------------------------------------------------------------------------


def configure_backends():
    """fp32 arithmetic (TF32 off) and cuDNN's autotune, set before any CUDA work."""
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True


def synchronize(device):
    # CUDA launches return before the kernels finish: a clock read without this would time
    # the launches. On the CPU every operation has finished when it returns.
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def check_fp32(device):
    """Fail if a matrix product or a convolution on `device` is not fp32-accurate, e.g. TF32
    left on by an environment variable (TORCH_ALLOW_TF32_CUBLAS_OVERRIDE) or a later PyTorch
    whose switches moved: TF32 keeps 10 mantissa bits, and its error is a thousand times fp32's."""
    if device.type != "cuda":
        return
    generator = torch.Generator(device).manual_seed(0)
    a = torch.randn(512, 512, device=device, generator=generator)
    b = torch.randn(512, 512, device=device, generator=generator)
    x = torch.randn(8, 64, 14, 14, device=device, generator=generator)
    w = torch.randn(64, 64, 3, 3, device=device, generator=generator)
    checks = {
        "matrix product": (a @ b, a.double() @ b.double()),
        "convolution": (nn.functional.conv2d(x, w, padding=1),
                        nn.functional.conv2d(x.double(), w.double(), padding=1)),
    }
    for what, (fp32, fp64) in checks.items():
        error = ((fp32.double() - fp64).norm() / fp64.norm()).item()
        # fp32 gives about 1e-7 here; TF32 about 1e-4.
        if error > 1e-5:
            raise AssertionError(
                f"the {what} on {device} is not fp32-accurate (relative error {error:.1e}):"
                " is TF32 on?")


class Step:
    """One model's training step: its parameters, optimizer and loss on `device`."""

    def __init__(self, name, device):
        self.model, self.counts = build(name)
        self.model.to(device)
        self.model.train()
        self.optimizer = torch.optim.SGD(
            self.model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM,
            weight_decay=WEIGHT_DECAY)
        self.loss = nn.CrossEntropyLoss()

    def __call__(self, x, y):
        # set_to_none (the default): the backward pass writes fresh gradients instead of
        # adding to zeroed ones, PyTorch's usual and fastest step.
        self.optimizer.zero_grad()
        self.loss(self.model(x), y).backward()
        self.optimizer.step()


def synthetic(steps, batch, device):
    """A distinct batch per step, as the bench's epochs draw distinct images, made on the
    device. shatter's step also runs its batch kernel (gather, crop, standardize the stored
    bytes); here the images are ready-made floats, which favours PyTorch by that kernel."""
    generator = torch.Generator(device).manual_seed(7)
    images = torch.randn(steps, batch, *INPUT, device=device, generator=generator)
    labels = torch.randint(0, CLASSES, (steps, batch), device=device, generator=generator)
    return images, labels


def first_step_seconds(name, batch, device):
    """Seconds to the end of the first training step, measured in this (fresh) process.

    The clock starts after `import torch` and the backend switches, so it leaves out Python's
    and PyTorch's start-up. It includes, on CUDA: creating the CUDA context and loading the
    kernels the step needs (lazily, CUDA_MODULE_LOADING=LAZY, PyTorch's default), creating the
    cuBLAS and cuDNN handles, and cuDNN's autotune of each convolution's forward and two
    backward products (cudnn.benchmark times candidate algorithms at a shape's first use); on
    every device: building the model on the CPU and moving it to the device, the optimizer,
    making one batch on the device, and the step, synchronized. shatter's
    time_to_first_step is the same span from opening the adapter: device, buffers, pipeline
    compilation, upload and one step (its kernel choices come from its autotune cache)."""
    start = time.perf_counter()
    step = Step(name, device)
    images, labels = synthetic(1, batch, device)
    step(images[0], labels[0])
    synchronize(device)
    return time.perf_counter() - start


def first_step_in_fresh_process(name, batch, device):
    """first_step_seconds in a new Python process: in this one the CUDA context, the cuBLAS
    and cuDNN handles and the autotune's choices already exist after the first model, and the
    first step of every model would look cheaper than it is."""
    command = [sys.executable, os.path.abspath(__file__), "--first-step-child", name,
               "--batch-size", str(batch), "--device", device.type]
    child = subprocess.run(command, capture_output=True, text=True)
    if child.returncode != 0:
        raise RuntimeError(f"{name}: the first-step process failed:\n{child.stderr}")
    return json.loads(child.stdout.strip().splitlines()[-1])["time_to_first_step_seconds"]


def measure(name, batch, steps, device):
    """Images/s and ms/step (median of TRIALS timed epochs after an untimed one), the time to
    the first step, and peak GPU memory, as bench.rs's run() measures shatter's."""
    first_step = first_step_in_fresh_process(name, batch, device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    step = Step(name, device)
    images, labels = synthetic(steps, batch, device)

    def epoch():
        for i in range(steps):
            step(images[i], labels[i])

    # Untimed: the caching allocator's first allocations, cuDNN's autotune, and the first
    # momentum buffers (SGD creates them at its first update) all happen here.
    epoch()
    synchronize(device)
    warmup_peak = None
    if device.type == "cuda":
        # The steady state's peak, without the autotune's trial workspaces, which a step does
        # not need once the algorithms are chosen. What stays allocated (weights, momentum,
        # the epoch's images) counts, as shatter's buffers count its dataset; gradients and
        # activations count at their peak within a step.
        warmup_peak = torch.cuda.max_memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
    trials = []
    for _ in range(TRIALS):
        synchronize(device)
        start = time.perf_counter()
        epoch()
        synchronize(device)
        trials.append(time.perf_counter() - start)
    seconds = statistics.median(trials)
    peak = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else None
    return {
        "seconds": seconds,
        "first_step": first_step,
        "peak_memory": peak,
        "warmup_peak_memory": warmup_peak,
        "counts": step.counts,
    }


def matmul_peak_gflops(device):
    """The fp32 matrix product's rate (TF32 off): 8192^3 on CUDA (about 20 ms on an H200),
    1024^3 on the CPU. Median of 7 trials of 3 products after 2 untimed ones."""
    n = 8192 if device.type == "cuda" else 1024
    generator = torch.Generator(device).manual_seed(0)
    a = torch.randn(n, n, device=device, generator=generator)
    b = torch.randn(n, n, device=device, generator=generator)
    c = torch.empty(n, n, device=device)
    for _ in range(2):
        torch.mm(a, b, out=c)
    reps, trials = 3, []
    for _ in range(7):
        synchronize(device)
        start = time.perf_counter()
        for _ in range(reps):
            torch.mm(a, b, out=c)
        synchronize(device)
        trials.append((time.perf_counter() - start) / reps)
    return 2 * n**3 / statistics.median(trials) / 1e9, n


def device_name(device):
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    name = platform.processor()
    # Linux's platform.processor() is often empty or just the architecture.
    if not name or name == platform.machine():
        try:
            with open("/proc/cpuinfo") as f:
                name = next(line.split(":", 1)[1].strip() for line in f
                            if line.startswith("model name"))
        except (OSError, StopIteration):
            name = name or platform.machine()
    return f"{name} ({torch.get_num_threads()} threads)"


# --- Command line -------------------------------------------------------------------------------


def positive(text):
    value = int(text)
    if value < 1:
        raise ValueError
    return value


positive.__name__ = "positive integer"  # argparse names the type in its error


def parse(argv):
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", dest="models", metavar="NAME",
                        help=f"repeatable; default: all five ({', '.join(MODELS)})")
    parser.add_argument("--batch-size", type=positive, default=128)
    parser.add_argument("--steps", type=positive, default=20,
                        help="steps per epoch (one untimed epoch, then three timed); default 20")
    parser.add_argument("--device", choices=["cuda", "cpu"],
                        help="default: cuda if available, else cpu")
    parser.add_argument("--peak", action="store_true",
                        help="also measure the fp32 matrix product's GFLOP/s (TF32 off)")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    # The fresh process that measures one model's time to the first step.
    parser.add_argument("--first-step-child", metavar="NAME", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    for name in args.models or []:
        if name not in BUILDERS:
            raise BadInput(f"--model {name}: unknown model; expected one of {', '.join(MODELS)}")
    args.models = args.models or list(MODELS)
    if args.device is None:
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    elif args.device == "cuda" and not torch.cuda.is_available():
        if torch.version.cuda is None:
            why = f"PyTorch {torch.__version__} was built without CUDA"
        else:
            why = f"no CUDA device found (PyTorch {torch.__version__}, CUDA {torch.version.cuda})"
        raise BadInput(f"--device cuda: CUDA is not available: {why}")
    return args


def text_row(name, result, batch, steps):
    counted, batch_norm = result["counts"]
    params = f"{counted:>9,}" + (f" + {batch_norm:,} bn" if batch_norm else "")
    memory = ("-" if result["peak_memory"] is None
              else f"{result['peak_memory'] / 2**20:.1f} MiB")
    return (f"{name:<15} {params:<20} {batch * steps / result['seconds']:>10,.0f} images/s"
            f"  {result['seconds'] * 1e3 / steps:>9.2f} ms/step"
            f"  first step {result['first_step']:>6.2f} s  peak memory {memory}")


def main(argv=None):
    try:
        args = parse(argv)
    except BadInput as e:
        fail(e)
    configure_backends()
    device = torch.device(args.device)

    if args.first_step_child:
        seconds = first_step_seconds(args.first_step_child, args.batch_size, device)
        print(json.dumps({"time_to_first_step_seconds": seconds}))
        return

    check_fp32(device)
    name = device_name(device)
    common = {"device": device.type, "device_name": name, "torch": torch.__version__}
    if not args.json:
        print(f"device: {device.type} ({name}), PyTorch {torch.__version__}, batch"
              f" {args.batch_size}, {args.steps} steps an epoch, fp32 (TF32 off)"
              + (", cuDNN autotuned" if device.type == "cuda" else ""))
    if args.peak:
        gflops, n = matmul_peak_gflops(device)
        if args.json:
            print(json.dumps({"peak_gflops": gflops, "matrix_side": n, **common}), flush=True)
        else:
            print(f"fp32 matrix product {n}^3: {gflops:,.1f} GFLOP/s", flush=True)
    for model in args.models:
        result = measure(model, args.batch_size, args.steps, device)
        if args.json:
            counted, batch_norm = result["counts"]
            line = {
                "workload": f"{model}-train",
                "model": model,
                **common,
                "batch_size": args.batch_size,
                "input": list(INPUT),
                "steps": args.steps,
                "images_per_second": args.batch_size * args.steps / result["seconds"],
                "step_ms": result["seconds"] * 1e3 / args.steps,
                "time_to_first_step_seconds": result["first_step"],
                "peak_memory_bytes": result["peak_memory"],
                "warmup_peak_memory_bytes": result["warmup_peak_memory"],
                # As bench --json: conv and dense weights and biases; batch norm's apart.
                "parameters": counted,
                "batch_norm_parameters": batch_norm,
            }
            print(json.dumps(line), flush=True)
        else:
            print(text_row(model, result, args.batch_size, args.steps), flush=True)
        # Free this model's memory (measure's locals) before the next one's peak is measured.
        gc.collect()
        if device.type == "cuda":
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
