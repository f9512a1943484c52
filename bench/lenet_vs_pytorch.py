"""LeNet training speed, Crema vs PyTorch, side by side in one run (BENCHMARKING.md rules).

For 1 and 2 threads: a warm-up, then ROUNDS rounds alternating Crema and PyTorch (A B A B …),
each a fresh process training ITERATIONS steps of batch 64. Reports the median images/s of
each side, the median of the per-round ratios Crema/PyTorch, and peak RSS.

    /usr/bin/python3 bench/lenet_vs_pytorch.py [--rounds 5] [--iterations 300]

Run through bench/run-lenet (builds first, installs PyTorch if missing).
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def run(cmd, threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads))
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--crema", default=os.path.join(ROOT, "build", "bin", "crema_train_bench"))
    args = parser.parse_args()

    net = os.path.join(HERE, "lenet_bench_net.prototxt")
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores")
    print(f"LeNet training, batch 64, {args.iterations} steps per run, {args.rounds} rounds, "
          "median of each side")
    print(f"{'threads':>7}  {'crema img/s':>11}  {'pytorch img/s':>13}  {'ratio':>6}  "
          f"{'crema RSS MB':>12}  {'pytorch RSS MB':>14}")
    for threads in (int(t) for t in args.threads.split(",")):
        crema_cmd = [args.crema, net, str(args.iterations), str(args.warmup)]
        torch_cmd = [sys.executable, os.path.join(HERE, "lenet_torch.py"), str(threads),
                     str(args.iterations), str(args.warmup)]
        run(crema_cmd, threads)  # warm the page cache and CPU clocks
        run(torch_cmd, threads)
        crema, torch, ratios = [], [], []
        for _ in range(args.rounds):
            c = run(crema_cmd, threads)
            t = run(torch_cmd, threads)
            crema.append(c)
            torch.append(t)
            ratios.append(c["images_per_second"] / t["images_per_second"])
        med = lambda runs, key: statistics.median(r[key] for r in runs)
        print(f"{threads:>7}  {med(crema, 'images_per_second'):>11.0f}  "
              f"{med(torch, 'images_per_second'):>13.0f}  {statistics.median(ratios):>6.2f}  "
              f"{med(crema, 'max_rss_mb'):>12.0f}  {med(torch, 'max_rss_mb'):>14.0f}")


if __name__ == "__main__":
    main()
