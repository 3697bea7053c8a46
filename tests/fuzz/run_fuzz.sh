#!/usr/bin/env bash
# Builds the fuzz targets with clang and libFuzzer in BUILD_DIR: the
# AppendRequest target (fuzz_append), bearer tokens (fuzz_token) and HTTP
# request lines and JSON bodies (fuzz_http). Replays the regression inputs,
# then fuzzes fuzz_append for PRONGSAI_FUZZ_SECONDS (default 60) and the
# other two for PRONGSAI_FUZZ_SECURITY_SECONDS each (default 15), from the
# checked-in corpora. Fails on any crash, sanitizer report or broken
# invariant; the input that caused it is left in BUILD_DIR/artifacts/ to be
# added to tests/fuzz/regressions/ (fuzz_append) or the target's corpus.
#
# Usage: run_fuzz.sh SOURCE_DIR BUILD_DIR
set -euo pipefail

if [[ $# -ne 2 ]]; then
  echo "usage: $0 SOURCE_DIR BUILD_DIR" >&2
  exit 2
fi
src=$(cd "$1" && pwd)
out=$2
seconds=${PRONGSAI_FUZZ_SECONDS:-60}
security_seconds=${PRONGSAI_FUZZ_SECURITY_SECONDS:-15}
fuzz_dir="$src/tests/fuzz"
mkdir -p "$out"
out=$(cd "$out" && pwd)

find_tool() {
  for candidate in "$@"; do
    if command -v "$candidate" > /dev/null 2>&1; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

cxx=$(find_tool clang++-14 clang++) || {
  echo "run_fuzz.sh: clang++ not found; install the Debian package clang-14" >&2
  exit 1
}
cc=$(find_tool clang-14 clang) || {
  echo "run_fuzz.sh: clang not found; install the Debian package clang-14" >&2
  exit 1
}
protoc=$(find_tool protoc) || {
  echo "run_fuzz.sh: protoc not found; install the Debian package protobuf-compiler" >&2
  exit 1
}

# libFuzzer ships in the compiler-rt package, not with clang itself.
probe="$out/libfuzzer-probe"
if ! printf 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }\n' |
    "$cxx" -fsanitize=fuzzer,address -x c++ - -o "$probe" 2> "$out/libfuzzer-probe.log"; then
  cat "$out/libfuzzer-probe.log" >&2
  echo "run_fuzz.sh: clang cannot link libFuzzer; install the Debian package libclang-rt-14-dev" >&2
  exit 1
fi

echo "== building the fuzz target with $cxx in $out"
cmake -S "$fuzz_dir/clang" -B "$out" -G Ninja \
  -DCMAKE_BUILD_TYPE= \
  -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" > "$out/configure.log" ||
  { cat "$out/configure.log" >&2; exit 1; }
cmake --build "$out" -j2 --target fuzz_append fuzz_token fuzz_http

# Stop at the first report, with a stack.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:symbolize=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

echo "== seed corpus"
seeds="$out/seeds"
rm -rf "$seeds"
mkdir -p "$seeds"
for text in "$fuzz_dir"/corpus/*.textproto; do
  name=$(basename "$text" .textproto)
  grep -v '^#' "$text" |
    "$protoc" -I "$src/proto" --encode=prongsai.v1.AppendRequest \
      prongsai/v1/ledger.proto > "$seeds/$name.bin"
done

echo "== regression inputs"
regressions=()
for file in "$fuzz_dir"/regressions/*; do
  [[ "$(basename "$file")" == README.md ]] && continue
  regressions+=("$file")
done
if [[ ${#regressions[@]} -gt 0 ]]; then
  "$out/fuzz_append" "${regressions[@]}"
fi
"$out/fuzz_append" "$seeds"/*.bin

echo "== fuzzing for ${seconds}s"
corpus="$out/corpus"
artifacts="$out/artifacts"
mkdir -p "$corpus" "$artifacts"
if ! "$out/fuzz_append" -max_total_time="$seconds" -max_len=8192 -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" \
    "$corpus" "$seeds"; then
  echo "run_fuzz.sh: the fuzzer found a failing input in $artifacts;" \
       "fix the bug and add the input to tests/fuzz/regressions/" >&2
  exit 1
fi
echo "== no crashes in ${seconds}s"

for target in token http; do
  echo "== fuzz_$target: corpus, then fuzzing for ${security_seconds}s"
  "$out/fuzz_$target" "$fuzz_dir/corpus_$target"/*
  corpus="$out/corpus_$target"
  mkdir -p "$corpus"
  if ! "$out/fuzz_$target" -max_total_time="$security_seconds" -max_len=8192 \
      -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
      -artifact_prefix="$artifacts/$target-" "$corpus" "$fuzz_dir/corpus_$target"; then
    echo "run_fuzz.sh: fuzz_$target found a failing input in $artifacts;" \
         "fix the bug and add the input to tests/fuzz/corpus_$target/" >&2
    exit 1
  fi
  echo "== fuzz_$target: no crashes in ${security_seconds}s"
done
