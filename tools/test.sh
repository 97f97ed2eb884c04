#!/usr/bin/env bash
# Runs the whole GoogleTest suite through ctest (after setting up and building as needed).
# Exits non-zero on any failure. Usage: tools/test.sh [ctest args, e.g. -R Space]
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
cd build
ctest --output-on-failure -j "$(nproc)" --timeout 600 "$@"
