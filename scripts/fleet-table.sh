#!/usr/bin/env bash
# The fleet-sizing table (benches/README.md): the nominal day with each fleet size
# over a range of seeds, one row per fleet size: mean and worst on-time rate, how
# many seeds reach the 99.5 % promise, stability violations and lost tubes summed.
#
#   scripts/fleet-table.sh [BINARY]
#
# DRONES (default "20 24 28 32"), SEEDS (default "1 50", first and last),
# SCENARIO (default maps/longhua/scenario.toml) and EXTRA (more `--set k=v`
# arguments, e.g. EXTRA="--set dispatch.batching_window_minutes=15") change the
# sweep. A day takes about 0.3-0.5 s: the default table is 200 days, 1-2 minutes.
set -euo pipefail

cd "$(dirname "$0")/.."
BIN=${1:-${CARGO_TARGET_DIR:-target}/release/labflight}
[[ -x $BIN ]] || { echo "no binary at $BIN (cargo build --release -p labflight)" >&2; exit 2; }
DRONES=${DRONES:-20 24 28 32}
read -r FIRST LAST <<<"${SEEDS:-1 50}"
SCENARIO=${SCENARIO:-maps/longhua/scenario.toml}
EXTRA=${EXTRA:-}
command -v jq >/dev/null || { echo "jq is needed" >&2; exit 2; }

printf '%-7s %-9s %-9s %-9s %-10s %-5s\n' drones mean worst "≥99.5%" violations lost
for n in $DRONES; do
    # One line per seed: on_time_rate violations lost.
    # shellcheck disable=SC2086
    for ((s = FIRST; s <= LAST; s++)); do
        "$BIN" sim --scenario "$SCENARIO" --seed "$s" --no-baselines --quiet \
            --set "fleet.drones=$n" $EXTRA |
            jq -r '"\(.on_time_rate) \(.stability_violations) \(.lost_specimens)"'
    done | awk -v n="$n" -v seeds=$((LAST - FIRST + 1)) '
        { sum += $1; if (NR == 1 || $1 < worst) worst = $1; if ($1 >= 0.995) ok++; v += $2; lost += $3 }
        END {
            if (NR != seeds) { print "expected " seeds " days, got " NR > "/dev/stderr"; exit 1 }
            printf "%-7s %-9s %-9s %-9s %-10d %-5d\n", n, sprintf("%.2f %%", 100 * sum / NR),
                sprintf("%.2f %%", 100 * worst), sprintf("%d/%d", ok, NR), v, lost
        }'
done
