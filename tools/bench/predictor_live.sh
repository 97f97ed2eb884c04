#!/usr/bin/env bash
# Live benchmarks of the latency predictor with this machine's CPU as the edge device
# (issue #7): accuracy on unseen subnets, and recovery after a change of the device.
#
#   tools/bench/predictor_live.sh [BUILD_DIR] [OUT_DIR]
#
# 1. `edgeloop serve` on 127.0.0.1 with $THREADS intra-op threads (sentinel off: a change
#    of the device must be noticed from prediction errors alone);
# 2. `predictor bootstrap` with $BOOT measurements (default design);
# 3. `predictor stream` of $STREAM other subnets: share within +-10% and Spearman of the
#    predictions made before each update (targets >= 95%, >= 0.97);
# 3b. the noise floor: $REPEAT of the streamed subnets measured again (--force); the share
#    of repeats within +-10% of the stored value bounds what any predictor can reach, and
#    the summary prints the stream's share divided by it (target >= 0.9);
# 4. the server restarted with $DRIFT_THREADS threads under the same device name, and
#    `predictor stream` of $DRIFT more: measurements until the before-update predictions are
#    >= 90% within +-10% over 10 consecutive ones (target <= 20).
# Environment: SPACE (default supernet/spaces/swin3d_lpbf_cpu.textproto), DEVICE, THREADS=2,
# DRIFT_THREADS=1, BOOT=100, STREAM=200, DRIFT=60, REPEAT=30, SETTINGS (measurement flags;
# the default includes --paired-reference: speed-normalised latencies, PAIRED=0 drops it).
# Measurements share the CPU with everything else running: check `uptime`.
set -euo pipefail
BUILD=${1:-build}
OUT=${2:-runs/predictor_live/$(date -u +%Y%m%d-%H%M%S)}
BIN=$BUILD/tools/edgeloop
SPACE=${SPACE:-supernet/spaces/swin3d_lpbf_cpu.textproto}
DEVICE=${DEVICE:-cpu-bench}
THREADS=${THREADS:-2}
DRIFT_THREADS=${DRIFT_THREADS:-1}
BOOT=${BOOT:-100}
STREAM=${STREAM:-200}
DRIFT=${DRIFT:-60}
REPEAT=${REPEAT:-30}
PAIRED_FLAG=--paired-reference
[ "${PAIRED:-1}" = 0 ] && PAIRED_FLAG=
SETTINGS=${SETTINGS:---warmup-runs 3 --warmup-ms 200 --min-runs 5 --max-runs 15 --max-time-ms 1500 --target-ci 0.02 $PAIRED_FLAG}
mkdir -p "$OUT"
DB=$OUT/live.db
SERVER_PID=

start_server() {  # THREADS LOG -> sets URL
  "$BIN" serve --listen 127.0.0.1:0 --threads "$1" --sentinel-interval -1 >"$2" 2>"$2.err" &
  SERVER_PID=$!
  for _ in $(seq 200); do
    URL=$(sed -n 's/^listening on \(ws:\/\/[^ ]*\)$/\1/p' "$2")
    [ -n "$URL" ] && return 0
    sleep 0.1
  done
  echo "server did not start: $(cat "$2.err")" >&2
  exit 1
}
stop_server() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  SERVER_PID=
}
trap stop_server EXIT

echo "== $(date -u +%FT%TZ) load: $(uptime | sed 's/.*load average/load average/')"
echo "space $SPACE, device name $DEVICE, settings: $SETTINGS"
start_server "$THREADS" "$OUT/serve_${THREADS}t.log"
echo "== bootstrap: $BOOT measurements, server $URL with $THREADS threads"
T0=$(date +%s)
# shellcheck disable=SC2086
"$BIN" predictor bootstrap --edge "$URL" --space "$SPACE" --samples "$BOOT" --db "$DB" \
  --out "$OUT/model.json" --device "$DEVICE" --seed 0 $SETTINGS | tee "$OUT/bootstrap.txt"
