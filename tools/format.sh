#!/usr/bin/env bash
# clang-format (.clang-format: Google style, 100 columns) over edgeloop's C++ sources.
#   tools/format.sh            reformat every tracked C++ file in place
#   tools/format.sh --check    list the files that are not formatted; exit 1 if any
#   tools/format.sh [--check] FILE...   only those files
# Generated code and the Bazel symlink tree are not ours to format.
set -euo pipefail
cd "$(dirname "$0")/.."
CHECK=0
if [[ "${1:-}" == "--check" ]]; then CHECK=1; shift; fi
command -v clang-format >/dev/null ||
  { echo "format.sh: clang-format is missing (apt-get install clang-format)" >&2; exit 2; }
if (($#)); then files=("$@"); else
  mapfile -t files < <(git ls-files '*.cc' '*.h' '*.h.in' | grep -v -e '^bazel_alt/' -e '\.pb\.')
fi
if ((CHECK == 0)); then
  clang-format -i --style=file "${files[@]}"
  exit 0
fi
bad=()
for f in "${files[@]}"; do
  [[ -f "$f" ]] || continue
  clang-format --style=file --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if ((${#bad[@]})); then
  echo "format.sh: ${#bad[@]} file(s) need tools/format.sh: ${bad[*]}" >&2
  exit 1
fi
echo "format.sh: ${#files[@]} files formatted"
