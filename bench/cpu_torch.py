"""The bench/cpu nets in PyTorch, with Caffe's semantics, and their training/inference timing.

Each model is the architecture of the Crema bench net of the same name (bench/cpu_nets.py):
pooling rounds up (ceil_mode=True) as Caffe's does; LRN is nn.LocalResponseNorm, whose
alpha is divided by the window size as in Caffe's LRN (ACROSS_CHANNELS, k = 1); AlexNet's
conv2/4/5 are grouped (2); GoogLeNet is the deploy net (no auxiliary classifiers) with its
nine inception blocks; ResNet-50 is the authors' Caffe layout (bias on conv1 only, the stride
on the first 1x1 convolution of a block, projection shortcuts, BatchNorm + Scale as one affine
BatchNorm2d); MobileNet v1 has depthwise (groups = channels) and pointwise convolutions
without bias, each followed by BatchNorm and ReLU, and a 1x1 convolution as classifier.

    /usr/bin/python3 bench/cpu_torch.py NET MODE THREADS ITERATIONS WARMUP BATCH
    /usr/bin/python3 bench/cpu_torch.py --count NET

Training (MODE train): model.train(), one synthetic batch (pixels uniform in [0, 1), labels
i mod 10), cross-entropy, torch.optim.SGD with lr 0.01 (fixed), momentum 0.9, weight decay
5e-4 — the solver crema_net_bench uses. Inference (MODE infer): model.eval() under
torch.no_grad(), logits then softmax (the deploy net's "prob"). Prints one JSON line like
crema_net_bench; --count prints the number of learnable parameters (BatchNorm's running
statistics are buffers, not counted, as `crema info` counts them apart).
"""
import json
import math
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def pool_max(kernel, stride, pad=0):
    return nn.MaxPool2d(kernel, stride, pad, ceil_mode=True)


def pool_ave(kernel, stride, pad=0):
    return nn.AvgPool2d(kernel, stride, pad, ceil_mode=True)


def lrn():
    return nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=1.0)


def relu():
    return nn.ReLU(inplace=True)


def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 20, 5), pool_max(2, 2),
        nn.Conv2d(20, 50, 5), pool_max(2, 2),
        nn.Flatten(), nn.Linear(800, 500), relu(), nn.Linear(500, 10))


def cifar10_quick():
    return nn.Sequential(
        nn.Conv2d(3, 32, 5, padding=2), pool_max(3, 2), relu(),
        nn.Conv2d(32, 32, 5, padding=2), relu(), pool_ave(3, 2),
        nn.Conv2d(32, 64, 5, padding=2), relu(), pool_ave(3, 2),
        nn.Flatten(), nn.Linear(64 * 4 * 4, 64), nn.Linear(64, 10))


def alexnet():
    return nn.Sequential(
        nn.Conv2d(3, 96, 11, stride=4), relu(), lrn(), pool_max(3, 2),
        nn.Conv2d(96, 256, 5, padding=2, groups=2), relu(), lrn(), pool_max(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), relu(),
        nn.Conv2d(384, 384, 3, padding=1, groups=2), relu(),
        nn.Conv2d(384, 256, 3, padding=1, groups=2), relu(), pool_max(3, 2),
        nn.Flatten(),
        nn.Linear(256 * 6 * 6, 4096), relu(), nn.Dropout(0.5),
        nn.Linear(4096, 4096), relu(), nn.Dropout(0.5),
        nn.Linear(4096, 1000))


class Inception(nn.Module):
    def __init__(self, cin, n1, n3r, n3, n5r, n5, npool):
        super().__init__()
        self.b1 = nn.Sequential(nn.Conv2d(cin, n1, 1), relu())
        self.b3 = nn.Sequential(nn.Conv2d(cin, n3r, 1), relu(),
                                nn.Conv2d(n3r, n3, 3, padding=1), relu())
        self.b5 = nn.Sequential(nn.Conv2d(cin, n5r, 1), relu(),
                                nn.Conv2d(n5r, n5, 5, padding=2), relu())
        self.bp = nn.Sequential(pool_max(3, 1, 1), nn.Conv2d(cin, npool, 1), relu())

    def forward(self, x):
        return torch.cat([self.b1(x), self.b3(x), self.b5(x), self.bp(x)], 1)


# (1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool projection), as examples/models/generate.py.
INCEPTIONS = [
    ("3a", 64, 96, 128, 16, 32, 32), ("3b", 128, 128, 192, 32, 96, 64),
    ("4a", 192, 96, 208, 16, 48, 64), ("4b", 160, 112, 224, 24, 64, 64),
    ("4c", 128, 128, 256, 24, 64, 64), ("4d", 112, 144, 288, 32, 64, 64),
    ("4e", 256, 160, 320, 32, 128, 128), ("5a", 256, 160, 320, 32, 128, 128),
    ("5b", 384, 192, 384, 48, 128, 128),
]


