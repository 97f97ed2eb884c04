#!/usr/bin/env bash
# Edge server benchmarks (issue 6): ping round trips/s on loopback, 32 concurrent clients,
# repeatability of 5 forced measurements (CV of the median) and agreement of the server's
# median with edgeloop_microbench's for the same subnet and batch.
#
#   tools/bench/edge_bench.sh [BUILD_DIR]        (default build/)
#   env: ARCH (ArchConfig JSON), BATCH (1), THREADS (1), PINGS (5000), CLIENTS (32)
set -euo pipefail
BUILD=${1:-build}
ARCH=${ARCH:-'{"patch_size":[4,4,4],"embed_dim":24,"depths":[1,1,1,1],"num_heads":[3,3,3,3],"window_size":[8,7,7],"mlp_ratio":1,"resolution":96,"frames":16}'}
BATCH=${BATCH:-1}
THREADS=${THREADS:-1}
PINGS=${PINGS:-5000}
CLIENTS=${CLIENTS:-32}

tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

"$BUILD/tools/edgeloop" serve --listen 127.0.0.1:0 --threads "$THREADS" \
  --sentinel-interval -1 --max-queue-per-client 64 >"$tmp/serve.log" 2>&1 &
pid=$!
for _ in $(seq 200); do grep -q 'listening on' "$tmp/serve.log" && break; sleep 0.05; done
url=$(sed -n 's/^listening on //p' "$tmp/serve.log")
[ -n "$url" ] || { cat "$tmp/serve.log"; exit 1; }
echo "server: $url (threads $THREADS)"

"$BUILD/edge_bench/edgeloop_edge_loadtest" --edge="$url" --arch="$ARCH" --batch="$BATCH" \
  --pings="$PINGS" --clients="$CLIENTS" --repeat=5 | tee "$tmp/load.txt"
kill -TERM "$pid"; wait "$pid" && echo "server: exit 0 after SIGTERM"; pid=

"$BUILD/edge_bench/edgeloop_microbench" --arch="$ARCH" --batch="$BATCH" --samples=0 \
  --threads="$THREADS" --benchmark_filter='^subnet/arch/' --benchmark_repetitions=1 \
  --benchmark_min_time=5 --benchmark_format=json >"$tmp/micro.json" 2>/dev/null

python3 - "$tmp/load.txt" "$tmp/micro.json" <<'PY'
import json, sys
load = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
micro = json.load(open(sys.argv[2]))
bench = [b for b in micro["benchmarks"] if b["name"].startswith("subnet/arch/")][0]
server, mb = load["mean_median_ms"], bench["median_ms"]
print(f"ping round trips/s: {load['ping_rate']:.0f} (target >= 2000), RTT p50 {load['rtt_p50_ms']:.3f} ms")
print(f"concurrent clients served: {load['served']} of {load['clients']}")
print(f"repeatability: CV of 5 forced medians {100*load['cv']:.2f}% (target <= 2%)")
print(f"agreement: server median {server:.3f} ms, microbench median {mb:.3f} ms "
      f"({int(bench['runs'])} runs), ratio {server/mb:.3f} (target 0.95-1.05)")
PY
