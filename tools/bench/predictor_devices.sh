#!/usr/bin/env bash
# The latency predictor on real devices' measurements: HELP's FBNet tables (issue #21).
#   tools/bench/predictor_devices.sh HELP_CHECKOUT [BUILD_DIR] [OUT_DIR]
# HELP_CHECKOUT: a clone of github.com/HayeonLee/HELP (only data/fbnet is read). Needs
# Debian's python3-torch and python3-numpy (installed here when missing). Prints the tables
# and writes OUT_DIR/results.md (copy it to predictor/bench/results/ to update the committed
# results) and results.json. About 10 minutes on 2 cores.
set -euo pipefail
HELP=${1:?usage: predictor_devices.sh HELP_CHECKOUT [BUILD_DIR] [OUT_DIR]}
BUILD=${2:-build}
OUT=${3:-runs/predictor_devices/$(date -u +%Y%m%d-%H%M%S)}
[ -f "$HELP/data/fbnet/metainfo.pt" ] || { echo "no data/fbnet/metainfo.pt in $HELP" >&2; exit 2; }
[ -x "$BUILD/tools/edgeloop" ] || { echo "no $BUILD/tools/edgeloop: build first" >&2; exit 2; }
if ! /usr/bin/python3 -c 'import torch, numpy' 2>/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    python3-torch python3-numpy >/dev/null
fi
exec /usr/bin/python3 "$(dirname "$0")/predictor_devices.py" "$HELP" "$BUILD/tools/edgeloop" "$OUT"
