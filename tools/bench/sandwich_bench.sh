#!/usr/bin/env bash
# Sandwich-step time, edgeloop (LibTorch C++) against Python PyTorch 1.13 (Debian's
# python3-torch), on the same members and input shapes: `edgeloop train --log-every 1` logs
# every step's members (canonical keys), resolution and step time; tools/bench/sandwich_step.py
# replays those steps in Python (max + min + 2 random subnets forward/backward with in-place
# distillation, clipping, AdamW) and prints both medians and the ratio. Both sides run on
# THREADS intra-op threads with OpenBLAS pinned to one thread.
#
# Usage: tools/bench/sandwich_bench.sh [--steps N] [--batch B] [--threads T] [--default-steps M]
#                                      [--out DIR]
#   --steps N          steps on the tiny space (default 12; the first 2 are left out)
#   --default-steps M  also M steps of the default space at resolution 64 (default 0: skip;
#                      each takes tens of seconds on 2 threads)
set -euo pipefail
cd "$(dirname "$0")/../.."
EDGELOOP=${EDGELOOP:-build/tools/edgeloop}
PYTHON=${PYTHON:-/usr/bin/python3}
STEPS=12 BATCH=8 THREADS=2 DEFAULT_STEPS=0 OUT=${TMPDIR:-/tmp}/edgeloop_sandwich_bench
while (($#)); do
  case "$1" in
    --steps) STEPS=$2; shift 2 ;;
    --batch) BATCH=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --default-steps) DEFAULT_STEPS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "sandwich_bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
rm -rf "$OUT" && mkdir -p "$OUT"
"$EDGELOOP" data synth --out "$OUT/lpbf.h5" --objects C027 --layers 4 --lines-per-layer 16 \
  --frame-size 64 --seed 11 >/dev/null

# One space, one run: edgeloop's step times and members land in RUN/log.jsonl.
compare() {  # compare NAME SPACE STEPS
  "$EDGELOOP" train --space "$2" --data "$OUT/lpbf.h5" --out "$OUT/$1" --steps "$3" \
    --batch-size "$BATCH" --threads "$THREADS" --workers 2 --seed 1 --log-every 1 \
    --head-dropout=false --distill-warmup 0 --quiet >/dev/null
  echo -n "$1: "
  "$PYTHON" tools/bench/sandwich_step.py --log "$OUT/$1/log.jsonl" --batch "$BATCH" \
    --threads "$THREADS" --skip "$(($3 > 3 ? 2 : 1))"
}
compare tiny supernet/spaces/tiny.textproto "$STEPS"
if ((DEFAULT_STEPS > 0)); then
  sed 's/^resolution: .*/resolution: [64]/' supernet/spaces/swin3d_lpbf.textproto >"$OUT/default64.textproto"
  compare default64 "$OUT/default64.textproto" "$DEFAULT_STEPS"
fi
