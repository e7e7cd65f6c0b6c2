#!/usr/bin/env bash
# Builds the libFuzzer targets of Validation/fuzz and runs each for a bounded time.
#
#   Validation/fuzz/run.sh [SECONDS]     (default 60 per target; CI runs a short pass)
#
# Each target is compiled with `swiftc -sanitize=fuzzer,address` together with the command
# line's sources (Sources/NeuroODECommandLine but the root command's file; libFuzzer brings its own main) and linked
# against the package's debug build of NeuroODE, Gradients, NeuroODEStudies and ArgumentParser. A crash, a
# sanitizer report or an input slower than 10 s fails the script and leaves the input in
# .build/fuzz/<target>/. Needs Linux (libFuzzer ships with the Swift toolchain there).
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-60}

if [ "$(uname)" != Linux ]; then
  echo "fuzz: libFuzzer targets need Linux; skipped" >&2
  exit 0
fi

swift build --product neuroode >/dev/null
bin=$(swift build --show-bin-path)
out=.build/fuzz
mkdir -p "$out"

cli_sources=()
for file in Sources/NeuroODECommandLine/*.swift; do
  [ "$(basename "$file")" = NeuroODECommand.swift ] || cli_sources+=("$file")
done
objects=()
for module in ArgumentParser ArgumentParserToolInfo CKernels NeuroODE Gradients NeuroODEStudies; do
  objects+=("$bin/$module.build"/*.o)
done

for target in ConfigDecoderFuzz CommandLineFuzz; do
  echo "fuzz: building $target" >&2
  swiftc -sanitize=fuzzer,address -parse-as-library -module-name "$target" -g -O -suppress-warnings \
    -I "$bin/Modules" -I Sources/CSundials -Xcc -fmodule-map-file="$bin/CKernels.build/module.modulemap" \
    "Validation/fuzz/$target.swift" "${cli_sources[@]}" "${objects[@]}" \
    -L /usr/lib/x86_64-linux-gnu -lsundials_cvodes -lsundials_nvecserial -lsundials_sunmatrixdense \
    -lsundials_sunlinsoldense -lopenblas \
    -o "$out/$target" 2> >(grep -v "Cannot export local symbol" >&2)
  mkdir -p "$out/$target.corpus" "$out/$target.findings"
  cp -n Validation/fuzz/corpus/"$target"/* "$out/$target.corpus/" 2>/dev/null || true
  echo "fuzz: running $target for ${seconds}s" >&2
  "$out/$target" "$out/$target.corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 \
    -artifact_prefix="$out/$target.findings/" -print_final_stats=1 2>&1 | tail -n 12
done
echo "fuzz: clean" >&2
