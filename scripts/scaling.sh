#!/usr/bin/env bash
# The scaling table of benches/README.md: synthetic cities of 125, 350, 700 and
# 1,400 centres (labs in Shenzhen's proportion, `maps generate --city N`), each
# simulated on the city scenario (a dispatcher per medical group) with a fleet in
# proportion (a drone per four centres, a van per twenty), beside a Longhua day in
# the same run: wall time, events per second and peak memory.
#   usage: scripts/scaling.sh [BIN] [SIZES...]   (default: target/release/labflight; 125 350 700 1400)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/labflight}
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(125 350 700 1400)
threads=${THREADS:-$(nproc)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# One day: its wall time (s), peak memory (MB) and journal events.
day() { # name scenario extra-args...
  local name=$1 scenario=$2
  shift 2
  /usr/bin/time -f "%e %M" -o "$work/$name.time" \
    "$bin" sim --scenario "$scenario" --seed 7 --quiet --no-baselines --threads "$threads" \
    --out "$work/$name" "$@" > /dev/null
  local events
  events=$(cat "$work/$name"/journal.jsonl "$work/$name"/partitions/*/journal.jsonl 2>/dev/null \
    | grep -vc '"labflight_journal"')
  read -r secs kb < "$work/$name.time"
  echo "$secs $((kb / 1024)) $events"
}
read -r lh_s lh_mb lh_ev <<< "$(day longhua maps/longhua/scenario.toml)"
printf '%-22s %8s %9s %12s %8s %10s\n' run centres "wall s" "events/s" "MB" "x Longhua"
printf '%-22s %8s %9s %12.0f %8s %10s\n' "longhua (one dispatcher)" 125 "$lh_s" "$(echo "$lh_ev / $lh_s" | bc -l)" "$lh_mb" 1.0
for n in "${sizes[@]}"; do
  "$bin" maps generate --city "$n" --out "$work/city-$n" > /dev/null
  sed 's/^map = .*/map = "."/' maps/shenzhen/scenario.toml > "$work/city-$n/scenario.toml"
  drones=$(( (n + 3) / 4 ))
  vans=$(( n / 20 > 2 ? n / 20 : 2 ))
  read -r s mb ev <<< "$(day "run-$n" "$work/city-$n/scenario.toml" \
    --set "fleet.drones=$drones" --set "fleet.couriers=$vans")"
  printf '%-22s %8s %9s %12.0f %8s %10.1f\n' "city $n (by group)" "$n" "$s" \
    "$(echo "$ev / $s" | bc -l)" "$mb" "$(echo "$s / $lh_s" | bc -l)"
done
