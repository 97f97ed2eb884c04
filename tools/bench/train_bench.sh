#!/usr/bin/env bash
# Supernet training benchmarks: training throughput, and how well inherited-weight
# validation MSE ranks subnets compared to training each stand-alone (Kendall tau).
#
# Usage: tools/bench/train_bench.sh [--steps N] [--subnets K] [--threads T] [--out DIR]
#   --steps N    supernet steps, and the stand-alone budget of every subnet (default 300)
#   --subnets K  subnets sampled for the ranking (default 8)
# Prints samples/s of the tiny space and of the default space at resolution 64, then the
# inherited and stand-alone MSE of each subnet and Kendall's tau between the two rankings.
set -euo pipefail
cd "$(dirname "$0")/../.."
EDGELOOP=${EDGELOOP:-build/tools/edgeloop}
STEPS=300 SUBNETS=8 THREADS=2 OUT=${TMPDIR:-/tmp}/edgeloop_train_bench
while (($#)); do
  case "$1" in
    --steps) STEPS=$2; shift 2 ;;
    --subnets) SUBNETS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "train_bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
rm -rf "$OUT" && mkdir -p "$OUT"
DATA=$OUT/lpbf.h5
"$EDGELOOP" data synth --out "$DATA" --objects C027,C028 --layers 6 --lines-per-layer 16 \
  --frame-size 48 --seed 11 >/dev/null
COMMON=(--data "$DATA" --train-split C027 --threads "$THREADS" --workers 2 --seed 1 --quiet)

echo "== throughput (${THREADS} threads)"
"$EDGELOOP" train --space supernet/spaces/tiny.textproto "${COMMON[@]}" --out "$OUT/tp_tiny" \
  --steps 30 --batch-size 8 | sed -n 's/^trained/tiny space:/p'
sed 's/^resolution: .*/resolution: [64]/' supernet/spaces/swin3d_lpbf.textproto >"$OUT/default64.textproto"
"$EDGELOOP" train --space "$OUT/default64.textproto" "${COMMON[@]}" --out "$OUT/tp_default" \
  --steps 3 --batch-size 8 | sed -n 's/^trained/default space at resolution 64:/p'

echo "== ranking: supernet ${STEPS} steps vs ${SUBNETS} subnets trained stand-alone for ${STEPS} steps"
"$EDGELOOP" train --space supernet/spaces/tiny.textproto "${COMMON[@]}" --out "$OUT/supernet" \
  --steps "$STEPS" --batch-size 8 >/dev/null
"$EDGELOOP" space sample --space supernet/spaces/tiny.textproto --n "$SUBNETS" --seed 7 >"$OUT/subnets.jsonl"
: >"$OUT/pairs.txt"
i=0
while read -r arch; do
  i=$((i + 1))
  inherited=$("$EDGELOOP" eval --run "$OUT/supernet" --arch "$arch" --data "$DATA" --split C028 --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["mse"])')
  "$EDGELOOP" train --arch "$arch" "${COMMON[@]}" --out "$OUT/alone$i" --steps "$STEPS" --batch-size 8 >/dev/null
  alone=$("$EDGELOOP" eval --run "$OUT/alone$i" --arch "$arch" --data "$DATA" --split C028 --json |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["mse"])')
  echo "$inherited $alone $arch" | tee -a "$OUT/pairs.txt"
done <"$OUT/subnets.jsonl"
python3 - "$OUT/pairs.txt" <<'PY'
import sys
rows = [l.split()[:2] for l in open(sys.argv[1]) if l.strip()]
a = [float(r[0]) for r in rows]; b = [float(r[1]) for r in rows]
n = len(a); concordant = discordant = 0
for i in range(n):
    for j in range(i + 1, n):
        s = (a[i] - a[j]) * (b[i] - b[j])
        concordant += s > 0; discordant += s < 0
pairs = n * (n - 1) / 2
print(f"Kendall tau (inherited vs stand-alone val MSE, {n} subnets): {(concordant - discordant) / pairs:.3f}")
PY
