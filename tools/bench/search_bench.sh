#!/usr/bin/env bash
# Search benchmarks (the search issue's three numbers):
#   1. candidates evaluated per second: accuracy on 256 validation samples at resolution 64
#      (default space restricted to resolution 64) plus predicted latency, 2 threads;
#   2. search cost ratio: training one candidate stand-alone for 2 epochs on the same data
#      (the reference's per-candidate cost) / evaluating one candidate here (target >= 100);
#      also extrapolated to the RAISE-LPBF training set (~700k scan lines);
#   3. search quality on the tiny space, evaluated (nearly) exhaustively: hypervolume of the
#      pareto, random and weighted strategies at equal budgets, as a share of the
#      exhaustive front's, averaged over seeds.
# Usage: tools/bench/search_bench.sh [--out DIR] [--threads T] [--budget-pop P --budget-gens G]
#                                   [--speed-candidates N] [--steps S]
set -euo pipefail
cd "$(dirname "$0")/../.."
EDGELOOP=${EDGELOOP:-build/tools/edgeloop}
OUT=${TMPDIR:-/tmp}/edgeloop_search_bench THREADS=2 POP=8 GENS=7 STEPS=300 SPEED_POP=6
while (($#)); do
  case "$1" in
    --out) OUT=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --budget-pop) POP=$2; shift 2 ;;
    --budget-gens) GENS=$2; shift 2 ;;
    --steps) STEPS=$2; shift 2 ;;
    --speed-candidates) SPEED_POP=$2; shift 2 ;;
    *) echo "search_bench.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
rm -rf "$OUT" && mkdir -p "$OUT"
DATA=$OUT/lpbf.h5
"$EDGELOOP" data synth --out "$DATA" --objects C027,C028 --layers 8 --lines-per-layer 32 \
  --frame-size 64 --seed 5 >/dev/null
COMMON=(--data "$DATA" --threads "$THREADS" --workers 2 --quiet)

echo "== 1. candidates per second (default space at resolution 64, 256 val samples, $THREADS threads)"
sed 's/^resolution: .*/resolution: [64]/' supernet/spaces/swin3d_lpbf.textproto >"$OUT/default64.textproto"
"$EDGELOOP" init --space "$OUT/default64.textproto" --out "$OUT/run64" --seed 1 >/dev/null
"$EDGELOOP" predictor bootstrap --simulate --space "$OUT/default64.textproto" --samples 60 \
  --db "$OUT/sim.db" --out "$OUT/sim64.json" --folds 3 >/dev/null
"$EDGELOOP" search --run "$OUT/run64" --val-split C028 --predictor "$OUT/sim64.json" \
  --db "$OUT/sim.db" --out "$OUT/speed" --objective random --population "$SPEED_POP" --generations 0 \
  --samples 256 --no-export "${COMMON[@]}" >/dev/null
python3 - "$OUT/speed/log.jsonl" "$OUT/speed.txt" <<'PY'
import json, sys
g = [json.loads(l) for l in open(sys.argv[1]) if '"generation"' in l][0]
t = g["time_s"]
per = (t["accuracy"] + t["predict"]) / g["new"]
print(f"{g['new']} candidates (the space's min and max corners + uniform draws): {1/per:.3f} candidates/s "
      f"({per:.2f} s each; latency prediction {t['predict']*1000/g['new']:.2f} ms each)")
open(sys.argv[2], "w").write(str(per))
PY

echo "== 2. search cost ratio (stand-alone 2 epochs of C027 vs one candidate evaluation)"
ARCH=$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["archive"][-1]["arch"]))' "$OUT/speed/state.json")
SAMPLES=$("$EDGELOOP" data inspect "$DATA" | python3 -c 'import sys,re; t=sys.stdin.read(); m=re.findall(r"C027\s+\d+ layers\s+(\d+) scan lines", t); print(m[0] if m else "")')
start=$(date +%s.%N)
"$EDGELOOP" train --arch "$ARCH" --train-split C027 --out "$OUT/standalone" --epochs 2 --batch-size 8 \
  --seed 1 "${COMMON[@]}" >/dev/null
end=$(date +%s.%N)
python3 - "$start" "$end" "$(cat "$OUT/speed.txt")" "$SAMPLES" <<'PY'
import sys
train = float(sys.argv[2]) - float(sys.argv[1]); per = float(sys.argv[3])
print(f"stand-alone 2 epochs: {train:.1f} s; one candidate evaluation: {per:.2f} s; ratio {train/per:.0f}x (target >= 100)")
if sys.argv[4]:
    n = int(sys.argv[4]); full = train * 700000 / n
    print(f"on the RAISE-LPBF training set (~700k lines, {700000/n:.0f}x these {n}): {full/3600:.0f} h per candidate, ratio {full/per:.0f}x")
PY

echo "== 3. search quality on the tiny space at equal budgets (${POP} x $((GENS + 1)) evaluations)"
"$EDGELOOP" train --space supernet/spaces/tiny.textproto --train-split C027 --out "$OUT/tiny_run" \
  --steps "$STEPS" --batch-size 8 --lr 3e-4 --distill-weight 0 --head-dropout=false --seed 1 \
  "${COMMON[@]}" >/dev/null
"$EDGELOOP" predictor bootstrap --simulate --space supernet/spaces/tiny.textproto --samples 40 \
  --db "$OUT/sim.db" --out "$OUT/sim_tiny.json" --folds 3 >/dev/null
TINY=(--run "$OUT/tiny_run" --val-split C028 --predictor "$OUT/sim_tiny.json" --db "$OUT/sim.db" \
      --samples 64 --no-export "${COMMON[@]}")
"$EDGELOOP" search "${TINY[@]}" --out "$OUT/exhaustive" --objective random --population 2048 \
  --generations 0 >/dev/null
for strategy in pareto random weighted; do
  for seed in 1 2 3; do
    "$EDGELOOP" search "${TINY[@]}" --out "$OUT/$strategy-$seed" --objective "$strategy" \
      --population "$POP" --generations "$GENS" --seed "$seed" >/dev/null
  done
done
python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
def points(d):
    a = json.load(open(f"{out}/{d}/state.json"))["archive"]
    return [(c["val_mse"], c["predicted_ms"]) for c in a if c["val_mse"] is not None]
def hv(ps, ref):
    ps = sorted(p for p in ps if p[0] < ref[0] and p[1] < ref[1])
    v, best = 0.0, ref[1]
    for x, y in ps:
        if y < best:
            v += (ref[0] - x) * (best - y); best = y
    return v
allp = points("exhaustive")
ref = (max(p[0] for p in allp) * 1.1, max(p[1] for p in allp) * 1.1)
full = hv(allp, ref)
print(f"exhaustive: {len(allp)} of 512 subnets scored")
for s in ("pareto", "random", "weighted"):
    shares = [hv(points(f"{s}-{seed}"), ref) / full for seed in (1, 2, 3)]
    print(f"{s:9s} hypervolume {100*sum(shares)/3:.1f}% of the exhaustive front's (seeds: {', '.join(f'{100*x:.1f}%' for x in shares)})")
PY
