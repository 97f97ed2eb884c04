#!/usr/bin/env bash
# Supernet training benchmarks: training throughput, and how well inherited-weight
# validation MSE ranks subnets compared to training each stand-alone (Kendall tau).
#
# Usage: tools/bench/train_bench.sh [--steps N] [--subnets K] [--threads T] [--seeds "S ..."]
#                                   [--train-flags "FLAGS"] [--skip-throughput] [--out DIR]
#   --steps N        supernet steps, and the stand-alone budget of every subnet (default 300)
#   --subnets K      subnets sampled for the ranking (default 8)
#   --seeds "S ..."  one supernet per seed, each ranked against the same stand-alone runs
#                    (default "1")
#   --train-flags F  extra `edgeloop train` flags for every run, e.g. the old defaults
#                    "--distill-warmup 0 --head-dropout=true"
# Prints samples/s of the tiny space and of the default space at resolution 64, then the
# validation MSE of predicting the training mean, the inherited and stand-alone MSE of each
# subnet and, per seed, Kendall's tau between the two rankings.
set -euo pipefail
cd "$(dirname "$0")/../.."
EDGELOOP=${EDGELOOP:-build/tools/edgeloop}
PYTHON=${PYTHON:-/usr/bin/python3}  # Debian's, for h5py (the mean predictor)
STEPS=300 SUBNETS=8 THREADS=2 SEEDS=1 TRAIN_FLAGS= THROUGHPUT=1 OUT=${TMPDIR:-/tmp}/edgeloop_train_bench
while (($#)); do
  case "$1" in
    --steps) STEPS=$2; shift 2 ;;
    --subnets) SUBNETS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --seeds) SEEDS=$2; shift 2 ;;
    --train-flags) TRAIN_FLAGS=$2; shift 2 ;;
    --skip-throughput) THROUGHPUT=0; shift ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "train_bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
rm -rf "$OUT" && mkdir -p "$OUT"
DATA=$OUT/lpbf.h5
"$EDGELOOP" data synth --out "$DATA" --objects C027,C028 --layers 6 --lines-per-layer 16 \
  --frame-size 48 --seed 11 >/dev/null
# shellcheck disable=SC2206
EXTRA=($TRAIN_FLAGS)
COMMON=(--data "$DATA" --train-split C027 --threads "$THREADS" --workers 2 --quiet "${EXTRA[@]}")
mse() {  # mse RUN ARCH: inherited-weight val MSE on the held-out object
  "$EDGELOOP" eval --run "$1" --arch "$2" --data "$DATA" --split C028 --json --threads "$THREADS" |
    "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["mse"])'
}

if ((THROUGHPUT)); then
  echo "== throughput (${THREADS} threads, batch 8)"
  "$EDGELOOP" train --space supernet/spaces/tiny.textproto "${COMMON[@]}" --seed 1 \
    --out "$OUT/tp_tiny" --steps 30 --batch-size 8 | sed -n 's/^trained/tiny space:/p'
  sed 's/^resolution: .*/resolution: [64]/' supernet/spaces/swin3d_lpbf.textproto >"$OUT/default64.textproto"
  "$EDGELOOP" train --space "$OUT/default64.textproto" "${COMMON[@]}" --seed 1 \
    --out "$OUT/tp_default" --steps 3 --batch-size 8 | sed -n 's/^trained/default space at resolution 64:/p'
fi

echo "== ranking: supernet ${STEPS} steps vs ${SUBNETS} subnets trained stand-alone for ${STEPS} steps"
"$PYTHON" - "$DATA" <<'PY'
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
def targets(obj):
    return np.concatenate([f[obj][l]["laser_params"][:] for l in sorted(f[obj])]) / [900.0, 215.0]
train, val = targets("C027"), targets("C028")
print(f"predicting the training mean: val MSE {((val - train.mean(0)) ** 2).mean():.5f}")
PY
"$EDGELOOP" space sample --space supernet/spaces/tiny.textproto --n "$SUBNETS" --seed 7 >"$OUT/subnets.jsonl"
i=0
while read -r arch; do
  i=$((i + 1))
  "$EDGELOOP" train --arch "$arch" "${COMMON[@]}" --seed 1 --out "$OUT/alone$i" --steps "$STEPS" \
    --batch-size 8 >/dev/null
  mse "$OUT/alone$i" "$arch" >"$OUT/alone$i.mse"
done <"$OUT/subnets.jsonl"
for seed in $SEEDS; do
  "$EDGELOOP" train --space supernet/spaces/tiny.textproto "${COMMON[@]}" --seed "$seed" \
    --out "$OUT/supernet$seed" --steps "$STEPS" --batch-size 8 >/dev/null
  echo "-- supernet seed $seed: inherited stand-alone arch"
  : >"$OUT/pairs$seed.txt"
  i=0
  while read -r arch; do
    i=$((i + 1))
    echo "$(mse "$OUT/supernet$seed" "$arch") $(cat "$OUT/alone$i.mse") $arch" | tee -a "$OUT/pairs$seed.txt"
  done <"$OUT/subnets.jsonl"
  "$PYTHON" - "$OUT/pairs$seed.txt" "$seed" <<'PY'
import sys
rows = [l.split()[:2] for l in open(sys.argv[1]) if l.strip()]
a = [float(r[0]) for r in rows]; b = [float(r[1]) for r in rows]
n = len(a); concordant = discordant = 0
for i in range(n):
    for j in range(i + 1, n):
        s = (a[i] - a[j]) * (b[i] - b[j])
        concordant += s > 0; discordant += s < 0
pairs = n * (n - 1) / 2
print(f"Kendall tau (seed {sys.argv[2]}, inherited vs stand-alone val MSE, {n} subnets): "
      f"{(concordant - discordant) / pairs:.3f}")
PY
done
