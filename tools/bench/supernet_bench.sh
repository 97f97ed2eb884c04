#!/usr/bin/env bash
# Supernet benchmarks (issue #4):
#  1. inherited-weight evaluation time of one subnet on 512 samples at resolution 64 for the
#     min, max and baseline configs of the default space (fresh `edgeloop init` run,
#     synthetic data, `edgeloop eval --json`);
#  2. forward latency of the baseline at [1,1,16,224,224] and [1,1,16,64,64], edgeloop vs
#     Python PyTorch 1.13 (Debian python3-torch) on the same architecture, with the ratio.
# Both sides run on THREADS intra-op threads with OpenBLAS pinned to one thread (edgeloop
# does it in main(), base/blas_threads.h; the Python script sets OPENBLAS_NUM_THREADS=1).
#
# Usage: tools/bench/supernet_bench.sh [--threads T] [--runs N] [--samples S] [--max-samples M]
#                                      [--out DIR] [--skip-eval]
#   --samples S      samples evaluated per subnet (default 512)
#   --max-samples M  samples for the max subnet (default S; it costs ~7x the baseline)
set -euo pipefail
cd "$(dirname "$0")/../.."
EDGELOOP=${EDGELOOP:-build/tools/edgeloop}  # e.g. EDGELOOP=build-supernet/tools/edgeloop
PYTHON=${PYTHON:-/usr/bin/python3}
THREADS=2 RUNS=5 SAMPLES=512 MAX_SAMPLES= OUT=${TMPDIR:-/tmp}/edgeloop_supernet_bench SKIP_EVAL=0
while (($#)); do
  case "$1" in
    --threads) THREADS=$2; shift 2 ;;
    --runs) RUNS=$2; shift 2 ;;
    --samples) SAMPLES=$2; shift 2 ;;
    --max-samples) MAX_SAMPLES=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --skip-eval) SKIP_EVAL=1; shift ;;
    *) echo "supernet_bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
SPACE=supernet/spaces/swin3d_lpbf.textproto
echo "load: $(uptime)"

if ((SKIP_EVAL == 0)); then
  rm -rf "$OUT" && mkdir -p "$OUT"
  "$EDGELOOP" data synth --out "$OUT/lpbf.h5" --objects C027 --layers 8 --lines-per-layer 64 \
    --frame-size 64 --seed 3 >/dev/null
  "$EDGELOOP" init --space "$SPACE" --out "$OUT/run" --seed 1 >/dev/null
  "$EDGELOOP" space info --space "$SPACE" --json >"$OUT/info.json"
  echo "== inherited-weight evaluation at resolution 64, ${THREADS} threads"
  for name in min baseline max; do
    n=$SAMPLES
    [[ $name == max && -n $MAX_SAMPLES ]] && n=$MAX_SAMPLES
    arch=$("$PYTHON" -c "import json,sys; a=json.load(open(sys.argv[1]))[sys.argv[2]]['arch']; \
a['resolution']=64; print(json.dumps(a))" "$OUT/info.json" "$name")
    result=$("$EDGELOOP" eval --run "$OUT/run" --arch "$arch" --data "$OUT/lpbf.h5" --samples "$n" \
      --threads "$THREADS" --json)
    echo "$name: $result"
  done
  echo "load: $(uptime)"
fi

echo "== forward latency of the baseline, ${THREADS} threads, median of ${RUNS} runs"
for shape in 1,1,16,224,224 1,1,16,64,64; do
  "$PYTHON" tools/bench/swin_forward_compare.py bench --shape "$shape" --threads "$THREADS" \
    --runs "$RUNS" --warmup 1 --edgeloop "$EDGELOOP"
done
echo "load: $(uptime)"
