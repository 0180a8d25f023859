#!/usr/bin/env bash
# Reruns the recorded days with a labflight binary and compares every output file
# byte for byte with the baseline: a refactoring must not move any decision.
#
#   scripts/check-identical.sh record [BINARY]   # write the baseline (once, before changing anything)
#   scripts/check-identical.sh [BINARY]          # rerun and compare (default target/release/labflight)
#
# BASELINE (default /work/baseline) holds one folder per run; OUT (default
# /tmp/check-identical) receives the reruns. Exit 1 on the first day that differs
# (every differing file is named), 0 when all are identical.
set -euo pipefail

cd "$(dirname "$0")/.."
BASELINE=${BASELINE:-/work/baseline}
OUT=${OUT:-/tmp/check-identical}

mode=check
if [[ ${1:-} == record ]]; then
    mode=record
    shift
fi
BIN=${1:-${CARGO_TARGET_DIR:-target}/release/labflight}
[[ -x $BIN ]] || { echo "no binary at $BIN (cargo build --release -p labflight)" >&2; exit 2; }

# name | scenario | seed
RUNS=(
    "nominal-7|maps/longhua/scenario.toml|7"
    "nominal-225|maps/longhua/scenario.toml|225"
    "nominal-3|maps/longhua/scenario.toml|3"
    "storm-1|maps/longhua/longhua-storm.toml|1"
    "storm-7|maps/longhua/longhua-storm.toml|7"
    "outage-5|maps/longhua/longhua-lab-outage.toml|5"
    "city-7|maps/shenzhen/scenario.toml|7"
)

if [[ $mode == record ]]; then
    dest=$BASELINE
else
    dest=$OUT
fi
mkdir -p "$dest"

run_all() {
    for run in "${RUNS[@]}"; do
        IFS='|' read -r name scenario seed <<<"$run"
        rm -rf "${dest:?}/$name"
        "$BIN" sim --scenario "$scenario" --seed "$seed" --policy drone --quiet \
            --out "$dest/$name" >/dev/null
        echo "$name: simulated"
    done
    # A replay of a recorded journal (the baseline's, so both binaries read the same input).
    rm -rf "${dest:?}/replay-nominal-7"
    "$BIN" replay --journal "$BASELINE/nominal-7/journal.jsonl" --quiet \
        --out "$dest/replay-nominal-7" >/dev/null
    echo "replay-nominal-7: replayed"
}

run_all
if [[ $mode == record ]]; then
    echo "baseline written to $BASELINE"
    exit 0
fi

# Byte for byte, except that a journal's header names the scenario file by its
# absolute path, which differs between checkouts: that one field is left out.
same_file() {
    if [[ $1 == */journal.jsonl && -f $1 && -f $2 ]]; then
        cmp -s <(sed '1s/"scenario_file":"[^"]*"//' "$1") <(sed '1s/"scenario_file":"[^"]*"//' "$2")
    else
        cmp -s "$1" "$2"
    fi
}

status=0
for dir in "$BASELINE"/*/; do
    name=$(basename "$dir")
    files=$( (cd "$BASELINE/$name" && find . -type f; cd "$OUT/$name" 2>/dev/null && find . -type f) | sort -u)
    same=yes
    for f in $files; do
        if ! same_file "$BASELINE/$name/$f" "$OUT/$name/$f"; then
            echo "DIFFERS: $name/${f#./}"
            same=no
            status=1
        fi
    done
    if [[ $same == yes ]]; then
        echo "$name: identical ($(echo "$files" | wc -w) files)"
    fi
done
if [[ $status == 0 ]]; then
    echo "all outputs byte-identical"
else
    echo "outputs differ from the baseline" >&2
fi
exit $status
