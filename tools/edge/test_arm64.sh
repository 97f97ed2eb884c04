#!/usr/bin/env bash
# Tests the cross-built aarch64 edge agent under qemu-user on this (x86-64) machine:
#  1. the aarch64 `edgeloop serve` (build-arm64/) runs through `qemu-aarch64-static -L ROOT`
#     on loopback with a bearer token; its DeviceInfo must say machine aarch64;
#  2. the native `edgeloop measure` (build/) measures tiny-space subnets through it (a client
#     without the token is refused), and `edgeloop predictor bootstrap` fits a model on a
#     handful of live measurements;
#  3. the aarch64 `edgeloop_microbench` runs one benchmark (--benchmark_filter).
# Times under emulation mean nothing: only correctness is checked.
#
#   tools/edge/test_arm64.sh [ARM64_BUILD_DIR [NATIVE_BUILD_DIR]]   (build-arm64, build)
#
# ROOT is the arm64 root of tools/edge/cross_arm64.sh ($EDGELOOP_ARM64_ROOT, default
# /var/lib/edgeloop/bookworm-arm64): its /lib and /usr/lib/aarch64-linux-gnu are the
# sysroot. Needs qemu-user-static (binfmt not needed). Exit 0 when every check passes.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
cd "$REPO"
ARM=${1:-build-arm64}
NATIVE=${2:-build}
ROOT=${EDGELOOP_ARM64_ROOT:-/var/lib/edgeloop/bookworm-arm64}
QEMU=$(command -v qemu-aarch64-static || true)
START=$(date +%s)

die() { echo "test_arm64.sh: $*" >&2; exit "${2:-1}"; }
[[ -n "$QEMU" ]] || die "qemu-aarch64-static is missing (apt-get install qemu-user-static)" 2
[[ -x "$ARM/tools/edgeloop" ]] || die "$ARM/tools/edgeloop is missing: run tools/edge/cross_arm64.sh build" 2
[[ -x "$NATIVE/tools/edgeloop" ]] || die "$NATIVE/tools/edgeloop is missing: run tools/setup.sh" 2
[[ -e "$ROOT/lib/ld-linux-aarch64.so.1" ]] || die "$ROOT is not an arm64 root: run tools/edge/cross_arm64.sh setup" 2
readelf -h "$ARM/tools/edgeloop" | grep -q AArch64 || die "$ARM/tools/edgeloop is not an aarch64 binary" 2