echo "   ($(( $(date +%s) - T0 )) s)"
echo "== stream: $STREAM other subnets"
T0=$(date +%s)
# shellcheck disable=SC2086
"$BIN" predictor stream --edge "$URL" --space "$SPACE" --samples "$STREAM" --db "$DB" \
  --device "$DEVICE" --seed 1 $SETTINGS | tee "$OUT/stream.txt" | tail -4
echo "   ($(( $(date +%s) - T0 )) s) load: $(uptime | sed 's/.*load average/load average/')"
echo "== noise floor: $REPEAT streamed subnets measured again"
"$BIN" store export --db "$DB" --csv "$OUT/stream_rows.csv" --device "$DEVICE" >/dev/null
python3 - "$OUT/stream_rows.csv" "$REPEAT" >"$OUT/repeat_archs.txt" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))[-int(sys.argv[2]):]
for r in rows: print(r["median_ms"] + "\t" + r["arch_json"])
PY
: >"$OUT/repeat.txt"
while IFS=$'\t' read -r stored arch; do
  # shellcheck disable=SC2086
  again=$("$BIN" measure --edge "$URL" --arch "$arch" --batch 1 --force --json --quiet $SETTINGS </dev/null |
    python3 -c 'import json,sys; b=json.load(sys.stdin)["batches"][0]; print(b.get("normalized_median_ms") or b["median_ms"])')
  echo "$stored $again" >>"$OUT/repeat.txt"
done <"$OUT/repeat_archs.txt"
python3 - "$OUT/repeat.txt" <<'PY' | tee "$OUT/noise.txt"
import sys
pairs = [tuple(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
ratios = [b / a for a, b in pairs]
within = sum(abs(r - 1) <= 0.10 for r in ratios) / len(ratios)
within5 = sum(abs(r - 1) <= 0.05 for r in ratios) / len(ratios)
print(f"noise floor: n={len(ratios)} repeats within+-5% {100*within5:.1f}%, within+-10% {100*within:.1f}%")
PY
stop_server

start_server "$DRIFT_THREADS" "$OUT/serve_${DRIFT_THREADS}t.log"
echo "== drift: server restarted with $DRIFT_THREADS threads ($URL), same device name; $DRIFT measurements"
T0=$(date +%s)
# shellcheck disable=SC2086
"$BIN" predictor stream --edge "$URL" --space "$SPACE" --samples "$DRIFT" --db "$DB" \
  --device "$DEVICE" --seed 2 $SETTINGS | tee "$OUT/drift.txt" | tail -4
echo "   ($(( $(date +%s) - T0 )) s) load: $(uptime | sed 's/.*load average/load average/')"
stop_server
echo "== summary ($OUT)"
grep -h "^cv" "$OUT/bootstrap.txt"
echo "accuracy on $STREAM unseen subnets: $(grep -h '^before-update' "$OUT/stream.txt")"
echo "$(cat "$OUT/noise.txt")"
# The VM's own repeat measurements bound what any predictor can reach: accuracy is judged
# against that floor (issue #21: target >= 0.9).
ACC=$(grep -h '^before-update' "$OUT/stream.txt" | sed -n 's/.*within+-10% \([0-9.]*\)%.*/\1/p')
FLOOR=$(sed -n 's/.*within+-10% \([0-9.]*\)%.*/\1/p' "$OUT/noise.txt")
python3 -c "import sys; a, f = map(float, sys.argv[1:]); print(f'within+-10% relative to the noise floor: {a:.1f}% / {f:.1f}% = {a / f:.3f} (target >= 0.9)')" "$ACC" "$FLOOR"
echo "drift ($THREADS -> $DRIFT_THREADS threads): $(grep -h '^before-update' "$OUT/drift.txt")"
echo "drift recovery: $(grep -h 'accurate' "$OUT/drift.txt")"
