#!/usr/bin/env bash
# tests/check/test_serve.sh - `medsweep serve`, the real program on a free
# loopback port, called with curl (docs/prenotification.md):
#
#  1. GET /healthz answers 200 with the rules, the knowledge items and the
#     configuration's hash;
#  2. a passing claim and a hitting claim answer 200 with the verdict that
#     `medsweep check` gives for the same claim line (byte for byte), in
#     English with ?lang=en and in Chinese by default;
#  3. malformed JSON and an invalid claim -> 400 naming the JSON path; a
#     body over --max-body -> 413 (with a length, and chunked); GET
#     /v1/check -> 405; an unknown path -> 404;
#  4. 200 requests, 20 at a time (xargs -P 20 curl), all answered right;
#  5. a second serve on the same address fails with exit 1 and a message
#     naming the address;
#  6. SIGTERM while a claim is still being uploaded (curl --limit-rate):
#     that request is answered 200, then serve exits 0 within seconds;
#  7. history from a dataset: a world generated with bills (gen --bills,
#     imported in 3 partitions); an exam or lab item billed to one person in
#     two settlements within 7 days (found in service_items.csv, or made:
#     the latest exam line billed again 3 days later) claimed without
#     "history": `check --data` hits repeat_exam pointing at the earlier
#     settlement, "history":"dataset"; with "history": [] it does not,
#     "history":"claim"; with --history-days 0 repeat_exam is not run,
#     "history":"none"; `serve --data` reports its history lines (> 0) in
#     its first line and /healthz, and answers as check does.
#
# `medsweep check` on a file with a malformed line writes {"line":N,...}
# for it, judges the rest and exits 1.  Skipped (77) without curl.
# Environment (from ctest): MS_BIN, MS_TEST_TMP.
set -euo pipefail
: "${MS_BIN:?}"
command -v curl >/dev/null || { echo "test_serve: no curl here: skipped"; exit 77; }
w=${MS_TEST_TMP:-/tmp}/serve-$$
rm -rf "$w"
mkdir -p "$w/knowledge"
keep=${MS_TEST_KEEP:-0}
pid=
cleanup() {
    [ -z "$pid" ] || kill -KILL "$pid" 2>/dev/null || true
    [ "$keep" = 1 ] || rm -rf "$w"
}
trap cleanup EXIT
fail() { echo "test_serve: FAILED: $*" >&2; keep=1; exit 1; }

cat >"$w/knowledge/items.csv" <<'EOF'
item_code,name,category,sex,min_age,max_age,max_qty_per_day,max_days_supply,setting,diagnoses,trace_required
CT01,CT scan of the chest,exam,,,,,,,,0
GYN01,Gynaecological exam,exam,F,,,,,,,0
INJ01,Intramuscular injection,treatment,,,,2,,,,0
EOF
# one claim per line: a clean one, one with two hits, and a malformed one
line() { # line NO ITEM CATEGORY QTY
    printf '{"line_no":%s,"date":"2026-03-10","item_code":"%s","category":"%s","qty":"%s","unit_price":"5.0000","amount":"%s"}' \
        "$1" "$2" "$3" "$4" "$(awk -v q="$4" 'BEGIN {printf "%.2f", q * 5}')"
}
claim() { # claim ID SEX LINES
    printf '{"claim_id":"%s","settle_id":100,"person_id":7,"inst_code":"H001","visit_type":"outpatient","admit_date":"2026-03-10","discharge_date":"2026-03-10","age":40,"sex":"%s","diag_main":"J18.9","lines":[%s],"traces":[],"history":[]}\n' \
        "$1" "$2" "$3"
}
claim pass F "$(line 1 CT01 exam 1),$(line 2 INJ01 treatment 2)" >"$w/pass.json"
claim hit M "$(line 1 GYN01 exam 1),$(line 2 INJ01 treatment 3)" >"$w/hit.json"
sed 's/"qty":"3"/"qty":"1.2345"/' "$w/hit.json" >"$w/bad.json"
cat "$w/pass.json" "$w/hit.json" >"$w/claims.jsonl"
echo '{"claim_id": "cut off' >>"$w/claims.jsonl"

