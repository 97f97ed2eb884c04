#!/usr/bin/env bash
# Installs every Debian package edgeloop needs, then configures and builds into build/.
# Idempotent: packages already present are not reinstalled, and a built tree only gets an
# incremental build. Usage: tools/setup.sh [--no-build] [--debug]
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_TYPE=Release
DO_BUILD=1
for arg in "$@"; do
  case "$arg" in
    --no-build) DO_BUILD=0 ;;
    --debug) BUILD_TYPE=Debug ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

# One package a line; see ../shared/reference/BUILD_FACTS.md for why each is here.
PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  libtorch-dev libgloo-dev          # LibTorch 1.13 (CPU) and the c10d Gloo headers
  libopenblas0-pthread              # replaces the reference BLAS under LibTorch: 7-12x faster
  libxgboost-dev xgboost            # XGBoost C API; its CMake config needs the CLI package
  libprotobuf-dev protobuf-compiler
  libboost-dev libssl-dev           # Boost.Beast/Asio, TLS for wss://
  libabsl-dev
  libbenchmark-dev libgtest-dev libgmock-dev
  libhdf5-dev hdf5-tools
  libsqlite3-dev sqlite3
  gnuplot-nox                       # plots (Pareto fronts)
  bazel-bootstrap bazel-platforms bazel-rules-java  # the alternative build in bazel_alt/
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  echo "setup.sh: installing ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup.sh: all ${#PACKAGES[@]} packages present"
fi

if ((DO_BUILD)); then
  if [[ ! -f build/CMakeCache.txt ]]; then
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE"
  fi
  cmake --build build -j "$(nproc)"
  echo "setup.sh: built build/tools/edgeloop"
fi
