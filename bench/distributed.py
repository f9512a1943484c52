"""Distributed training benchmarks, in one run on this machine (BENCHMARKING.md rules).

(a) Synchronisation cost: Crema's bucketed gradient allreduce of a net's gradients against a
    bare MPI_Allreduce of the same floats (bench/sync_bench.cpp, 2 ranks).
(b) Scaling: training throughput of 2 ranks x 1 thread against 1 rank x 1 thread, same batch
    per rank, alternating A B A B, for LeNet (batch 64) and CIFAR-10 quick (batch 100) on
    synthetic in-memory data. Also reported: two independent 1-rank trainings side by side,
    the machine's own ceiling for two concurrent processes.
(c) Time to 99% MNIST test accuracy on 2 ranks (Caffe's LeNet recipe, -global_batch, test
    every 250 iterations), from the metrics file's elapsed_s.

    /usr/bin/python3 bench/distributed.py [--rounds 3] [--skip-accuracy]

Run through bench/run-distributed (builds first, fetches MNIST).
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BIN = os.path.join(ROOT, "build", "bin")


def mpirun(ranks):
    cmd = ["mpirun", "-np", str(ranks), "--mca", "btl", "self,vader"]
    if os.geteuid() == 0:
        cmd.append("--allow-run-as-root")
    if (os.cpu_count() or 1) < ranks:
        cmd.append("--oversubscribe")
    return cmd


def run_json(cmd):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def sync_cost(rounds):
    print("\n(a) gradient synchronisation, 2 ranks: Crema vs bare MPI_Allreduce of the same floats")
    print(f"{'net':>14}  {'floats':>8}  {'buckets':>7}  {'crema ms':>8}  {'MPI ms':>7}  {'ratio':>5}")
    for name, net in (("LeNet", "lenet_bench_net.prototxt"),
                      ("CIFAR-10 quick", "cifar10_quick_bench_net.prototxt")):
        runs = [run_json(mpirun(2) + [os.path.join(BIN, "crema_sync_bench"),
                                      os.path.join(HERE, net), "300"]) for _ in range(rounds)]
        med = lambda k: statistics.median(r[k] for r in runs)
        print(f"{name:>14}  {runs[0]['floats']:>8}  {runs[0]['buckets']:>7}  "
              f"{med('crema_ms'):>8.3f}  {med('mpi_allreduce_ms'):>7.3f}  {med('ratio'):>5.2f}")


def scaling(rounds):
    print("\n(b) scaling, synthetic data, 1 thread per rank, same batch per rank")
    print(f"{'net':>14}  {'1 rank img/s':>12}  {'2 ranks img/s':>13}  {'efficiency':>10}  "
          f"{'2 independent':>13}  {'vs ceiling':>10}")
    for name, net, iters in (("LeNet", "lenet_bench_net.prototxt", 300),
                             ("CIFAR-10 quick", "cifar10_quick_bench_net.prototxt", 40)):
        bench = [os.path.join(BIN, "crema_train_bench"), os.path.join(HERE, net), str(iters), "5"]
        one, two, pair = [], [], []
        for _ in range(rounds):
            one.append(run_json(bench)["images_per_second"])
            two.append(run_json(mpirun(2) + bench)["images_per_second"])
            env = dict(os.environ, OMP_NUM_THREADS="1")
            procs = [subprocess.Popen(bench, env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.DEVNULL, text=True) for _ in range(2)]
            pair.append(sum(json.loads(p.communicate()[0].strip().splitlines()[-1])
                            ["images_per_second"] for p in procs))
        o, t, p = statistics.median(one), statistics.median(two), statistics.median(pair)
        print(f"{name:>14}  {o:>12.0f}  {t:>13.0f}  {t / (2 * o):>9.0%}  {p:>13.0f}  {t / p:>9.0%}")


def time_to_accuracy():
    print("\n(c) time to 99% MNIST test accuracy, LeNet, 2 ranks x 1 thread, Caffe's recipe "
          "(-global_batch: 32 per rank), test every 250 iterations")
    with tempfile.TemporaryDirectory() as tmp:
        solver = os.path.join(tmp, "solver.prototxt")
        with open(os.path.join(ROOT, "examples", "mnist", "lenet_solver.prototxt")) as f:
            text = f.read()
        text = text.replace("test_interval: 500", "test_interval: 250")
        text = text.replace('snapshot_prefix: "out/mnist/lenet"', f'snapshot_prefix: "{tmp}/lenet"')
        text = text.replace("snapshot: 5000", "snapshot: 0")
        with open(solver, "w") as f:
            f.write(text)
        metrics = os.path.join(tmp, "metrics.jsonl")
        env = dict(os.environ, OMP_NUM_THREADS="1")
        subprocess.run(mpirun(2) + [os.path.join(BIN, "crema"), "train", "-solver", solver,
                                    "-global_batch", "-metrics", metrics],
                       cwd=ROOT, env=env, check=True, capture_output=True)
        with open(metrics) as f:
            tests = [json.loads(line) for line in f if '"event":"test"' in line]
        hit = next((t for t in tests if t["outputs"]["accuracy"] >= 0.99), None)
        final = tests[-1]["outputs"]["accuracy"]
        if hit:
            print(f"reached {hit['outputs']['accuracy']:.4f} at iteration {hit['iter']} after "
                  f"{hit['elapsed_s']:.1f} s (final accuracy {final:.4f} at 10,000 iterations, "
                  f"{tests[-1]['elapsed_s']:.1f} s)")
        else:
            print(f"99% not reached; final accuracy {final:.4f}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-accuracy", action="store_true")
    args = parser.parse_args()
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores")
    sync_cost(args.rounds)
    scaling(args.rounds)
    if not args.skip_accuracy:
        time_to_accuracy()


if __name__ == "__main__":
    main()
