#!/usr/bin/env bash
# Cross-builds the edge-only edgeloop (cmake -DEDGELOOP_EDGE_ONLY=ON) for aarch64 into
# build-arm64/, from Debian 12's packages: crossbuild-essential-arm64, the :arm64 library
# packages of tools/edge/packages.txt and the toolchain file cmake/aarch64-linux-gnu.cmake.
#
#   tools/edge/cross_arm64.sh [setup|build|test|shell|run CMD...]   (default: build)
#
# `test` also builds the edge tests for aarch64 in build-arm64/ and runs them with ctest in
# the root, where the binfmt handler runs them under qemu (ctest arguments may follow).
#
# Why a chroot: libtorch-dev and libc10-dev are not "Multi-Arch: same", so installing their
# :arm64 versions on the build machine would make apt remove its amd64 ones (and break the
# native build). The cross build therefore runs in a Debian 12 root of its own
# ($EDGELOOP_ARM64_ROOT, default /var/lib/edgeloop/bookworm-arm64; made with debootstrap,
# reused), where arm64 is added as a foreign architecture. protoc is that root's amd64
# protobuf-compiler, the same version as its libprotobuf-dev:arm64. The checkout is
# bind-mounted at its own path, ccache at /ccache ($EDGELOOP_ARM64_CCACHE); mounts are undone
# on exit. The root is also the sysroot tools/edge/test_arm64.sh runs the binaries with.
# Installing libtorch-dev:arm64 configures python3:arm64 (a dependency of python3-dev), whose
# maintainer scripts run arm64 binaries: the script therefore needs qemu-user-static and
# binfmt-support on the build machine (amd64 packages, nothing removed) and enables its
# qemu-aarch64 binfmt handler (mounting binfmt_misc first when it is not mounted); it stays
# enabled. Needs root and debootstrap; the first setup downloads about 1 GB.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
ROOT=${EDGELOOP_ARM64_ROOT:-/var/lib/edgeloop/bookworm-arm64}
CCACHE_HOST=${EDGELOOP_ARM64_CCACHE:-/var/cache/edgeloop/ccache-arm64}
MIRROR=${EDGELOOP_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=bookworm
READY="$ROOT/.edgeloop-root-ready"
# Packages of tools/edge/packages.txt that run on the build machine; the others are :arm64.
BUILD_TOOLS=" build-essential cmake ninja-build ccache pkg-config protobuf-compiler openssl "
NAME=cross_arm64.sh
# shellcheck source=tools/lib/chroot.sh
source "$REPO/tools/lib/chroot.sh"

mount_all() {
  mount_base
  # LibTorch's cpuinfo reads /sys/devices/system/cpu: the tests need sysfs (read only).
  bind /sys /sys
  mount -o remount,bind,ro "$ROOT/sys" 2>/dev/null || true
}

ensure_binfmt() {
  [[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]] && return 0
  [[ -e /usr/share/binfmts/qemu-aarch64 ]] ||
    die "qemu-user-static is missing: apt-get install --no-install-recommends qemu-user-static binfmt-support" 2
  command -v update-binfmts >/dev/null || die "binfmt-support is missing (apt-get install binfmt-support)" 2
  if [[ ! -e /proc/sys/fs/binfmt_misc/register ]]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc ||
      die "cannot mount binfmt_misc: arm64 maintainer scripts cannot run" 2
  fi
  update-binfmts --enable qemu-aarch64 || die "cannot enable the qemu-aarch64 binfmt handler"
}

# The package names for the root: build tools as they are, libraries as :arm64.
packages() {
  awk '/^[[:space:]]*(#|$)/ { next }
       { for (i = 2; i <= NF && $i !~ /^#/; i++) if ($i == "12") { print $1; next } }' \
    "$REPO/tools/edge/packages.txt" |
    while read -r p; do
      if [[ "$BUILD_TOOLS" == *" $p "* ]]; then
        [[ "$p" == build-essential ]] && echo crossbuild-essential-arm64
        echo "$p"
      else
        echo "$p:arm64"
      fi
    done
}

setup() {
  make_root
  mount_all
  local want have=""
  want=$(cat "$REPO/tools/edge/packages.txt" "$0" | sha256sum | cut -c1-64)
  [[ -f "$ROOT/.edgeloop-packages" ]] && have=$(cat "$ROOT/.edgeloop-packages")
  [[ "$want" == "$have" ]] && return 0
  local list
  list=$(packages | tr '\n' ' ')
  echo "cross_arm64.sh: installing in $ROOT: $list"
  ensure_binfmt
  in_root bash -c "dpkg --add-architecture arm64 && apt-get update -q >/dev/null &&
    { dpkg --configure -a || true; } &&
    apt-get install -y -q --no-install-recommends $list" ||
    die "installing the packages in the root failed (see the lines above)"
  echo "$want" >"$ROOT/.edgeloop-packages"
}

build() {
  in_root bash -c "cd '$REPO' &&
    if [[ ! -f build-arm64/CMakeCache.txt ]]; then
      cmake -S . -B build-arm64 -G Ninja -DCMAKE_BUILD_TYPE=Release -DEDGELOOP_EDGE_ONLY=ON \
        -DEDGELOOP_BUILD_TESTS=OFF -DCMAKE_TOOLCHAIN_FILE=cmake/aarch64-linux-gnu.cmake
    fi &&
    nice cmake --build build-arm64 -j \$(nproc) --target edgeloop edgeloop_microbench" ||
    die "the cross build in build-arm64/ failed"
  file "$REPO/build-arm64/tools/edgeloop" 2>/dev/null || true
  echo "cross_arm64.sh: built build-arm64/tools/edgeloop and build-arm64/edge_bench/edgeloop_microbench (aarch64)"
}

run_tests() {
  in_root bash -c "cd '$REPO' && cmake -DEDGELOOP_BUILD_TESTS=ON build-arm64 >/dev/null &&
    nice cmake --build build-arm64 -j \$(nproc) && cd build-arm64 &&
    ctest --output-on-failure -j \$(nproc) --timeout 1200 $(printf '%q ' "$@")"
}

main() {
  local cmd=${1:-build}
  [[ $# -gt 0 ]] && shift
  case "$cmd" in
    setup|build|test|shell|run) ;;
    -h|--help|help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "cross_arm64.sh: unknown command '$cmd' (setup, build, test, shell or run)" >&2; exit 2 ;;
  esac
  [[ $(id -u) -eq 0 ]] || die "must run as root (debootstrap, chroot and mount need it)" 2
  [[ "$cmd" != run || $# -gt 0 ]] || die "run needs a command" 2
  lock_root
  setup
  case "$cmd" in
    setup) echo "cross_arm64.sh: $ROOT is ready" ;;
    build) build ;;
    test) build; run_tests "$@" ;;
    shell) in_root bash -c "cd '$REPO' && exec bash -i" ;;
    run) in_root bash -c "cd '$REPO' && $(printf '%q ' "$@")" ;;
  esac
}

main "$@"
