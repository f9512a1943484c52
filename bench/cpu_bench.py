"""Crema vs PyTorch on the CPU: training and inference of six nets, side by side in one run.

ROUNDS rounds; in each, for every thread count, the machine's SGEMM rate is measured
(crema_sgemm_bench: oneDNN's dnnl_sgemm, best of 5 calls) and then, for every net and mode,
Crema (crema_net_bench) and PyTorch (cpu_torch.py) run one after the other, each in a fresh
process. Reported per (net, mode, threads): the median images/s of each side, the median of the
per-round ratios Crema/PyTorch (> 1: Crema faster), the median peak RSS of each, and each
side's achieved GFLOP/s (useful FLOPs from Crema's counter, net/net_summary.h: one forward
pass; a training step counts 3 forward passes) as a fraction of the best round's SGEMM rate.
The machine's FMA peak (crema_sgemm_bench: multiply-adds alone on every thread) is printed
beside the SGEMM rate: no kernel runs above it.

Before timing a net, its Crema parameter count (`crema info`) and its PyTorch parameter count
are printed; a net whose counts differ is not measured.

    /usr/bin/python3 bench/cpu_bench.py [--nets lenet,mobilenet_v1] [--modes train,infer]
        [--threads 1,2] [--rounds 3] [--iterations N] [--warmup N]

Run through bench/cpu (builds first, installs PyTorch if missing). See bench/README.md.
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import cpu_nets

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# Timed iterations and warm-up iterations per run, by net and mode: each run takes a few
# seconds on one thread of the development machine (the big nets' steps take seconds each).
ITERATIONS = {
    "lenet": {"train": (150, 15), "infer": (300, 30)},
    "cifar10_quick": {"train": (30, 3), "infer": (80, 8)},
    "alexnet": {"train": (2, 1), "infer": (5, 1)},
    "googlenet": {"train": (2, 1), "infer": (4, 1)},
    "resnet50": {"train": (2, 1), "infer": (3, 1)},
    "mobilenet_v1": {"train": (4, 1), "infer": (8, 1)},
}


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def load_average():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def thread_env(threads):
    return dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
                MKL_NUM_THREADS=str(threads))


def run_json(cmd, threads):
    """Runs cmd; its last stdout line parsed as JSON, or {"error": …} when it failed."""
    proc = subprocess.run(cmd, env=thread_env(threads), capture_output=True, text=True)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {"error": f"exit {proc.returncode}: " + " | ".join(tail)}
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return {"error": "no JSON line in the output"}


def crema_info_params(crema, net_file):
    out = subprocess.run([crema, "info", "-model", net_file], capture_output=True, text=True,
                         env=thread_env(1))
    for line in out.stdout.splitlines():
        if line.startswith("Learnable parameters:"):
            return int(line.split(":", 1)[1].split("(")[0].replace(",", "").strip())
    raise RuntimeError(f"crema info -model {net_file} failed: {out.stderr.strip()[-300:]}")


def torch_params(name):
    out = subprocess.run([sys.executable, os.path.join(HERE, "cpu_torch.py"), "--count", name],
                         capture_output=True, text=True, check=True, env=thread_env(1))
    return int(out.stdout.strip())


def fmt(value, spec):
    return "—" if value is None else format(value, spec)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nets", default=",".join(cpu_nets.NETS),
                        help="comma-separated, of: " + ", ".join(cpu_nets.NETS))
    parser.add_argument("--modes", default="train,infer")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--iterations", type=int,
                        help="timed iterations per run for every net (default: per net)")
    parser.add_argument("--warmup", type=int,
                        help="untimed iterations per run for every net (default: per net)")
    parser.add_argument("--sgemm-size", type=int, default=2048)
    parser.add_argument("--bin", default=os.path.join(ROOT, "build", "bin"),
                        help="where crema, crema_net_bench and crema_sgemm_bench are")
    parser.add_argument("--out", default=os.path.join(ROOT, "out", "bench", "cpu"),
                        help="where the generated nets and the raw results (JSON) go")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # the table and the progress lines, in order

    nets = [n for n in args.nets.split(",") if n]
    modes = [m for m in args.modes.split(",") if m]
    threads_list = [int(t) for t in args.threads.split(",") if t]
    for n in nets:
        if n not in cpu_nets.NETS:
            parser.error(f"unknown net '{n}' (known: {', '.join(cpu_nets.NETS)})")
    for m in modes:
        if m not in ("train", "infer"):
            parser.error(f"unknown mode '{m}' (train, infer)")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    crema = os.path.join(args.bin, "crema")
    net_bench = os.path.join(args.bin, "crema_net_bench")
    sgemm_bench = os.path.join(args.bin, "crema_sgemm_bench")
    for binary in (crema, net_bench, sgemm_bench):
        if not os.access(binary, os.X_OK):
            sys.exit(f"cpu_bench.py: {binary} is missing; build it (bench/cpu does)")
    net_dir = os.path.join(args.out, "nets")
    os.makedirs(net_dir, exist_ok=True)

    # The driver never imports torch: a child's ru_maxrss starts at its parent's RSS (Linux
    # keeps it across fork and exec), so a big driver would inflate every peak RSS reported.
    torch_version = subprocess.run(
        [sys.executable, "-c", "import torch; print(torch.__version__)"], capture_output=True,
        text=True, check=True).stdout.strip()
    started = time.time()
    print(f"machine: {cpu_model()}, {os.cpu_count()} cores; load average {load_average()} "
          "at the start")
    print(f"PyTorch {torch_version} ({sys.executable}); Crema {args.bin}")
    print(f"rounds {args.rounds}, threads {','.join(map(str, threads_list))}; each run a fresh "
          "process, Crema then PyTorch in every round")

    # The bench nets and the parameter check.
    configs = []  # (net, mode, batch, net file, iterations, warmup)
    for name in nets:
        path, batch, label = cpu_nets.NETS[name]
        files = {}
        for mode in modes:
            files[mode] = os.path.join(net_dir, f"{name}_{mode}.prototxt")
            with open(files[mode], "w") as f:
                f.write(cpu_nets.bench_net_text(name, mode, batch))
        crema_count = crema_info_params(crema, files[modes[0]])
        torch_count = torch_params(name)
        same = crema_count == torch_count
        print(f"{label}: learnable parameters Crema {crema_count:,} (crema info), PyTorch "
              f"{torch_count:,}{'' if same else '  DIFFERENT: not measured'}")
        if not same:
            continue
        for mode in modes:
            iterations, warmup = ITERATIONS[name][mode]
            configs.append((name, mode, batch, files[mode], args.iterations or iterations,
                            warmup if args.warmup is None else args.warmup))
    if not configs:
        sys.exit("cpu_bench.py: nothing to measure")
    print(flush=True)

    # Rounds outer, thread counts inner: a burst of load from elsewhere then spoils one round
    # of every row rather than every round of one row, and the medians absorb it.
    results = {}  # (name, mode, threads) -> {"crema": [...], "torch": [...]}
    sgemm = {threads: [] for threads in threads_list}  # GFLOP/s, one per round
    fma = {threads: [] for threads in threads_list}  # the FMA peak's GFLOP/s, one per round
    for r in range(args.rounds):
        for threads in threads_list:
            s = run_json([sgemm_bench, str(args.sgemm_size), "5"], threads)
            if "error" in s:
                sys.exit(f"cpu_bench.py: crema_sgemm_bench failed: {s['error']}")
            sgemm[threads].append(s["gflops"])
            fma[threads].append(s["fma_peak_gflops"])
            print(f"[round {r + 1}/{args.rounds}, threads {threads}] SGEMM {s['gflops']:.1f} "
                  f"GFLOP/s, FMA peak {s['fma_peak_gflops']:.1f}", file=sys.stderr, flush=True)
            for name, mode, batch, net_file, iterations, warmup in configs:
                c = run_json([net_bench, net_file, mode, str(iterations), str(warmup),
                              str(batch)], threads)
                t = run_json([sys.executable, os.path.join(HERE, "cpu_torch.py"), name, mode,
                              str(threads), str(iterations), str(warmup), str(batch)], threads)
                entry = results.setdefault((name, mode, threads), {"crema": [], "torch": []})
                entry["crema"].append(c)
                entry["torch"].append(t)
                show = lambda x: x.get("error") or f"{x['images_per_second']:.1f} img/s"  # noqa
                print(f"  {name} {mode} b{batch}: Crema {show(c)}, PyTorch {show(t)}",
                      file=sys.stderr, flush=True)

    # The table.
    print("Useful FLOPs: Crema's forward count (net_summary.h); a training step counts "
          "3 forward passes.")
    # The machine's rate is what it reaches when nothing else runs: the best round's.
    peak = {threads: max(rates) for threads, rates in sgemm.items()}
    for threads in threads_list:
        print(f"SGEMM (dnnl_sgemm {args.sgemm_size}², best of 5 calls) at {threads} thread(s): "
              f"{peak[threads]:.1f} GFLOP/s, the best of the rounds' "
              f"({', '.join(f'{g:.0f}' for g in sgemm[threads])}); % SGEMM is relative to it")
        fma_peak = max(fma[threads])
        print(f"FMA peak (vector multiply-adds alone) at {threads} thread(s): {fma_peak:.1f} "
              f"GFLOP/s; SGEMM reaches {100 * peak[threads] / fma_peak:.0f}% of it")
    print()
    print("| net | mode | batch | threads | Crema img/s | PyTorch img/s | ratio | "
          "RSS Crema MB | RSS PyTorch MB | Crema GFLOP/s | Crema % SGEMM | PyTorch % SGEMM |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    notes = []
    raw = []
    for name, mode, batch, _, iterations, warmup in configs:
        for threads in threads_list:
            entry = results[(name, mode, threads)]
            ok = [(c, t) for c, t in zip(entry["crema"], entry["torch"])
                  if "error" not in c and "error" not in t]
            label = cpu_nets.NETS[name][2]
            raw.append({"net": name, "mode": mode, "batch": batch, "threads": threads,
                        "iterations": iterations, "warmup": warmup,
                        "sgemm_gflops": sgemm[threads], **entry})
            for side in ("crema", "torch"):
                for x in entry[side]:
                    if "error" in x:
                        notes.append(f"{label} {mode} {threads}T {side}: {x['error']}")
                    elif mode == "train" and x.get("loss") is None:
                        notes.append(f"{label} {mode} {threads}T {side}: training loss not "
                                     "finite")
            if not ok:
                print(f"| {label} | {mode} | {batch} | {threads} | failed | | | | | | | |")
                continue
            counts = {x["learnable_params"] for pair in ok for x in pair}
            if len(counts) != 1:
                print(f"| {label} | {mode} | {batch} | {threads} | parameter counts differ: "
                      f"{sorted(counts)} | | | | | | | |")
                continue
            med = lambda side, key: statistics.median(  # noqa: E731
                (c if side == "crema" else t)[key] for c, t in ok)
            crema_ips, torch_ips = med("crema", "images_per_second"), med("torch",
                                                                           "images_per_second")
            ratio = statistics.median(c["images_per_second"] / t["images_per_second"]
                                      for c, t in ok)
            flops_per_image = ok[0][0]["forward_flops"] / batch * (3 if mode == "train" else 1)
            crema_gflops = crema_ips * flops_per_image / 1e9
            torch_gflops = torch_ips * flops_per_image / 1e9
            print(f"| {label} | {mode} | {batch} | {threads} | {crema_ips:.1f} | "
                  f"{torch_ips:.1f} | {ratio:.2f} | {med('crema', 'max_rss_mb'):.0f} | "
                  f"{med('torch', 'max_rss_mb'):.0f} | {crema_gflops:.1f} | "
                  f"{100 * crema_gflops / peak[threads]:.0f}% | "
                  f"{100 * torch_gflops / peak[threads]:.0f}% |")
    for note in notes:
        print(f"note: {note}")
    elapsed = time.time() - started
    print(f"\n{len(configs) * len(threads_list)} rows, {args.rounds} round(s); "
          f"{elapsed / 60:.1f} minutes; load average {load_average()} at the end")
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    results_file = os.path.join(args.out, f"results-{stamp}.json")
    with open(results_file, "w") as f:
        json.dump({"machine": cpu_model(), "cores": os.cpu_count(), "rounds": args.rounds,
                   "rows": raw}, f, indent=1)
    print(f"raw results: {os.path.relpath(results_file, ROOT)}")


if __name__ == "__main__":
    main()
