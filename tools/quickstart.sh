#!/usr/bin/env bash
# The most complete edgeloop job that runs end to end today, on embedded defaults and
# generated data (about 5 minutes on 2 CPU cores):
#   1. synthetic RAISE-LPBF-Laser data (objects C027 for training, C028 held out);
#   2. supernet training over the tiny space (sandwich rule + in-place distillation);
#   3. inherited-weight evaluation of its min and max subnets on the held-out object;
#   4. TorchScript export of the best of them;
#   5. a local edge server on loopback, live latency measurement of both subnets;
#   6. a latency predictor bootstrapped from live measurements, with cross-validation.
# Usage: tools/quickstart.sh [OUT_DIR]   (default runs/quickstart; re-running starts afresh)
set -euo pipefail
cd "$(dirname "$0")/.."
EDGELOOP=${EDGELOOP:-build/tools/edgeloop}
OUT=${1:-runs/quickstart}
SPACE=supernet/spaces/tiny.textproto
STEPS=${STEPS:-300}
[[ -x "$EDGELOOP" ]] || { echo "quickstart: $EDGELOOP not built; run tools/setup.sh" >&2; exit 2; }
rm -rf "$OUT" && mkdir -p "$OUT"
step() { printf '\n== %s\n' "$*"; }

step "1. synthetic data -> $OUT/lpbf.h5"
"$EDGELOOP" data synth --out "$OUT/lpbf.h5" --objects C027,C028 --layers 8 --lines-per-layer 16 \
  --frame-size 48 --seed 1
"$EDGELOOP" data inspect "$OUT/lpbf.h5"

step "2. supernet training ($STEPS steps, tiny space) -> $OUT/supernet"
# Distillation and head dropout off: at this short budget the sandwich otherwise collapses
# to predicting the mean (see the supernet-training issue's notes).
"$EDGELOOP" train --space "$SPACE" --data "$OUT/lpbf.h5" --train-split 'C027:layers[0:80%]' \
  --val-split 'C027:layers[80%:100%]' --out "$OUT/supernet" --steps "$STEPS" --batch-size 8 \
  --lr 3e-4 --distill-weight 0 --head-dropout=false --seed 1 --threads 2

step "3. inherited-weight evaluation on the held-out object C028"
for arch in min max; do
  "$EDGELOOP" eval --run "$OUT/supernet" --arch "$arch" --data "$OUT/lpbf.h5" --split C028 \
    --json | tee "$OUT/eval_$arch.json"
done
best=$(python3 -c 'import json,sys; r={a: json.load(open(f"{sys.argv[1]}/eval_{a}.json"))["mse"] for a in ("min","max")}; print(min(r, key=r.get))' "$OUT")
echo "best on C028: $best"

step "4. export the $best subnet -> $OUT/model.pt (+ model.json)"
"$EDGELOOP" export --run "$OUT/supernet" --arch "$best" --out "$OUT/model.pt"

step "5. local edge server and live measurements"
"$EDGELOOP" serve --listen 127.0.0.1:0 --threads 2 --cache "$OUT/edge_cache.pb" \
  --sentinel-interval -1 >"$OUT/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q 'listening on' "$OUT/serve.log" && break; sleep 0.1; done
edge=$(grep -o 'ws://[0-9.]*:[0-9]*' "$OUT/serve.log" | head -n 1)
[[ -n "$edge" ]] || { cat "$OUT/serve.log" >&2; exit 1; }
echo "edge server: $edge"
for arch in min max; do
  "$EDGELOOP" measure --edge "$edge" --space "$SPACE" --arch "$arch" --batch 1,2
done

step "6. latency predictor bootstrapped live from $edge"
"$EDGELOOP" predictor bootstrap --edge "$edge" --space "$SPACE" --samples 24 --batch 1 \
  --db "$OUT/measurements.db" --out "$OUT/latency_model.json" --folds 4
"$EDGELOOP" predictor predict --model "$OUT/latency_model.json" --arch "$(cat "$OUT/model.json")" --batch 1
kill "$server" && wait "$server" 2>/dev/null || true
trap - EXIT
step "done: $OUT"
