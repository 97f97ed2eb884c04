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

# The package list is shared with tools/debian13.sh: tools/packages.txt, filtered by release.
RELEASE=$(. /etc/os-release && echo "${VERSION_ID%%.*}")
mapfile -t PACKAGES < <(awk -v rel="$RELEASE" '
  /^[[:space:]]*(#|$)/ { next }
  { for (i = 2; i <= NF && $i !~ /^#/; i++) if ($i == rel) { print $1; next } }' tools/packages.txt)
if ((${#PACKAGES[@]} == 0)); then
  echo "setup.sh: tools/packages.txt lists no package for Debian ${RELEASE:-?} (12 and 13 are supported)" >&2
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
  if [[ ! -f build/CMakeCache.txt ]]; then
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE"
  fi
  cmake --build build -j "$(nproc)"
  echo "setup.sh: built build/tools/edgeloop"
fi
