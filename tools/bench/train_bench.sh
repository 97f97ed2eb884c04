#!/usr/bin/env bash
# Supernet training benchmarks: training throughput, and how well inherited-weight
# validation MSE ranks subnets compared to training each stand-alone (Kendall tau).
#
# Usage: tools/bench/train_bench.sh [--steps N] [--supernet-steps M] [--subnets K] [--seeds "S ..."]
#                                   [--alone-seeds "S ..."] [--layers L] [--jobs J]
#                                   [--threads T] [--train-flags "FLAGS"]
#                                   [--supernet-flags "FLAGS"] [--skip-throughput]
#                                   [--out DIR]
#   --steps N          the stand-alone budget of every subnet and the supernets' (default
#                      1500: by then every 32-px subnet trained stand-alone has found the motion
#                      cue; at 300 none had, and the ranking was noise)
#   --supernet-steps M  the supernets' steps instead (default N)
#   --subnets K        subnets sampled uniformly from the tiny space for the ranking (default 8)
#   --seeds "S ..."    one supernet per seed, each ranked against the same stand-alone runs
#                      (default "1")
#   --alone-seeds "S ..."  every subnet is trained stand-alone once per seed (default "1 2");
#                      the ground truth is the mean, and the tau between two seeds' stand-alone
#                      rankings is the ceiling any supernet can reach against one of them
#   --layers L         layers per object of the generated data, 16 scan lines each (default 40:
#                      640 training samples; with 96 the larger subnets overfit)
#   --jobs J           trainings run side by side, each with --threads threads (default 2 x 1)
#   --train-flags F    extra `edgeloop train` flags for every ranking run
#   --supernet-flags F  extra `edgeloop train` flags for the supernets only (e.g.
#                      "--progressive-resolution 0" for resolutions mixed from the first step)
# Prints samples/s of the tiny space and of the default space at resolution 64 (2 threads),
# then the validation MSE of predicting the training mean, the inherited and stand-alone MSE
# of each subnet, the stand-alone repeatability, and per supernet seed Kendall's tau.
set -euo pipefail
cd "$(dirname "$0")/../.."
EDGELOOP=${EDGELOOP:-build/tools/edgeloop}
PYTHON=${PYTHON:-/usr/bin/python3}  # Debian's, for h5py (the mean predictor)
STEPS=1500 SUPERNET_STEPS='' SUBNETS=8 THREADS=1 JOBS=2 SEEDS=1 ALONE_SEEDS="1 2" LAYERS=40 TRAIN_FLAGS=
SUPERNET_FLAGS=
THROUGHPUT=1 OUT=${TMPDIR:-/tmp}/edgeloop_train_bench
while (($#)); do
  case "$1" in
    --steps) STEPS=$2; shift 2 ;;
    --supernet-steps) SUPERNET_STEPS=$2; shift 2 ;;
    --subnets) SUBNETS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    --seeds) SEEDS=$2; shift 2 ;;
    --alone-seeds) ALONE_SEEDS=$2; shift 2 ;;
    --layers) LAYERS=$2; shift 2 ;;
    --train-flags) TRAIN_FLAGS=$2; shift 2 ;;
    --supernet-flags) SUPERNET_FLAGS=$2; shift 2 ;;
    --skip-throughput) THROUGHPUT=0; shift ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "train_bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
SUPERNET_STEPS=${SUPERNET_STEPS:-$STEPS}
rm -rf "$OUT" && mkdir -p "$OUT"
DATA=$OUT/lpbf.h5
"$EDGELOOP" data synth --out "$DATA" --objects C027,C028 --layers "$LAYERS" \
  --lines-per-layer 16 --frame-size 48 --seed 11 2>/dev/null
# shellcheck disable=SC2206
EXTRA=($TRAIN_FLAGS)
# shellcheck disable=SC2206
SUPERNET_EXTRA=($SUPERNET_FLAGS)
COMMON=(--data "$DATA" --train-split C027 --workers 1 --quiet --batch-size 8)
TINY=supernet/spaces/tiny.textproto

if ((THROUGHPUT)); then
  echo "== throughput (2 threads, batch 8)"
  "$EDGELOOP" train --space "$TINY" "${COMMON[@]}" --threads 2 --seed 1 --out "$OUT/tp_tiny" \
    --steps 30 --progressive-resolution 0 | sed -n 's/^trained/tiny space:/p'
  sed 's/^resolution: .*/resolution: [64]/' supernet/spaces/swin3d_lpbf.textproto >"$OUT/default64.textproto"
  "$EDGELOOP" train --space "$OUT/default64.textproto" "${COMMON[@]}" --threads 2 --seed 1 \
    --out "$OUT/tp_default" --steps 3 | sed -n 's/^trained/default space at resolution 64:/p'
