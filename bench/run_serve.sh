#!/usr/bin/env bash
# bench/run_serve.sh - pre-notification over HTTP (docs/prenotification.md):
#   `medsweep serve` on a generated knowledge base, loaded with wrk (Debian's
#   wrk 4.x) through a Lua script that POSTs generated claims (10-30 lines,
#   20-100 history lines; bench_check makes them), round robin.
#
#   bench/run_serve.sh [--threads N] [--duration S] [--claims N] [--work DIR] [--bin MEDSWEEP]
#
# 1. paced: wrk 4 has no fixed-rate option (-R is wrk2's), so each of 12
#    connections waits 10 ms between its requests (the script's delay()):
#    about 1,100 requests/s, with wrk --latency's p50/p99 (bar: p99 < 5 ms
#    at 1,000 requests/s);
# 2. closed loop at 1, 2, 4 and 8 connections: requests/s and latency as the
#    load rises (the server's capacity on this machine).
# Every answer must be 200 (counted in the script).  --threads: the
# server's pool (default: the cores).  Builds ./build unless --bin is given.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=bench/lib.sh
. bench/lib.sh

threads=$(nproc)
duration=10
claims=1000
work=build/bench-serve
bin=
bench_args 2,16 --threads --duration --claims --work --bin -- "$@"
command -v wrk >/dev/null || { echo "run_serve: wrk is missing (scripts/install-deps.sh installs it)" >&2; exit 1; }
if [ -z "$bin" ]; then
    bench_build
fi
bench_dir=$(dirname "$(dirname "$bin")")/bench
[ -x "$bench_dir/bench_check" ] || { echo "run_serve: no $bench_dir/bench_check (build it)" >&2; exit 1; }
mkdir -p "$work"
echo "== medsweep serve under wrk: $claims generated claims, server threads $threads, ${duration} s per run"
bench_machine
"$bench_dir/bench_check" --claims "$claims" --dir "$work" --write-claims "$work/claims.jsonl" --repeat 0
awk '{n += length($0)} END {printf "   claims: %d, %.0f bytes of JSON each\n", NR, n / NR}' "$work/claims.jsonl"

cat >"$work/post.lua" <<'EOF'
-- POST the claims of $CLAIMS round robin (each wrk thread from its own
-- place); count answers that are not 200; DELAY_MS between requests.
local claims = {}
for line in io.lines(os.getenv("CLAIMS")) do claims[#claims + 1] = line end
local delay_ms = tonumber(os.getenv("DELAY_MS") or "0")
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args)
  i = id * 97
  bad = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end
function request()
  i = i % #claims + 1
  return wrk.format(nil, "/v1/check", nil, claims[i])
end
if delay_ms > 0 then
  function delay() return delay_ms end
end
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + t:get("bad") end
  io.write(string.format("not-200: %d\n", n))
end
EOF

"$bin" serve --knowledge "$work/knowledge" --listen 127.0.0.1:0 --threads "$threads" >"$work/serve.out" 2>"$work/serve.err" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do
    grep -q 'listening on' "$work/serve.out" 2>/dev/null && break
    sleep 0.1
done
url=$(sed -n 's|.*listening on \(http://[^ ]*\) .*|\1|p' "$work/serve.out")
[ -n "$url" ] || { echo "run_serve: serve did not start: $(cat "$work/serve.err")" >&2; exit 1; }
cat "$work/serve.out"

# run NAME CONNECTIONS DELAY_MS: one wrk run, one table row
run() {
    CLAIMS=$work/claims.jsonl DELAY_MS=$3 wrk -t 1 -c "$2" -d "${duration}s" --latency -s "$work/post.lua" \
        "$url" >"$work/wrk.$1.txt"
    awk -v name="$1" -v c="$2" '
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
        $1 == "50%" {p50 = ms($2)} $1 == "90%" {p90 = ms($2)} $1 == "99%" {p99 = ms($2)}
        /^Requests\/sec:/ {rps = $2} /^not-200:/ {bad = $2} /Non-2xx/ {bad += $NF}
        END {printf "%-8s %5d %12.0f %9.3f %9.3f %9.3f %8d\n", name, c, rps, p50, p90, p99, bad}' "$work/wrk.$1.txt"
}
echo "run      conns   requests/s   p50 ms    p90 ms    p99 ms  not-200"
run paced 12 10
for c in 1 2 4 8; do run "closed" "$c" 0; done

peak=$(awk '/^VmHWM/ {printf "%.0f MiB", $2 / 1024}' "/proc/$pid/status")
kill -TERM "$pid"
t0=$(date +%s.%N)
rc=0
wait "$pid" || rc=$?
trap - EXIT
awk -v a="$t0" -v b="$(date +%s.%N)" -v rc="$rc" 'BEGIN {printf "== serve stopped on SIGTERM in %.2f s, exit %d\n", b - a, rc}'
tail -1 "$work/serve.out"
echo "   peak memory of the server (VmHWM): $peak"