def googlenet():
    layers = [nn.Conv2d(3, 64, 7, stride=2, padding=3), relu(), pool_max(3, 2), lrn(),
              nn.Conv2d(64, 64, 1), relu(), nn.Conv2d(64, 192, 3, padding=1), relu(), lrn(),
              pool_max(3, 2)]
    channels = 192
    for name, *spec in INCEPTIONS:
        if name in ("4a", "5a"):
            layers.append(pool_max(3, 2))
        layers.append(Inception(channels, *spec))
        channels = spec[0] + spec[2] + spec[4] + spec[5]
    layers += [pool_ave(7, 1), nn.Dropout(0.4), nn.Flatten(), nn.Linear(channels, 1000)]
    return nn.Sequential(*layers)


def conv_bn(cin, cout, kernel, stride=1, pad=0, groups=1, bias=False, activation=True):
    layers = [nn.Conv2d(cin, cout, kernel, stride, pad, groups=groups, bias=bias),
              nn.BatchNorm2d(cout)]
    if activation:
        layers.append(relu())
    return nn.Sequential(*layers)


class Bottleneck(nn.Module):
    """ResNet-50's block as the authors' Caffe release lays it out (stride on branch2a)."""

    def __init__(self, cin, width, cout, stride, projection):
        super().__init__()
        self.branch1 = (conv_bn(cin, cout, 1, stride, activation=False) if projection
                        else None)
        self.branch2 = nn.Sequential(conv_bn(cin, width, 1, stride),
                                     conv_bn(width, width, 3, 1, 1),
                                     conv_bn(width, cout, 1, activation=False))

    def forward(self, x):
        shortcut = self.branch1(x) if self.branch1 is not None else x
        return F.relu(self.branch2(x) + shortcut, inplace=True)


def resnet50():
    layers = [conv_bn(3, 64, 7, 2, 3, bias=True), pool_max(3, 2)]
    channels = 64
    for blocks, width, out, stride in ((3, 64, 256, 1), (4, 128, 512, 2), (6, 256, 1024, 2),
                                       (3, 512, 2048, 2)):
        for b in range(blocks):
            layers.append(Bottleneck(channels, width, out, stride if b == 0 else 1, b == 0))
            channels = out
    layers += [pool_ave(7, 1), nn.Flatten(), nn.Linear(2048, 1000)]
    return nn.Sequential(*layers)


MOBILENET_BLOCKS = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1),
                    (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]


def mobilenet_v1():
    layers = [conv_bn(3, 32, 3, 2, 1)]
    channels = 32
    for out, stride in MOBILENET_BLOCKS:
        layers.append(conv_bn(channels, channels, 3, stride, 1, groups=channels))
        layers.append(conv_bn(channels, out, 1))
        channels = out
    layers += [nn.AdaptiveAvgPool2d(1), nn.Conv2d(channels, 1000, 1), nn.Flatten()]
    return nn.Sequential(*layers)


# name -> (constructor, input shape of one image)
MODELS = {
    "lenet": (lenet, (1, 28, 28)),
    "cifar10_quick": (cifar10_quick, (3, 32, 32)),
    "alexnet": (alexnet, (3, 227, 227)),
    "googlenet": (googlenet, (3, 224, 224)),
    "resnet50": (resnet50, (3, 224, 224)),
    "mobilenet_v1": (mobilenet_v1, (3, 224, 224)),
}


def count_params(model):
    return sum(p.numel() for p in model.parameters())


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--count":
        print(count_params(MODELS[sys.argv[2]][0]()))
        return
    if len(sys.argv) != 7:
        sys.exit(__doc__)
    name, mode = sys.argv[1], sys.argv[2]
    threads, iterations, warmup, batch = (int(a) for a in sys.argv[3:7])
    if mode not in ("train", "infer"):
        sys.exit(f"cpu_torch.py: MODE must be train or infer, got {mode!r}")
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    build, shape = MODELS[name]
    model = build()
    generator = torch.Generator().manual_seed(5)
    data = torch.rand(batch, *shape, generator=generator)
    label = torch.arange(batch) % 10
    loss = torch.zeros(())

    if mode == "train":
        model.train()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9,
                                    weight_decay=5e-4)

        def step():
            nonlocal loss
            optimizer.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(data), label)
            loss.backward()
            optimizer.step()
    else:
        model.eval()

        def step():
            with torch.no_grad():
                torch.softmax(model(data), 1)  # the deploy nets end in Softmax "prob"

    for _ in range(warmup):
        step()
    start = time.perf_counter()
    for _ in range(iterations):
        step()
    seconds = time.perf_counter() - start
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    final_loss = float(loss)
    print(json.dumps({
        "mode": mode, "batch": batch, "iterations": iterations, "seconds": round(seconds, 4),
        "images_per_second": round(iterations * batch / seconds, 3),
        "max_rss_mb": round(rss_mb, 1), "threads": torch.get_num_threads(),
        "learnable_params": count_params(model),
        "loss": final_loss if math.isfinite(final_loss) else None}))


if __name__ == "__main__":
    main()
