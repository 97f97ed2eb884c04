#!/usr/bin/env bash
# The Debian packages a built binary needs at run time: the packages that ship the shared
# libraries in its ELF NEEDED entries (readelf -d), found in a dpkg database; apt installs
# their own dependencies. Works for cross-built binaries: give the root whose dpkg database
# has the target's libraries (the arm64 root of tools/edge/cross_arm64.sh).
#
#   tools/edge/runtime_packages.sh [--root DIR] BINARY...
#   e.g. tools/edge/runtime_packages.sh --root /var/lib/edgeloop/bookworm-arm64 \
#          build-arm64/tools/edgeloop build-arm64/edge_bench/edgeloop_microbench
#
# Prints one package per line, sorted (tools/edge/runtime-packages.txt is its output for the
# arm64 build). Exit 2 on bad input, 1 when a library belongs to no package.
set -euo pipefail
ROOT=/
if [[ "${1:-}" == --root ]]; then
  [[ $# -ge 2 && -d "$2" ]] || { echo "runtime_packages.sh: --root needs a directory" >&2; exit 2; }
  ROOT=$2
  shift 2
fi
(($#)) || { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
command -v readelf >/dev/null || { echo "runtime_packages.sh: readelf is missing (binutils)" >&2; exit 2; }

declare -A packages=()
for bin in "$@"; do
  [[ -f "$bin" ]] || { echo "runtime_packages.sh: no such file: $bin" >&2; exit 2; }
  machine=$(readelf -h "$bin" 2>/dev/null | sed -n 's/^ *Machine: *//p') || true
  case "$machine" in
    *AArch64*) triplet=aarch64-linux-gnu ;;
    *X86-64*) triplet=x86_64-linux-gnu ;;
    *) echo "runtime_packages.sh: $bin: not an x86-64 or AArch64 ELF file" >&2; exit 2 ;;
  esac
  while read -r soname; do
    owner=$(dpkg-query --admindir="$ROOT/var/lib/dpkg" -S "*/$triplet/$soname" 2>/dev/null |
      head -n 1 | cut -d: -f1) || true
    if [[ -z "$owner" ]]; then
      echo "runtime_packages.sh: $soname (needed by $bin): no package in $ROOT ships it" >&2
      exit 1
    fi
    packages[$owner]=1
  done < <(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
done
printf '%s\n' "${!packages[@]}" | sort
