#!/usr/bin/env bash
# A two-rank training job through Slurm: starts the one-node cluster of scripts/slurm-local
# (unless one already runs), makes a tiny MNIST-shaped dataset, submits an sbatch script that
# runs `srun --mpi=pmix crema train`, waits for the job and checks that it trained on two
# ranks, finished and wrote its model. Stops the daemons it started, whatever happens.
#
#   tests/integration/slurm_test.sh path/to/crema
#
# Exit status: 0 passed, 77 skipped (not root: slurmd must start jobs as their user), anything
# else failed, with the reason on stderr.
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: $0 path/to/crema" >&2; exit 2; }
crema="$(realpath "$1")"
repo="$(cd "$(dirname "$0")/../.." && pwd)"
job_timeout="${CREMA_SLURM_JOB_TIMEOUT:-240}"

if [[ $(id -u) -ne 0 ]]; then
  echo "SKIPPED: the Slurm test needs root (slurmd starts jobs as the submitting user)"
  exit 77
fi
[[ -x "$crema" ]] || { echo "FAILED: $crema is not an executable" >&2; exit 1; }

fail() {
  echo "FAILED: $*" >&2
  exit 1
}

# Other runs of this test on the machine (another build folder, another ctest) wait their
# turn: they would share the one cluster and one might stop it under the other.
exec 9>/tmp/crema-slurm-test.lock
flock -w 300 9 || fail "another Slurm test held /tmp/crema-slurm-test.lock for 5 minutes"

work="$(mktemp -d /tmp/crema-slurm-test.XXXXXX)"
started=0
cleanup() {
  local rc=$?
  if [[ $started -eq 1 ]]; then
    "$repo/scripts/slurm-local" stop 9>&- >/dev/null || echo "warning: slurm-local stop failed" >&2
  fi
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

begin=$SECONDS
if "$repo/scripts/slurm-local" status 9>&- >/dev/null; then
  echo "using the Slurm cluster already started by scripts/slurm-local"
else
  started=1
  "$repo/scripts/slurm-local" start 9>&- || fail "scripts/slurm-local start failed (see above)"
fi
export SLURM_CONF="${CREMA_SLURM_DIR:-/tmp/crema-slurm}/slurm.conf"
echo "cluster ready after $((SECONDS - begin)) s"

# 320 images of 28x28 in MNIST's IDX format: digit k is a bright bar at rows 2k..2k+2 over
# noise, so the loss has something to learn.
python3 - "$work" <<'EOF'
import random, struct, sys
work = sys.argv[1]
n = 320
rng = random.Random(7)
labels = [i % 10 for i in range(n)]
pixels = bytearray()
for label in labels:
    for row in range(28):
        for _ in range(28):
            bar = 2 * label <= row < 2 * label + 3
            pixels.append(200 + rng.randrange(56) if bar else rng.randrange(60))
with open(f"{work}/images.idx", "wb") as f:
    f.write(struct.pack(">IIII", 2051, n, 28, 28) + bytes(pixels))
with open(f"{work}/labels.idx", "wb") as f:
    f.write(struct.pack(">II", 2049, n) + bytes(labels))
EOF
"$crema" convert mnist "$work/images.idx" "$work/labels.idx" "$work/train_lmdb" >/dev/null 2>&1 ||
  fail "crema convert mnist could not make the dataset"

cat >"$work/net.prototxt" <<EOF
name: "Tiny"
layer {
  name: "data" type: "Data" top: "data" top: "label"
  transform_param { scale: 0.00390625 }
  data_param { source: "$work/train_lmdb" batch_size: 16 backend: LMDB }
}
layer {
  name: "conv" type: "Convolution" bottom: "data" top: "conv"
  convolution_param { num_output: 4 kernel_size: 5 weight_filler { type: "xavier" } }
}
layer {
  name: "pool" type: "Pooling" bottom: "conv" top: "pool"
  pooling_param { pool: MAX kernel_size: 2 stride: 2 }
}
layer {
  name: "ip" type: "InnerProduct" bottom: "pool" top: "ip"
  inner_product_param { num_output: 10 weight_filler { type: "xavier" } }
}
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
EOF
cat >"$work/solver.prototxt" <<EOF
net: "$work/net.prototxt"
base_lr: 0.05
momentum: 0.9
lr_policy: "fixed"
display: 10
max_iter: 40
snapshot_prefix: "$work/out/tiny"
random_seed: 5
solver_mode: CPU
EOF
mkdir -p "$work/out"

cat >"$work/job.sbatch" <<EOF
#!/bin/bash
#SBATCH -J crema-slurm-test
#SBATCH -n 2
#SBATCH --overcommit
#SBATCH -t 10
#SBATCH -o $work/job.out
srun --mpi=pmix "$crema" train -solver "$work/solver.prototxt" -sync bsp -sync_timeout 120
EOF

submitted=$SECONDS
job="$(sbatch --parsable --chdir="$work" "$work/job.sbatch")" || fail "sbatch refused the job"
job="${job%%;*}"
echo "submitted job $job"
while [[ -n "$(squeue -h -j "$job" -o %T 2>/dev/null)" ]]; do
  if ((SECONDS - submitted > job_timeout)); then
    echo "--- squeue:" >&2
    squeue >&2 || true
    echo "--- job output so far:" >&2
    cat "$work/job.out" >&2 2>/dev/null || true
    scancel "$job" || true
    fail "job $job did not finish within $job_timeout s"
  fi
  sleep 1
done
echo "job $job finished after $((SECONDS - submitted)) s"

report() {
  echo "--- job $job: $(scontrol show job "$job" 2>/dev/null | grep -o 'JobState=[^ ]* .*ExitCode=[^ ]*' || true)" >&2
  echo "--- job output ($work/job.out):" >&2
  cat "$work/job.out" >&2 2>/dev/null || echo "(none)" >&2
  echo "--- last lines of slurmd.log:" >&2
  tail -n 20 "${CREMA_SLURM_DIR:-/tmp/crema-slurm}/slurmd.log" >&2 2>/dev/null || true
  fail "$1"
}
[[ -f "$work/job.out" ]] || report "the job wrote no output file"
state="$(scontrol show job "$job" 2>/dev/null | grep -o 'JobState=[A-Z_]*' || true)"
[[ -z "$state" || "$state" == "JobState=COMPLETED" ]] || report "job $job ended in $state"
grep -q "Training on 2 ranks" "$work/job.out" ||
  report "the job did not train on 2 ranks (no 'Training on 2 ranks' line): srun's ranks were not seen as one MPI job"
grep -q "Optimization Done." "$work/job.out" || report "training did not finish ('Optimization Done.' missing)"
[[ -s "$work/out/tiny_iter_40.caffemodel" ]] || report "no model file $work/out/tiny_iter_40.caffemodel"
echo "--- job output:"; cat "$work/job.out"
echo "PASSED: 2-rank Slurm job trained and wrote its model ($((SECONDS - begin)) s in all)"
