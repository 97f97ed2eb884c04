#!/usr/bin/env bash
# Installs every Debian package edgeloop needs, then configures and builds into build/.
# Idempotent: packages already present are not reinstalled, and a built tree only gets an
# incremental build. Usage: tools/setup.sh [--no-build] [--debug] [--edge]
# --edge: the edge agent alone: the packages of tools/edge/packages.txt, built with
# -DEDGELOOP_EDGE_ONLY=ON into build-edge/ (edge_bench/README.md, "Deploying the edge agent").
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_TYPE=Release
DO_BUILD=1
PACKAGE_LIST=tools/packages.txt
BUILD_DIR=build
CMAKE_ARGS=()
for arg in "$@"; do
  case "$arg" in
    --no-build) DO_BUILD=0 ;;
    --debug) BUILD_TYPE=Debug ;;
    --edge)
      PACKAGE_LIST=tools/edge/packages.txt
      BUILD_DIR=build-edge
      CMAKE_ARGS=(-DEDGELOOP_EDGE_ONLY=ON)
      ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

# The package list is shared with tools/debian13.sh: tools/packages.txt (or
# tools/edge/packages.txt), filtered by release.
RELEASE=$(. /etc/os-release && echo "${VERSION_ID%%.*}")
mapfile -t PACKAGES < <(awk -v rel="$RELEASE" '
  /^[[:space:]]*(#|$)/ { next }
  { for (i = 2; i <= NF && $i !~ /^#/; i++) if ($i == rel) { print $1; next } }' "$PACKAGE_LIST")
if ((${#PACKAGES[@]} == 0)); then
  echo "setup.sh: $PACKAGE_LIST lists no package for Debian ${RELEASE:-?} (12 and 13 are supported)" >&2
  exit 2
fi

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
  if [[ ! -f $BUILD_DIR/CMakeCache.txt ]]; then
    cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" "${CMAKE_ARGS[@]}"
  fi
  cmake --build "$BUILD_DIR" -j "$(nproc)"
  echo "setup.sh: built $BUILD_DIR/tools/edgeloop"
fi
