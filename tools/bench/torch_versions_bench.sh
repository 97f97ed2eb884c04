#!/usr/bin/env bash
# LibTorch 2.6 (Debian 13, build-debian13/ through tools/debian13.sh) against LibTorch 1.13
# (Debian 12, build/) on this machine, in one run: the sandwich training step of the tiny
# space and the baseline's forward pass. The two builds take turns, ROUNDS times, so that
# the load of a shared machine falls on both alike; each side's median over the rounds and
# the ratio are printed. Both run THREADS intra-op threads with OpenBLAS pinned to one thread
# (edgeloop's main() does it on both platforms, base/blas_threads.h).
#
# Usage: tools/bench/torch_versions_bench.sh [--rounds R] [--steps N] [--threads T] [--out DIR]
#   needs root (the chroot) and both builds: tools/setup.sh and tools/debian13.sh build.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=3 STEPS=12 THREADS=2 OUT=${TMPDIR:-/tmp}/edgeloop_torch_versions_bench
while (($#)); do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2 ;;
    --steps) STEPS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    *) echo "torch_versions_bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
for b in build/tools/edgeloop build-debian13/tools/edgeloop; do
  [[ -x $b ]] || { echo "torch_versions_bench.sh: $b missing (build it first)" >&2; exit 2; }
done
# The output folder must be inside the checkout: the chroot sees only the checkout.
case "$OUT" in /*) ;; *) OUT=$PWD/$OUT ;; esac
[[ "$OUT" == "$PWD"/* ]] || OUT=$PWD/build-debian13/torch_versions_bench
rm -rf "$OUT" && mkdir -p "$OUT"
echo "load: $(uptime)"
build/tools/edgeloop data synth --out "$OUT/lpbf.h5" --objects C027 --layers 4 \
  --lines-per-layer 16 --frame-size 64 --seed 11 >/dev/null

run_side() {  # run_side debian12|debian13 CMD...: edgeloop of that platform
  if [[ $1 == debian12 ]]; then shift; build/tools/edgeloop "$@"
  else shift; tools/debian13.sh run build-debian13/tools/edgeloop "$@" | grep -v '^debian13.sh:'
  fi
}

# Median step time (s) of one training run, the first 2 steps left out.
train_step() {  # train_step SIDE ROUND
  local dir="$OUT/$1-train-$2"
  run_side "$1" train --space supernet/spaces/tiny.textproto --data "$OUT/lpbf.h5" \
    --out "$dir" --steps "$STEPS" --batch-size 8 --threads "$THREADS" --workers 2 --seed 1 \
    --log-every 1 --head-dropout=false --distill-warmup 0 --quiet >/dev/null
  python3 - "$dir/log.jsonl" <<'EOF'
import json, statistics, sys
steps = [json.loads(l) for l in open(sys.argv[1]) if '"step_s"' in l]
print(statistics.median(s["step_s"] for s in steps[2:]))
EOF
}

forward_ms() {  # forward_ms SIDE RESOLUTION FRAMES
  run_side "$1" supernet bench --arch baseline --batch 1 --runs 5 --warmup 2 \
    --threads "$THREADS" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read())["median_ms"])'
}

declare -A samples
for ((r = 1; r <= ROUNDS; r++)); do
  for side in debian12 debian13; do
    samples[$side-step]+="$(train_step "$side" "$r") "
    samples[$side-fwd]+="$(forward_ms "$side") "
  done
  echo "round $r of $ROUNDS done"
done

python3 - "${samples[debian12-step]}" "${samples[debian13-step]}" "${samples[debian12-fwd]}" \
  "${samples[debian13-fwd]}" "$THREADS" <<'EOF'
import statistics, sys
med = lambda s: statistics.median(float(x) for x in s.split())
s12, s13, f12, f13 = (med(a) for a in sys.argv[1:5])
print(f"threads {sys.argv[5]}; medians over rounds (LibTorch 2.6 / 1.13: > 1 means 2.6 is slower)")
print("| what | LibTorch 1.13 (Debian 12) | LibTorch 2.6 (Debian 13) | 2.6 / 1.13 |")
print("|---|---|---|---|")
print(f"| sandwich step, tiny space, batch 8 | {s12*1000:.1f} ms | {s13*1000:.1f} ms | {s13/s12:.2f}x |")
print(f"| baseline forward, batch 1, 16x224x224 | {f12:.0f} ms | {f13:.0f} ms | {f13/f12:.2f}x |")
EOF
