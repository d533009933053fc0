#!/usr/bin/env bash
# bench/run_judgement.sh - is the engine's judgement better than a simple
# screen?  For every seed and intensity: a generated world, swept, measured
# with `medsweep eval --json` (docs/models.md, "Judgement: eval and the
# simple screen"); one summary table and the totals.
#
#   bench/run_judgement.sh [--seeds 1,2,3] [--intensities 1.0,0.5,0.3]
#       [--persons N] [--institutions N] [--flatten] [--keep DIR] [--bin PATH]
#
# Default: seeds 1,2,3 at intensities 1.0, 0.5 and 0.3, 100,000 persons and
# 400 institutions each.  --flatten adds, per seed, a flattened extract
# (`medsweep gen --flatten`, at the first intensity) when gen has it.
# Worlds go to a temporary directory removed at the end, or to --keep DIR
# (kept).  --bin uses that medsweep binary instead of building ./build.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh
seeds=1,2,3
intensities=1.0,0.5,0.3
persons=100000
institutions=400
flatten=0
keep=
bin=
bench_args 2,14 --seeds --intensities --persons --institutions --flatten:flatten=1 --keep --bin -- "$@"
if [ -z "$bin" ]; then
  bench_build
fi
[ -x "$bin" ] || { echo "${0##*/}: no medsweep binary at $bin" >&2; exit 2; }

if [ -n "$keep" ]; then
  work=$keep
  mkdir -p "$work"
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/ms-judgement.XXXXXX")
  trap 'rm -rf "$work"' EXIT
fi

flat_ok=0
if [ "$flatten" = 1 ]; then
  if "$bin" gen --help 2>&1 | grep -q -- '--flatten'; then
    flat_ok=1
  else
    echo "   note: this medsweep gen has no --flatten; the flattened extracts are skipped"
  fi
fi

echo "== judgement: seeds $seeds, intensities $intensities, $persons persons, $institutions institutions"
bench_machine

# One world: generate, sweep, eval --json into $work/NAME.json.
one() {
  local name=$1 seed=$2 intensity=$3
  shift 3
  "$bin" gen --out "$work/$name/world" --persons "$persons" --institutions "$institutions" --seed "$seed" \
    --intensity "$intensity" --quiet --replace "$@" >/dev/null
  "$bin" sweep "$work/$name/world" --out "$work/$name/sweep" --quiet --replace >/dev/null
  "$bin" eval "$work/$name/sweep" --truth "$work/$name/world/truth" --json >"$work/$name.json"
  echo "$name" >>"$work/worlds.txt"
}

: >"$work/worlds.txt"
IFS=, read -r -a seed_list <<<"$seeds"
IFS=, read -r -a intensity_list <<<"$intensities"
for seed in "${seed_list[@]}"; do
  for intensity in "${intensity_list[@]}"; do
    one "s${seed}_x${intensity}" "$seed" "$intensity"
  done
  if [ "$flat_ok" = 1 ]; then
    one "s${seed}_x${intensity_list[0]}_flat" "$seed" "${intensity_list[0]}" --flatten
  fi
done

python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
names = [l.strip() for l in open(f"{work}/worlds.txt") if l.strip()]

def out(line):
    print(line.rstrip())

def prec(m):
    return m["precision_at_k"] if m else None

def fmt(x, w=7, d=3):
    return f"{x:{w}.{d}f}" if x is not None else f"{'-':>{w}}"

out(f"{'world':<18} {'K':>4} | {'engine':>7} {'screen':>7} {'fund':>7} | {'hard neg':>8} | "
      f"{'per-model prec@K, min':<21} | {'screen per-model min':<20}")
out(f"{'':<18} {'':>4} | {'prec@K':>7} {'prec@K':>7} {'prec@K':>7} | {'in top K':>8} | {'engine (model)':<21} | "
      f"{'(model)':<20}")
tot = {"k": 0, "engine": 0, "screen": 0, "fund": 0, "hard": 0, "hard_worlds": 0, "beaten": 0}
model_min, screen_min = None, None
for name in names:
    rows = json.load(open(f"{work}/{name}.json"))
    o = rows[-1]
    k = o["k"]
    e, s, f = prec(o["sweep"]), prec(o["screen"]), prec(o["baseline"])
    hn = o.get("hard_negatives")
    hard = hn["sweep"]["in_top_k"] if hn else None
    ms = [m for m in o.get("models", []) if m["k"] > 0]
    mmin, mname = min(((prec(m["sweep"]), m["model"]) for m in ms if m["sweep"]), default=(None, ""))
    smin, sname = min(((prec(m["screen"]), m["model"]) for m in ms), default=(None, ""))
    if mmin is not None:
        model_min = mmin if model_min is None else min(model_min, mmin)
    if smin is not None:
        screen_min = smin if screen_min is None else min(screen_min, smin)
    tot["k"] += k
    tot["engine"] += round(e * k)
    tot["screen"] += round(s * k)
    tot["fund"] += round(f * k)
    tot["beaten"] += e > s
    if hard is not None:
        tot["hard"] += hard
        tot["hard_worlds"] += 1
    hs = f"{hard:>8d}" if hard is not None else f"{'-':>8}"
    out(f"{name:<18} {k:>4} | {fmt(e)} {fmt(s)} {fmt(f)} | {hs} | {fmt(mmin, 5)} {mname:<15} | "
          f"{fmt(smin, 5)} {sname:<14}")
k = tot["k"] or 1
hs = f"{tot['hard']:>8d}" if tot["hard_worlds"] else f"{'-':>8}"
out(f"{'total':<18} {tot['k']:>4} | {fmt(tot['engine'] / k)} {fmt(tot['screen'] / k)} {fmt(tot['fund'] / k)} | "
      f"{hs} | {fmt(model_min, 5)} {'':<15} | {fmt(screen_min, 5)}")
out(f"   engine above the simple screen in {tot['beaten']} of {len(names)} worlds; "
      f"planted institutions found: engine {tot['engine']}, screen {tot['screen']}, fund payment {tot['fund']} "
      f"of {tot['k']}")
if not tot["hard_worlds"]:
    print("   (no truth/hard_negatives.csv in these worlds: hard negatives not measured)")
PY