echo "test_serve: medsweep check on the same claims"
set +e
"$MS_BIN" check --knowledge "$w/knowledge" --lang en "$w/claims.jsonl" >"$w/check.en" 2>"$w/check.err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "check with a malformed line: exit $rc, wants 1"
[ "$(wc -l <"$w/check.en")" = 3 ] || fail "check: wants 3 verdict lines, got $(cat "$w/check.en")"
grep -q '^{"line":3,"error":"claim: not JSON' "$w/check.en" || fail "check: no error line 3: $(cat "$w/check.en")"
grep -q 'malformed' "$w/check.err" || fail "check: stderr does not say a line was malformed"
"$MS_BIN" check --knowledge "$w/knowledge" "$w/hit.json" >"$w/check.zh" || fail "check of a good claim: exit $?"

echo "test_serve: serve on a free loopback port"
"$MS_BIN" serve --knowledge "$w/knowledge" --listen 127.0.0.1:0 --threads 4 --max-body 64K \
    >"$w/serve.out" 2>"$w/serve.err" &
pid=$!
for _ in $(seq 100); do
    grep -q 'listening on' "$w/serve.out" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || fail "serve exited: $(cat "$w/serve.err")"
    sleep 0.1
done
addr=$(sed -n 's|.*listening on http://\([^ ]*\) .*|\1|p' "$w/serve.out")
[ -n "$addr" ] || fail "serve printed no address: $(cat "$w/serve.out")"
url=http://$addr
grep -q '(10 rules, 3 knowledge items, 0 institutions, 0 history lines, 4 threads' "$w/serve.out" ||
    fail "the listening line: $(cat "$w/serve.out")"

req() { # req EXPECTED_CODE OUTFILE curl-args...: the body in OUTFILE, the code checked
    local want=$1 out=$2 code
    shift 2
    code=$(curl -s -o "$out" -w '%{http_code}' --max-time 20 "$@") || fail "curl $* failed"
    [ "$code" = "$want" ] || fail "curl $*: HTTP $code, wants $want: $(cat "$out")"
}

echo "test_serve: 1. /healthz"
req 200 "$w/health" "$url/healthz"
grep -q '^{"status":"ok","rules":10,"knowledge_items":3,"history_lines":0,"config_hash":"[0-9a-f]\{16\}"}$' "$w/health" ||
    fail "healthz: $(cat "$w/health")"

echo "test_serve: 2. verdicts, the same as medsweep check's"
req 200 "$w/v.pass" --data-binary @"$w/pass.json" "$url/v1/check?lang=en"
req 200 "$w/v.hit" --data-binary @"$w/hit.json" "$url/v1/check?lang=en"
req 200 "$w/v.hit.zh" -H 'Content-Type: application/json' --data-binary @"$w/hit.json" "$url/v1/check"
cmp -s "$w/v.pass" <(sed -n 1p "$w/check.en") || fail "pass: serve $(cat "$w/v.pass") != check $(sed -n 1p "$w/check.en")"
cmp -s "$w/v.hit" <(sed -n 2p "$w/check.en") || fail "hit: serve $(cat "$w/v.hit") != check $(sed -n 2p "$w/check.en")"
cmp -s "$w/v.hit.zh" "$w/check.zh" || fail "hit (zh): serve $(cat "$w/v.hit.zh") != check $(cat "$w/check.zh")"
grep -q '"verdict":"pass"' "$w/v.pass" || fail "the clean claim: $(cat "$w/v.pass")"
grep -q '"verdict":"hit".*"template":"sex".*"template":"over_qty"' "$w/v.hit" || fail "the hit claim: $(cat "$w/v.hit")"
grep -q '限性别' "$w/v.hit.zh" || fail "the hit claim in Chinese: $(cat "$w/v.hit.zh")"

