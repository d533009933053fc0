#!/usr/bin/env bash
# bench/run_rules.sh - what the rule base costs the weekly sweep, per
# itemised line (docs/rules.md, docs/benchmarks.md "The rule base").
#
# Two generated worlds with the same settlements and drug items, one with
# itemised bills (gen --bills) and one without, are swept with every model
# (and the bills world with the rules model alone), alternated --repeat
# times at --threads threads.  Per run: wall time, CPU seconds (user + sys),
# peak memory; then the extra CPU seconds the bills cost, per bill line, and
# bill lines per CPU-second of the rules model alone.  The rules model's
# outputs are checked byte for byte across repeats.
#
#   bench/run_rules.sh [--persons N] [--threads 1] [--repeat 2] [--work DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh

persons=200000
threads=1
repeat=2
work=build/bench-rules
bench_args 2,13 --persons --threads --repeat --work -- "$@"

bench_build
echo "== the rule base in the weekly sweep: $persons persons, $threads thread(s), $repeat repeats"
bench_machine
inst=$((persons / 250 + 100))
mkdir -p "$work"
[ -d "$work/bills" ] || "$bin" gen --out "$work/bills" --persons "$persons" --institutions "$inst" --bills --quiet --replace >/dev/null
[ -d "$work/plain" ] || "$bin" gen --out "$work/plain" --persons "$persons" --institutions "$inst" --quiet --replace >/dev/null

# run NAME DATA MODELS: one sweep; prints "cpu wall rss_kib"
run() {
  local out=$work/out-$1
  rm -rf "$out"
  /usr/bin/time -f '%U %S %e %M' -o "$work/time" \
    "$bin" sweep "$2" --out "$out" --quiet --threads "$threads" --models "$3" >/dev/null
  awk '{printf "%.3f %.2f %d\n", $1 + $2, $3, $4}' "$work/time"
}

rm -rf "$work/out-ref"
declare -A cpu=() wall=() rss=()
for ((k = 1; k <= repeat; k++)); do
  for v in "bills all" "plain all" "rules rules"; do
    set -- $v
    data=$work/bills
    [ "$1" = plain ] && data=$work/plain
    read -r c w r < <(run "$1" "$data" "$2")
    echo "   run $k: $1 ($2): ${c} CPU-s, ${w} s wall, $((r / 1024)) MiB"
    cpu[$1]="${cpu[$1]:-} $c"
    wall[$1]="${wall[$1]:-} $w"
    rss[$1]=$r
    if [ "$1" = rules ]; then
      if [ -d "$work/out-ref" ]; then
        for f in ranked.csv clues.csv indicators.csv; do
          cmp -s "$work/out-ref/$f" "$work/out-rules/$f" || { echo "run_rules: $f differs between repeats" >&2; exit 1; }
        done
      else
        cp -r "$work/out-rules" "$work/out-ref"
      fi
    fi
  done
done
lines=$(python3 -c "import json;print(json.load(open('$work/out-ref/run.json'))['rows_read']['service_items'])")
min() { tr ' ' '\n' <<<"$1" | grep . | sort -g | head -1; }
b=$(min "${cpu[bills]}") p=$(min "${cpu[plain]}") r=$(min "${cpu[rules]}")
echo "   bill lines: $lines"
awk -v b="$b" -v p="$p" -v r="$r" -v n="$lines" 'BEGIN {
  printf "   every model, with bills: %.3f CPU-s; without: %.3f CPU-s (least of the repeats)\n", b, p
  printf "   the bills cost %.0f ns of CPU per line (%.1f M lines per CPU-second)\n", (b - p) * 1e9 / n, n / (b - p) / 1e6
  printf "   the rules model alone: %.3f CPU-s, %.1f M lines per CPU-second (it also reads the settlements and drug items)\n", r, n / r / 1e6
}'
