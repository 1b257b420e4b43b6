#!/bin/bash
# Issue 18's question, measured: does a layout with the gateway and a v1 worker in each of three
# workerd processes (an in-process service binding instead of the nginx pool hop; nginx balancing
# the three) serve more than today's? Loads each layout in turn, ROUNDS times, 10 s a run, with
# wrk -c16 as make bench does, and prints req/s, p99, the longest pause, the machine's CPU per
# request and the processes' RSS. For measuring only: each merged process has a Durable Object of
# its own (the limiter's authority split three ways), so it could not ship as it is.
#
#   RATE_LIMIT_RPS=1000000 RATE_LIMIT_BURST=1000000 npx tsx scripts/stack/stack.ts start --benchmark
#   bench/experiments/merged-layout.sh [ROUNDS]
#   npx tsx scripts/stack/stack.ts stop
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-2}
RUN=$(npx tsx --eval 'import("./scripts/stack/settings.ts").then((m) => console.log(m.paths.run))')
WORKERD=node_modules/@cloudflare/workerd-linux-64/bin/workerd
SV="supervisorctl -c .state/supervisord.conf"
WORK=$(mktemp -d)
merged_pids=()
cleanup() {
  [ ${#merged_pids[@]} -gt 0 ] && kill "${merged_pids[@]}" 2>/dev/null || true
  cp "$WORK/nginx.conf" .state/nginx/nginx.conf && nginx -c "$PWD/.state/nginx/nginx.conf" -s reload 2>/dev/null || true
  $SV start gateway v1-0 v1-1 v1-2 >/dev/null || true
  rm -rf "$WORK" .state/workerd/merged-*.capnp
}
trap cleanup EXIT
source .secrets/credentials.env
export BENCH_AUTHORIZATION="Basic $(printf '%s:%s' "$API_USER" "$API_PASSWORD" | base64 -w0)"
cp .state/nginx/nginx.conf "$WORK/nginx.conf"

# merged-N.capnp: the gateway's config with fortress-v1 served in process by v1-0's worker.
python3 - "$RUN" "$WORK" <<'PY'
import os, re, sys
run, work = sys.argv[1:3]
gateway = open(".state/workerd/gateway.capnp").read()
v1 = open(".state/workerd/v1-0.capnp").read()
v1_worker = v1[v1.index("const worker :Workerd.Worker"):].replace("const worker ", "const v1Worker ", 1)
for n in range(3):
    config = re.sub(r'\(name = "fortress-v1", external = \([^)]*\(\)\)\)', '(name = "fortress-v1", worker = .v1Worker)', gateway)
    config = config.replace(f"unix:{run}/gateway.sock", f"unix:{run}/merged-{n}.sock")
    config = re.sub(r'"127\.0\.0\.1:\d+"', f'"127.0.0.1:{9300 + n}"', config)
    config = re.sub(r'disk = \(path = "[^"]*"', f'disk = (path = "{work}/do-{n}"', config)
    os.makedirs(f"{work}/do-{n}")
    open(f".state/workerd/merged-{n}.capnp", "w").write(config + "\n" + v1_worker)
nginx = open(f"{work}/nginx.conf").read()
pool = "\n".join(f"        server unix:{run}/merged-{n}.sock;" for n in range(3))
open(f"{work}/nginx-merged.conf", "w").write(nginx.replace(f"        server unix:{run}/gateway.sock;", pool))
PY

TICKS=$(getconf CLK_TCK)
busy_ms() { awk -v ticks="$TICKS" '/^cpu /{print ($2 + $3 + $4 + $7 + $8 + $9) * 1000 / ticks}' /proc/stat; }
rss_mb() { for pid in "$@"; do echo -n "$(($(awk '/VmRSS/{print $2}' /proc/$pid/status) / 1024)) "; done; }
healthy() { for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$1/health" && return; sleep 0.1; done; echo "no health on :$1" >&2; cat "$WORK"/merged-*.log >&2; exit 1; }
load() {
  wrk -t2 -c16 -d5s -s bench/post.lua https://127.0.0.1/predict >/dev/null # warm-up
  for _ in 1 2 3; do
    before=$(busy_ms)
    out=$(wrk -t2 -c16 -d10s --latency -s bench/post.lua https://127.0.0.1/predict)
    after=$(busy_ms)
    requests=$(grep -o '[0-9]* requests in' <<<"$out" | cut -d' ' -f1)
    echo "  $(awk '/Requests\/sec/{printf "%.0f", $2}' <<<"$out") req/s, p99 $(awk '/ 99%/{print $2}' <<<"$out"), $(grep 'longest pause' <<<"$out"), CPU $(((after - before) * 1000 / requests)) us a request, non-2xx $(grep -o 'Non-2xx or 3xx responses: [0-9]*' <<<"$out" | grep -o '[0-9]*$' || echo 0)"
  done
}

for round in $(seq "$ROUNDS"); do
  echo "round $round, today's layout (gateway, nginx pool, three v1 processes):"
  load
  echo "  RSS MB: $(rss_mb $($SV pid gateway) $($SV pid v1-0) $($SV pid v1-1) $($SV pid v1-2))"
  merged_pids=()
  for n in 0 1 2; do
    rm -f "$RUN/merged-$n.sock"
    setsid "$WORKERD" serve ".state/workerd/merged-$n.capnp" >"$WORK/merged-$n.log" 2>&1 &
    merged_pids+=($!)
  done
  for n in 0 1 2; do healthy $((9300 + n)); chmod 660 "$RUN/merged-$n.sock"; chgrp "$(stat -c %G "$RUN/gateway.sock")" "$RUN/merged-$n.sock"; done
  cp "$WORK/nginx-merged.conf" .state/nginx/nginx.conf && nginx -c "$PWD/.state/nginx/nginx.conf" -s reload && sleep 1
  $SV stop gateway v1-0 v1-1 v1-2 >/dev/null
  echo "round $round, merged (gateway + v1 in each of three processes):"
  load
  echo "  RSS MB: $(rss_mb "${merged_pids[@]}")"
  $SV start gateway v1-0 v1-1 v1-2 >/dev/null && healthy "$(grep -o '"127.0.0.1:[0-9]*"' .state/workerd/gateway.capnp | head -1 | tr -d '"' | cut -d: -f2)"
  cp "$WORK/nginx.conf" .state/nginx/nginx.conf && nginx -c "$PWD/.state/nginx/nginx.conf" -s reload && sleep 1
  kill "${merged_pids[@]}"; wait "${merged_pids[@]}" 2>/dev/null || true; merged_pids=()
done