echo "test_serve: 3. errors"
req 400 "$w/e" --data-binary '{"claim_id": ' "$url/v1/check"
grep -q '^{"error":"claim: not JSON' "$w/e" || fail "malformed JSON: $(cat "$w/e")"
req 400 "$w/e" --data-binary @"$w/bad.json" "$url/v1/check"
grep -qF '{"error":"lines[1].qty: \"1.2345\" has more than 3 decimals"}' "$w/e" || fail "bad qty: $(cat "$w/e")"
req 400 "$w/e" --data-binary @"$w/hit.json" "$url/v1/check?lang=fr"
head -c 70000 /dev/zero | tr '\0' ' ' >"$w/big.json"
req 413 "$w/e" --data-binary @"$w/big.json" "$url/v1/check"
grep -q 'more than the limit of 65536 bytes' "$w/e" || fail "413: $(cat "$w/e")"
req 413 "$w/e" -H 'Transfer-Encoding: chunked' --data-binary @"$w/big.json" "$url/v1/check"
req 405 "$w/e" "$url/v1/check"
req 405 "$w/e" -X PUT --data-binary @"$w/hit.json" "$url/v1/check"
req 405 "$w/e" --data-binary @"$w/hit.json" "$url/healthz"
req 404 "$w/e" "$url/v2/check"
req 404 "$w/e" --data-binary @"$w/hit.json" "$url/"

echo "test_serve: 4. 200 requests, 20 at a time"
mkdir -p "$w/many"
seq 200 | xargs -P 20 -I{} sh -c '
    if [ $(({} % 2)) = 0 ]; then f=hit; else f=pass; fi
    curl -s --max-time 30 -o "$1/many/{}.$f" -w "%{http_code}" --data-binary @"$1/$f.json" "$2/v1/check?lang=en" \
        >"$1/many/{}.code"' _ "$w" "$url"
ok=0
for i in $(seq 200); do
    if [ -f "$w/many/$i.hit" ]; then f=$i.hit; elif [ -f "$w/many/$i.pass" ]; then f=$i.pass; else
        fail "request $i: no answer"
    fi
    [ "$(cat "$w/many/$i.code")" = 200 ] || fail "request $i: HTTP $(cat "$w/many/$i.code")"
    cmp -s "$w/many/$f" "$w/v.${f#*.}" || fail "request $i: $(cat "$w/many/$f")"
    ok=$((ok + 1))
done
[ "$ok" = 200 ] || fail "$ok of 200 answered right"

echo "test_serve: 5. a second serve on the same address"
set +e
timeout 20 "$MS_BIN" serve --knowledge "$w/knowledge" --listen "$addr" >"$w/second.out" 2>"$w/second.err"
rc=$?
set -e
[ "$rc" = 1 ] || fail "second serve on $addr: exit $rc, wants 1 ($(cat "$w/second.err"))"
grep -q "cannot listen on $addr: Address already in use" "$w/second.err" || fail "second serve: $(cat "$w/second.err")"

echo "test_serve: 6. SIGTERM with a claim still uploading: answered, then exit 0"
# A claim of ~6 KB sent at 2 KB/s: about 3 s of upload.
big=$(for i in $(seq 2 40); do printf ',%s' "$(line "$i" CT01 exam 1)"; done)
claim slow F "$(line 1 INJ01 treatment 1)$big" >"$w/slow.json"
curl -s --limit-rate 2K -o "$w/v.slow" -w '%{http_code}' --max-time 30 --data-binary @"$w/slow.json" \
    "$url/v1/check" >"$w/slow.code" &
cpid=$!
sleep 1
kill -TERM "$pid"
t0=$(date +%s)
wait "$cpid" || fail "the uploading request failed: $(cat "$w/slow.code" 2>/dev/null)"
[ "$(cat "$w/slow.code")" = 200 ] || fail "the request in flight: HTTP $(cat "$w/slow.code")"
grep -q '"claim_id":"slow","verdict":"pass"' "$w/v.slow" || fail "the request in flight: $(cat "$w/v.slow")"
set +e
wait "$pid"
rc=$?
set -e
pid=
t1=$(date +%s)
[ "$rc" = 0 ] || fail "serve after SIGTERM: exit $rc ($(cat "$w/serve.err"))"
[ $((t1 - t0)) -le 8 ] || fail "serve took $((t1 - t0)) s to stop"
grep -q 'SIGTERM: stopping' "$w/serve.out" || fail "serve did not say it stops: $(cat "$w/serve.out")"
grep -q 'stopped after' "$w/serve.out" || fail "serve did not say it stopped: $(cat "$w/serve.out")"
curl -s --max-time 2 "$url/healthz" >/dev/null 2>&1 && fail "still answering after exit"

echo "test_serve: 7. history from a dataset's bills"
"$MS_BIN" gen --csv --bills --out "$w/world" --persons 3000 --institutions 40 --seed 5 --quiet >"$w/gen.out" ||
    fail "gen --bills: exit $?"
