#!/usr/bin/env bash
# edgeloop on Debian 13 (LibTorch 2.6, XGBoost 3.0, ...) from a Debian 12 machine, in a chroot.
#
#   tools/debian13.sh setup   make the Debian 13 root (debootstrap) and install the packages
#                             of tools/packages.txt in it (through tools/setup.sh --no-build)
#   tools/debian13.sh build   setup, then build the checkout into build-debian13/
#   tools/debian13.sh test    build, then run the whole GoogleTest suite there (ctest args
#                             after `test` are passed on, e.g. `test -R Space`)
#   tools/debian13.sh shell   a shell in the root, with the checkout mounted
#   tools/debian13.sh run CMD a command in the root, with the checkout mounted
#
# Needs root and debootstrap. The root lives in $EDGELOOP_DEBIAN13_ROOT (default
# /var/lib/edgeloop/debian13) and is reused; a root whose creation was interrupted is made
# anew, an installation that was interrupted is completed. The checkout is bind-mounted at
# its own path inside the root, a ccache directory ($EDGELOOP_DEBIAN13_CCACHE, default
# /var/cache/edgeloop/ccache-debian13) at /ccache; every mount is undone on exit, SIGINT and
# SIGTERM included. Runs are serialised by a lock next to the root.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
ROOT=${EDGELOOP_DEBIAN13_ROOT:-/var/lib/edgeloop/debian13}
CCACHE_HOST=${EDGELOOP_DEBIAN13_CCACHE:-/var/cache/edgeloop/ccache-debian13}
MIRROR=${EDGELOOP_DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=trixie
READY="$ROOT/.edgeloop-root-ready"   # written once debootstrap finished
NAME=debian13.sh
# shellcheck source=tools/lib/chroot.sh
source "$REPO/tools/lib/chroot.sh"

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }

mount_all() {
  mount_base
  mkdir -p "$ROOT/dev/shm"
  mount -t tmpfs -o size=2g tmpfs "$ROOT/dev/shm"  # c10d and Python's multiprocessing
  MOUNTS+=("$ROOT/dev/shm")
}

setup() {
  make_root
  mount_all
  # The package list as installed last; a changed list (or none yet) installs again.
  # setup.sh skips what is installed, so an interrupted installation is simply completed.
  local want have=""
  want=$(cat "$REPO/tools/packages.txt" "$REPO/tools/setup.sh" | sha256sum | cut -c1-64)
  [[ -f "$ROOT/.edgeloop-packages" ]] && have=$(cat "$ROOT/.edgeloop-packages")
  [[ "$want" == "$have" ]] && return 0
  in_root bash -c "apt-get update -q >/dev/null && cd '$REPO' && tools/setup.sh --no-build" ||
    die "installing the packages in the root failed (see the lines above)"
  echo "$want" >"$ROOT/.edgeloop-packages"
}

build() {
  in_root bash -c "cd '$REPO' &&
    if [[ ! -f build-debian13/CMakeCache.txt ]]; then
      cmake -S . -B build-debian13 -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
    fi &&
    cmake --build build-debian13 -j \$(nproc)" || die "the build in build-debian13/ failed"
}

main() {
  local cmd=${1:-}
  [[ -n "$cmd" ]] || { usage >&2; exit 2; }
  shift
  case "$cmd" in
    setup|build|test|shell|run) ;;
    -h|--help|help) usage; exit 0 ;;
    *) echo "debian13.sh: unknown command '$cmd' (setup, build, test, shell or run)" >&2; exit 2 ;;
  esac
  [[ $(id -u) -eq 0 ]] || die "must run as root (debootstrap, chroot and mount need it)" 2
  [[ "$cmd" != run || $# -gt 0 ]] || die "run needs a command" 2

  lock_root

  setup
  case "$cmd" in
    setup) echo "debian13.sh: $ROOT is ready ($(in_root dpkg-query -W -f='libtorch-dev ${Version}' libtorch-dev))" ;;
    build) build ;;
    test) build; in_root bash -c "cd '$REPO/build-debian13' &&
            ctest --output-on-failure -j \$(nproc) --timeout 600 $(printf '%q ' "$@")" ;;
    shell) in_root bash -c "cd '$REPO' && exec bash -i" ;;
    run) in_root bash -c "cd '$REPO' && $(printf '%q ' "$@")" ;;
  esac
}

main "$@"
