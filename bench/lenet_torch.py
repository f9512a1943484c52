"""Caffe's LeNet in PyTorch, trained the way bench/train_bench.cpp trains it in Crema.

Same net (ceil-mode max pooling as in Caffe), same batch (64, one synthetic in-memory batch),
same solver (SGD, momentum 0.9, weight decay 5e-4, biases at twice the learning rate, "inv"
decay). Prints one JSON line like the Crema side.

    /usr/bin/python3 bench/lenet_torch.py THREADS ITERATIONS WARMUP
"""
import json
import resource
import sys
import time

import torch
import torch.nn as nn


def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 20, 5), nn.MaxPool2d(2, 2, ceil_mode=True),
        nn.Conv2d(20, 50, 5), nn.MaxPool2d(2, 2, ceil_mode=True),
        nn.Flatten(), nn.Linear(800, 500), nn.ReLU(inplace=True), nn.Linear(500, 10))


def main():
    threads, iterations, warmup = (int(a) for a in sys.argv[1:4])
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = lenet()
    weights = [p for n, p in model.named_parameters() if n.endswith("weight")]
    biases = [p for n, p in model.named_parameters() if n.endswith("bias")]
    base_lr = 0.01
    optimizer = torch.optim.SGD([{"params": weights, "lr": base_lr},
                                 {"params": biases, "lr": 2 * base_lr}],
                                lr=base_lr, momentum=0.9, weight_decay=5e-4)
    inv = lambda it: (1 + 1e-4 * it) ** -0.75
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, [inv, inv])
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(5)
    data = torch.rand(64, 1, 28, 28, generator=generator)
    label = torch.arange(64) % 10

    def step():
        optimizer.zero_grad(set_to_none=False)
        loss = loss_fn(model(data), label)
        loss.backward()
        optimizer.step()
        scheduler.step()

    for _ in range(warmup):
        step()
    start = time.perf_counter()
    for _ in range(iterations):
        step()
    seconds = time.perf_counter() - start
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"images_per_second": round(iterations * 64 / seconds, 1),
                      "max_rss_mb": round(rss_mb, 1), "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
