#!/usr/bin/env bash
# The standing fuzzers and the sanitizer suites.
#
#   tools/fuzz.sh [SECONDS] [FUZZER...]     (default: 60 s for each of the fuzzers below)
#
# Builds build-fuzz/ with clang, AddressSanitizer and UndefinedBehaviorSanitizer
# (-DEDGELOOP_SANITIZE=ON), runs the LibTorch-free GoogleTest suites under them, then runs
# every libFuzzer target of tests/fuzz/ for SECONDS on a working corpus seeded from
# tests/fuzz/corpus/<target>/. A finding stops the script with exit 1 and leaves its input
# in build-fuzz/findings/<target>/ (reproduce: build-fuzz/tests/fuzz/<target> FILE).
# EDGELOOP_FUZZ_SKIP_SUITES=1 skips the suites.
set -euo pipefail
cd "$(dirname "$0")/.."
EACH=${1:-60}
[[ $# -gt 0 ]] && shift
BUILD=${EDGELOOP_FUZZ_BUILD:-build-fuzz}
FUZZERS=(arch_json_fuzz space_text_fuzz envelope_fuzz csv_import_fuzz model_meta_fuzz transfer_model_fuzz
         hdf5_reader_fuzz state_dict_fuzz)
(( $# > 0 )) && FUZZERS=("$@")
# LibTorch-free suites; the CLI tests inside predictor_test need the (uninstrumented) binary.
SUITES=(base_test arch_test launch_env_test edge_unit_test search_core_test predictor_test)
if ! [[ $EACH =~ ^[0-9]+$ ]] || (( EACH < 1 )); then
  echo "tools/fuzz.sh: SECONDS must be a positive integer (got '$EACH')" >&2
  exit 2
fi
if ! command -v clang++ >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends clang \
    "libclang-rt-$(clang --version 2>/dev/null | grep -o 'version [0-9]*' | cut -d' ' -f2)-dev" \
    >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -q clang libclang-rt-14-dev
fi

cmake -S . -B "$BUILD" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEDGELOOP_SANITIZE=ON -DEDGELOOP_BUILD_BENCHMARKS=OFF >/dev/null
targets=("${FUZZERS[@]}")
[[ -n ${EDGELOOP_FUZZ_SKIP_SUITES:-} ]] || targets+=("${SUITES[@]}")
cmake --build "$BUILD" -j "$(nproc)" --target "${targets[@]}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/fuzz/lsan.supp}
if [[ -z ${EDGELOOP_FUZZ_SKIP_SUITES:-} ]]; then
  for suite in "${SUITES[@]}"; do
    bin=$(find "$BUILD/tests" -name "$suite" -type f -perm -u+x | head -n 1)
    echo "fuzz.sh: $suite under ASan + UBSan"
    "$bin" --gtest_brief=1 --gtest_filter='-*CliTest.*:*LiveTest.*'
  done
fi

# A huge malloc from a length field read off corrupt input returns NULL, as it does without
# ASan, so the code's own handling of it is what runs (HDF5 checks; a vector throws). HDF5
# also mallocs up to a few GiB from sizes in a corrupt header and reads only what the file
# has: untouched, that is address space, not memory, so the bound that counts is the RSS
# limit (2 GiB), not libFuzzer's default malloc limit (the same 2 GiB).
# Mallocs above 4 GiB fail, as on a machine without that memory: HDF5 asks for up to 16 GiB
# in H5Fopen on a corrupt superblock, which costs ASan 2 GiB of shadow memory to hand out
# (the uninstrumented binary refuses that file in 1.7 s at 172 MB).
export ASAN_OPTIONS=$ASAN_OPTIONS:allocator_may_return_null=1:max_allocation_size_mb=4096
for f in "${FUZZERS[@]}"; do
  corpus=$BUILD/corpus/$f findings=$BUILD/findings/$f
  mkdir -p "$corpus" "$findings"
  log=$BUILD/findings/$f.log
  set +e
  "$BUILD/tests/fuzz/$f" "$corpus" "tests/fuzz/corpus/$f" -max_total_time="$EACH" \
    -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=16384 -max_len=65536 -artifact_prefix="$findings/" \
    -print_final_stats=1 >"$log" 2>&1
  rc=$?
  set -e
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -n 1)
  if (( rc != 0 )); then
    echo "fuzz.sh: $f FOUND A PROBLEM after ${runs:-?} runs (exit $rc); see $log and $findings/" >&2
    grep -m 3 -E 'ERROR|runtime error|SUMMARY' "$log" >&2 || true
    exit 1
  fi
  echo "fuzz.sh: $f ${EACH} s, ${runs} executions, corpus $(ls "$corpus" | wc -l) inputs, no finding"
done