TMP=$(mktemp -d)
SERVE_PID=""
cleanup() {
  [[ -n "$SERVE_PID" ]] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
# qemu's -L maps the paths the guest opens into ROOT, but not the targets of absolute
# symlinks, e.g. libblas.so.3 -> /etc/alternatives/... -> /usr/lib/.../openblas-pthread/...:
# such libraries are linked, resolved inside ROOT, into a folder on LD_LIBRARY_PATH.
resolve_in_root() {
  local p=$1 t n=0
  while [[ -L "$ROOT$p" && $n -lt 16 ]]; do
    t=$(readlink "$ROOT$p")
    [[ "$t" == /* ]] || t="$(dirname "$p")/$t"
    p=$t
    n=$((n + 1))
  done
  echo "$ROOT$p"
}
mkdir -p "$TMP/lib"
for dir in /usr/lib/aarch64-linux-gnu /lib/aarch64-linux-gnu; do
  while read -r link; do
    name=$(basename "$link")
    [[ -e "$TMP/lib/$name" ]] || ln -s "$(resolve_in_root "$dir/$name")" "$TMP/lib/$name"
  done < <(find "$ROOT$dir" -maxdepth 1 -type l -lname '/*' -name '*.so.*' 2>/dev/null)
done
arm() { LD_LIBRARY_PATH="$TMP/lib" "$QEMU" -L "$ROOT" "$@"; }
step() { echo "test_arm64.sh: [$(($(date +%s) - START)) s] $*"; }
fail() { echo "test_arm64.sh: FAILED: $*" >&2; [[ -f "$TMP/serve.log" ]] && tail -n 20 "$TMP/serve.log" >&2; exit 1; }

head -c 24 /dev/urandom | base64 >"$TMP/token"
head -c 24 /dev/urandom | base64 >"$TMP/wrong-token"
SPACE=supernet/spaces/tiny.textproto
QUICK=(--warmup-runs 1 --min-runs 3 --max-runs 5 --target-ci 0.5 --quiet)

step "aarch64 edgeloop --version"
arm "$ARM/tools/edgeloop" --version | tee "$TMP/version"
grep -q '^LibTorch ' "$TMP/version" || fail "--version names no LibTorch"

step "aarch64 edgeloop serve under qemu on loopback, with a token"
# Not through arm(): $! must be qemu's own pid, which the SIGTERM below is for.
LD_LIBRARY_PATH="$TMP/lib" "$QEMU" -L "$ROOT" "$ARM/tools/edgeloop" serve --listen 127.0.0.1:0 \
  --threads 1 --sentinel-interval -1 --token-file "$TMP/token" >"$TMP/serve.log" 2>&1 &
SERVE_PID=$!
for _ in $(seq 600); do
  grep -q '^listening on' "$TMP/serve.log" && break
  kill -0 "$SERVE_PID" 2>/dev/null || fail "serve exited"
  sleep 0.2
done
URL=$(sed -n 's/^listening on //p' "$TMP/serve.log")
[[ -n "$URL" ]] || fail "serve did not start within 120 s"
step "serving at $URL"

step "a client without the token is refused"
if "$NATIVE/tools/edgeloop" measure --edge "$URL" --token-file "$TMP/wrong-token" --arch min \
    --space "$SPACE" --batch 1 --timeout 20 "${QUICK[@]}" >"$TMP/refused.out" 2>&1; then
  fail "measure with a wrong token succeeded"
fi
grep -q '401' "$TMP/refused.out" || fail "no 401 for the wrong token: $(cat "$TMP/refused.out")"

step "native measure: tiny-space subnets through the aarch64 server"
"$NATIVE/tools/edgeloop" space sample --space "$SPACE" --n 2 --seed 19 >"$TMP/samples.jsonl"
archs=(min max)
while read -r line; do archs+=("$line"); done <"$TMP/samples.jsonl"
for a in "${archs[@]}"; do
  "$NATIVE/tools/edgeloop" measure --edge "$URL" --token-file "$TMP/token" --space "$SPACE" \
    --arch "$a" --batch 1,2 --json --timeout 300 "${QUICK[@]}" >"$TMP/result.json" ||
    fail "measure --arch $a"
  python3 - "$TMP/result.json" <<'PY' || fail "measure --arch $a: bad result"
import json, sys
r = json.load(open(sys.argv[1]))
d = r["device"]
assert d["machine"] == "aarch64", d.get("machine")
assert len(r["state_fingerprint"]) == 16, r
assert [b["batch_size"] for b in r["batches"]] == [1, 2], r["batches"]
assert all(b["median_ms"] > 0 and b["runs"] >= 3 for b in r["batches"]), r["batches"]
print("  %-48s batch 1 %8.2f ms, batch 2 %8.2f ms (emulated), machine %s" %
      (r["arch_key"], r["batches"][0]["median_ms"], r["batches"][1]["median_ms"], d["machine"]))
PY
done

step "native predictor bootstrap: a model from 6 live measurements on the aarch64 server"
"$NATIVE/tools/edgeloop" predictor bootstrap --edge "$URL" --token-file "$TMP/token" \
  --space "$SPACE" --samples 6 --batch 1 --folds 2 --db "$TMP/m.db" --out "$TMP/model.json" \
  --warmup-runs 1 --min-runs 3 --max-runs 5 --target-ci 0.5 --timeout 300 \
  >"$TMP/bootstrap.out" 2>&1 || { cat "$TMP/bootstrap.out" >&2; fail "predictor bootstrap"; }
tail -n 3 "$TMP/bootstrap.out"
[[ -s "$TMP/model.json" ]] || fail "predictor bootstrap wrote no model"

step "SIGTERM: the aarch64 server shuts down cleanly"
kill -TERM "$SERVE_PID"
rc=0
wait "$SERVE_PID" || rc=$?
SERVE_PID=""
[[ $rc -eq 0 ]] || fail "serve exited with $rc after SIGTERM"

step "aarch64 edgeloop_microbench, one benchmark"
arm "$ARM/edge_bench/edgeloop_microbench" --space="$SPACE" --samples=0 --batch=1 --threads=1 \
  --benchmark_filter='^subnet/min/batch:1' --benchmark_min_time=0.05 --benchmark_format=json \
  >"$TMP/micro.json" 2>"$TMP/micro.err" || { cat "$TMP/micro.err" >&2; fail "edgeloop_microbench"; }
python3 - "$TMP/micro.json" <<'PY' || fail "edgeloop_microbench: bad output"
import json, sys
b = json.load(open(sys.argv[1]))["benchmarks"]
assert len(b) == 1 and b[0]["name"].startswith("subnet/min/batch:1"), b
assert b[0]["real_time"] > 0, b
print("  %s: %.2f %s (emulated)" % (b[0]["name"], b[0]["real_time"], b[0]["time_unit"]))
PY

step "all checks passed in $(($(date +%s) - START)) s"
