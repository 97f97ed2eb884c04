#!/usr/bin/env bash
# Runs the whole GoogleTest suite through ctest (after setting up and building as needed).
# Exits non-zero on any failure.
# Usage: tools/test.sh [ctest args, e.g. -R Space]
#        tools/test.sh --bazel [//:target ...]   (the tests through the Bazel build in bazel_alt/)
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == "--bazel" ]]; then
  shift
  tools/setup.sh --no-build
  cd bazel_alt
  # Target labels given: test those; otherwise everything (other arguments are flags).
  for arg in "$@"; do
    if [[ "$arg" == //* ]]; then exec bazel test "$@"; fi
  done
  exec bazel test //... "$@"
fi
tools/setup.sh
cd build
ctest --output-on-failure -j "$(nproc)" --timeout 600 "$@"