fi

echo "== ranking: supernet ${SUPERNET_STEPS} steps (${SUPERNET_FLAGS:-no extra flags}) vs ${SUBNETS} subnets trained stand-alone for" \
  "${STEPS} steps (seeds ${ALONE_SEEDS}); ${JOBS} jobs x ${THREADS} threads"
"$PYTHON" - "$DATA" <<'PY'
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
def targets(obj):
    return np.concatenate([f[obj][l]["laser_params"][:] for l in sorted(f[obj])]) / [900.0, 215.0]
train, val = targets("C027"), targets("C028")
print(f"predicting the training mean: val MSE {((val - train.mean(0)) ** 2).mean():.5f}"
      f" ({len(train)} training, {len(val)} validation samples)")
PY
"$EDGELOOP" space sample --space "$TINY" --n "$SUBNETS" --seed 7 >"$OUT/subnets.jsonl"
mapfile -t ARCHS <"$OUT/subnets.jsonl"

# The trainings, longest first (the supernets), JOBS at a time; a failed one fails the bench.
run_all() {
  local pids=() cmd
  for cmd in "$@"; do
    while (($(jobs -rp | wc -l) >= JOBS)); do wait -n; done
    bash -c "$cmd" &
    pids+=($!)
  done
  for pid in "${pids[@]}"; do wait "$pid"; done
}
quote() { printf '%q ' "$@"; }
TASKS=()
for seed in $SEEDS; do
  TASKS+=("$(quote "$EDGELOOP" train --space "$TINY" "${COMMON[@]}" "${EXTRA[@]}" \
    "${SUPERNET_EXTRA[@]}" --threads "$THREADS" --seed "$seed" --out "$OUT/supernet$seed" --steps "$SUPERNET_STEPS") >/dev/null")
done
for seed in $ALONE_SEEDS; do
  for i in "${!ARCHS[@]}"; do
    TASKS+=("$(quote "$EDGELOOP" train --arch "${ARCHS[$i]}" "${COMMON[@]}" "${EXTRA[@]}" \
      --threads "$THREADS" --seed "$seed" --out "$OUT/alone${seed}_$i" --steps "$STEPS") >/dev/null")
  done
done
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT  # an interrupted bench leaves no trainings
START=$SECONDS
run_all "${TASKS[@]}"
echo "trainings: $((SECONDS - START)) s"

mse() {  # mse RUN ARCH: inherited-weight val MSE on the held-out object
  "$EDGELOOP" eval --run "$1" --arch "$2" --data "$DATA" --split C028 --json --threads 2 |
    "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["mse"])'
}
for i in "${!ARCHS[@]}"; do
  row="$i"
  for seed in $ALONE_SEEDS; do row+=" alone$seed=$(mse "$OUT/alone${seed}_$i" "${ARCHS[$i]}")"; done
  for seed in $SEEDS; do row+=" supernet$seed=$(mse "$OUT/supernet$seed" "${ARCHS[$i]}")"; done
  echo "$row ${ARCHS[$i]}" >>"$OUT/mse.txt"
done
"$PYTHON" - "$OUT/mse.txt" <<'PY'
import itertools, statistics, sys
rows = []
for line in open(sys.argv[1]):
    fields = line.split()
    rows.append({k: float(v) for k, v in (f.split("=") for f in fields[1:] if "=" in f and not f.startswith("{"))})
alone = sorted(k for k in rows[0] if k.startswith("alone"))
supernets = sorted(k for k in rows[0] if k.startswith("supernet"))
for r in rows:
    r["alone"] = statistics.mean(r[k] for k in alone)
def tau(a, b):
    s = [(x1 - x2) * (y1 - y2) for (x1, y1), (x2, y2) in itertools.combinations(zip(a, b), 2)]
    return (sum(v > 0 for v in s) - sum(v < 0 for v in s)) / len(s)
col = lambda k: [r[k] for r in rows]
print("subnet  " + "  ".join(f"{k:>10}" for k in alone + ["alone"] + supernets))
for i, r in enumerate(rows):
    print(f"{i:6d}  " + "  ".join(f"{r[k]:10.5f}" for k in alone + ["alone"] + supernets))
spread = max(col("alone")) / min(col("alone")) - 1
print(f"stand-alone val MSE spread (mean over seeds): {100 * spread:.1f}%")
for a, b in itertools.combinations(alone, 2):
    print(f"stand-alone repeatability: Kendall tau {a} vs {b}: {tau(col(a), col(b)):.3f}")
for s in supernets:
    print(f"Kendall tau ({s} inherited vs stand-alone mean, {len(rows)} subnets): "
          f"{tau(col(s), col('alone')):.3f}")
PY