"$MS_BIN" import "$w/world" "$w/data" --partitions 3 --quiet >"$w/import.out" || fail "import: exit $?"
# Dates as day numbers (days since 1970-01-01) and back, in awk.
cat >"$w/dates.awk" <<'AWK'
function days(s,   y, m, d, era, yoe, doy) {
    y = substr(s, 1, 4) + 0; m = substr(s, 6, 2) + 0; d = substr(s, 9, 2) + 0
    if (m <= 2) y--
    era = int(y / 400); yoe = y - era * 400
    doy = int((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1
    return era * 146097 + yoe * 365 + int(yoe / 4) - int(yoe / 100) + doy - 719468
}
function civil(z,   era, doe, yoe, y, doy, mp, d, m) {
    z += 719468; era = int(z / 146097); doe = z - era * 146097
    yoe = int((doe - int(doe / 1460) + int(doe / 36524) - int(doe / 146096)) / 365)
    y = yoe + era * 400; doy = doe - (365 * yoe + int(yoe / 4) - int(yoe / 100))
    mp = int((5 * doy + 2) / 153); d = doy - int((153 * mp + 2) / 5) + 1
    m = mp < 10 ? mp + 3 : mp - 9
    if (m <= 2) y++
    return sprintf("%04d-%02d-%02d", y, m, d)
}
AWK
# A repeat: rows of exams.csv (person, item, date, settlement, line, inst,
# category; sorted) where the row before is the same person's same item in
# another settlement 1..7 days earlier, within the 180 days the index holds
# (170 before the world's last date), and no other line of the item
# follows on the same date.  Prints PERSON ITEM CATEGORY INST DATE SETTLE
# EARLIER_SETTLE of the last one.
cat >"$w/repeat.awk" <<'AWK'
{
    if (cand != "" && $1 == p[1] && $2 == p[2] && $3 == p[3]) cand = ""
    if (cand != "") found = cand
    cand = ""
    if (n && $1 == p[1] && $2 == p[2] && $4 != p[4] && days($3) - days(p[3]) >= 1 &&
        days($3) - days(p[3]) <= 7 && days(p[3]) >= days(last) - 170)
        cand = $1 " " $2 " " $7 " " $6 " " $3 " " $4 " " p[4]
    n = split($0, p, ",")
}
END { if (cand != "") found = cand; print found }
AWK
awk -F, 'NR > 1 && ($7 == "exam" || $7 == "lab") {print $3 "," $6 "," $5 "," $1 "," $2 "," $4 "," $7}' \
    "$w/world/service_items.csv" | sort -t, -k1,1 -k2,2 -k3,3 -k4,4n -k5,5n >"$w/exams.csv"
last=$(awk -F, 'NR > 1 && $5 > m {m = $5} END {print m}' "$w/world/service_items.csv")
awk -F, -v last="$last" -f "$w/dates.awk" -f "$w/repeat.awk" "$w/exams.csv" >"$w/repeat.txt"
read -r person item cat inst date settle earlier <"$w/repeat.txt" || true
if [ -n "${earlier:-}" ]; then
    echo "test_serve:    found: person $person, $item on $date (settlement $settle) after settlement $earlier"
else
    # None in this world: the latest exam line, billed again 3 days later
    # in a new settlement.
    sort -t, -k3,3 -k4,4n -k5,5n "$w/exams.csv" | tail -1 >"$w/latest.csv"
    echo '{print $1, $2, $7, $6, civil(days($3) + 3), "999999999999", $4}' >"$w/again.awk"
    awk -F, -f "$w/dates.awk" -f "$w/again.awk" "$w/latest.csv" >"$w/repeat.txt"
    read -r person item cat inst date settle earlier <"$w/repeat.txt"
    echo "test_serve:    made: person $person, $item on $date (settlement $settle) after settlement $earlier"
fi
[ -n "${earlier:-}" ] || fail "no exam line in $w/world/service_items.csv"
rclaim() { # rclaim EXTRA: the repeated exam as a claim, EXTRA after its traces
    printf '{"claim_id":"repeat","settle_id":%s,"person_id":%s,"inst_code":"%s","visit_type":"outpatient","admit_date":"%s","discharge_date":"%s","age":40,"sex":"F","diag_main":"Z00.0","lines":[{"line_no":1,"date":"%s","item_code":"%s","category":"%s","qty":"1","unit_price":"10.0000","amount":"10.00"}],"traces":[]%s}\n' \
        "$settle" "$person" "$inst" "$date" "$date" "$date" "$item" "$cat" "$1"
}
rclaim "" >"$w/repeat.json"
rclaim ',"history":[]' >"$w/repeat-empty.json"
"$MS_BIN" check --data "$w/data" --lang en "$w/repeat.json" >"$w/r.dataset" || fail "check --data: exit $?"
grep -q "\"rule\":\"repeat_exam\".*\"other_settle_id\":$earlier}" "$w/r.dataset" ||
    fail "no repeat_exam hit pointing at settlement $earlier: $(cat "$w/r.dataset")"
grep -q '"rules_not_run":\[\],"history":"dataset"}$' "$w/r.dataset" ||
    fail "history from the dataset: $(cat "$w/r.dataset")"
"$MS_BIN" check --data "$w/data" --lang en "$w/repeat-empty.json" >"$w/r.claim" || fail "check --data: exit $?"
grep -q 'repeat_exam' "$w/r.claim" && fail "\"history\": [] still hits repeat_exam: $(cat "$w/r.claim")"
grep -q '"history":"claim"}$' "$w/r.claim" || fail "history from the claim: $(cat "$w/r.claim")"
"$MS_BIN" check --data "$w/data" --history-days 0 --lang en "$w/repeat.json" >"$w/r.none" ||
    fail "check --history-days 0: exit $?"
grep -q '{"rule":"repeat_exam","missing":"history"}' "$w/r.none" || fail "--history-days 0: $(cat "$w/r.none")"
grep -q '"history":"none"}$' "$w/r.none" || fail "--history-days 0: $(cat "$w/r.none")"
set +e
"$MS_BIN" check --data "$w/data" --history-days 3651 "$w/repeat.json" >/dev/null 2>"$w/r.err"
rc=$?
set -e
[ "$rc" = 2 ] || fail "--history-days 3651: exit $rc, wants 2"
grep -q -- '--history-days wants 0..3650' "$w/r.err" || fail "--history-days 3651: $(cat "$w/r.err")"

"$MS_BIN" serve --data "$w/data" --listen 127.0.0.1:0 --threads 2 >"$w/serve2.out" 2>"$w/serve2.err" &
pid=$!
for _ in $(seq 100); do
    grep -q 'listening on' "$w/serve2.out" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || fail "serve --data exited: $(cat "$w/serve2.err")"
    sleep 0.1
done
url=http://$(sed -n 's|.*listening on http://\([^ ]*\) .*|\1|p' "$w/serve2.out")
grep -q ' [1-9][0-9]* history lines of [0-9-]*\.\.[0-9-]*, [0-9.]* MiB, 2 threads' "$w/serve2.out" ||
    fail "serve --data: the listening line: $(cat "$w/serve2.out")"
req 200 "$w/health2" "$url/healthz"
grep -q '^{"status":"ok","rules":10,"knowledge_items":[1-9][0-9]*,"history_lines":[1-9][0-9]*,"config_hash":"[0-9a-f]\{16\}"}$' \
    "$w/health2" || fail "healthz with --data: $(cat "$w/health2")"
hl=$(sed -n 's/.*"history_lines":\([0-9]*\).*/\1/p' "$w/health2")
grep -q " $hl history lines" "$w/serve2.out" || fail "healthz says $hl history lines: $(cat "$w/serve2.out")"
req 200 "$w/v.repeat" --data-binary @"$w/repeat.json" "$url/v1/check?lang=en"
cmp -s "$w/v.repeat" "$w/r.dataset" || fail "serve $(cat "$w/v.repeat") != check $(cat "$w/r.dataset")"
req 200 "$w/v.repeat-empty" --data-binary @"$w/repeat-empty.json" "$url/v1/check?lang=en"
cmp -s "$w/v.repeat-empty" "$w/r.claim" || fail "serve $(cat "$w/v.repeat-empty") != check $(cat "$w/r.claim")"
kill -TERM "$pid"
set +e
wait "$pid"
rc=$?
set -e
pid=
[ "$rc" = 0 ] || fail "serve --data after SIGTERM: exit $rc ($(cat "$w/serve2.err"))"
echo "test_serve: all passed"
