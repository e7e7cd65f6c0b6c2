#!/usr/bin/env bash
# Checks that the network simulation allocates nothing per step: runs the release binary's
# `bench simulate` under valgrind memcheck at two step counts (small sizes, so it is quick) and
# compares valgrind's "total heap usage: N allocs" counts.
#
# One thread: the counts must be equal. Two threads: Dispatch starts its worker threads
# nondeterministically (a dozen allocations either way), so the counts must agree within 100,
# far below the 1800 extra allocations that even one allocation per step would add.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product neuroode >/dev/null
# A copy without debug information: valgrind 3.19 cannot read the DWARF 5 that clang writes for
# the C kernels, and the allocation counts need none.
binary=$(mktemp)
trap 'rm -f "$binary"' EXIT
objcopy --strip-debug .build/release/neuroode "$binary"
count_allocs() {  # batch threads steps precision
    valgrind --tool=memcheck "$binary" bench simulate --neurons 8 --inputs 4 --batch "$1" --threads "$2" \
        --repeats 1 --steps "$3" --precision "$4" 2>&1 >/dev/null | sed -n 's/.*total heap usage: \([0-9,]*\) allocs.*/\1/p' | tr -d ,
}
status=0
# Batch 4 with the benchmark's 5 tokens takes the dense input path, batch 16 the token path.
for precision in f64 f32; do for batch in 4 16; do for threads in 1 2; do
    short=$(count_allocs "$batch" "$threads" 200 "$precision")
    long=$(count_allocs "$batch" "$threads" 2000 "$precision")
    echo "$precision, batch $batch, threads $threads: ${short:-?} allocs for 200 steps, ${long:-?} allocs for 2000 steps"
    if [[ -z "$short" || -z "$long" ]]; then
        echo "FAIL: could not read valgrind's heap summary" >&2
        exit 2
    fi
    slack=$(( threads == 1 ? 0 : 100 ))
    difference=$(( long > short ? long - short : short - long ))
    if (( difference > slack )); then
        echo "FAIL: the allocation count changes by $difference with the number of steps (allowed $slack)" >&2
        status=1
    fi
done; done; done
(( status == 0 )) && echo "OK: the allocation count does not grow with the number of steps"
exit $status
