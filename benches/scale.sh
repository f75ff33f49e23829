#!/usr/bin/env bash
# The scale bench (issue 33): examples/fleet.rs at N functions (6N + 2 + 6
# per pool, a pool per 25 functions: 68, 314, 626 resources at N = 10, 50,
# 100) behind moto and awsim with 50 ms added to every request. For each N,
# three ways: paced under AWS's documented control-plane quotas (awsim
# --quotas, awsim/QUOTAS.md); the same with at most 10 changes in flight
# (`--parallelism 10`, Terraform's default); and with no quotas at all
# (what the emulator and the program's own order allow on this machine).
# Each runs a fresh `up`, a no-op `plan`, a change of one function (`up`),
# `down`; each timed, with the floor the quotas impose
# (benches/scale_floor.py: the slowest bucket's calls at its rate), the
# calls made, the throttles, and the process's peak memory (GNU time's
# maximum resident set size).
#
# Usage: benches/scale.sh [N ...]        (default: 10 50 100)
#        QUOTA_SCALE=0.25 benches/scale.sh 50   (quotas a quarter as high,
#        and deployer told so: --quota-share 0.25; the quotas, not the
#        emulator, then bound the run)
# Needs the tool venv (bash scripts/test installs it) and GNU time.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10 50 100)
scale=${QUOTA_SCALE:-1.0}
venv=.tools/venv/bin
cargo build --quiet --example fleet --bin deployer
exe=target/debug/examples/fleet
zip=${DEPLOYER_HANDLER_ZIP:-}
if [ -z "$zip" ]; then
  zip=$(target/debug/deployer package --dev --json | sed -n 's/.*"path":"\([^"]*\)".*/\1/p')
fi
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "N | resources | run | mode | seconds | floor s (bucket) | calls | throttled | peak RSS MB"
echo "---|---|---|---|---|---|---|---|---"
for n in "${sizes[@]}"; do
  for mode in paced 10 free; do
    par=0
    [ "$mode" = 10 ] && par=10
    quotas=(--quotas --quota-scale "$scale")
    share=(--quota-share "$scale")
    if [ "$mode" = free ]; then quotas=(); share=(); fi
    mport=$(free_port)
    MOTO_IAM_LOAD_MANAGED_POLICIES=true "$venv/moto_server" -H 127.0.0.1 -p "$mport" >/dev/null 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do curl -s "127.0.0.1:$mport" >/dev/null && break; sleep 0.1; done
    rec="$work/record-$n-$mode.jsonl"
    "$venv/python" awsim/awsim.py --upstream "http://127.0.0.1:$mport" "${quotas[@]}" \
      --latency 0.05 --record "$rec" > "$work/port" &
    pids+=($!)
    for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
    endpoint="http://127.0.0.1:$(cat "$work/port")"
    cfg="$work/fleet-$n.toml"
    printf 'name_prefix = "b%s"\nfunctions = %s\n' "$n" "$n" > "$cfg"
    run() { # label, args...
      local label=$1; shift
      : > "$rec"
      local t0 t1
      t0=$(date +%s.%N)
      /usr/bin/time -f "%M" -o "$work/rss" env AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench \
        AWS_REGION=eu-west-1 AWS_ENDPOINT_URL="$endpoint" DEPLOYER_HANDLER_ZIP="$zip" \
        "$exe" --stack "fleet$n" --state-dir "$work/state-$mode" --config "$cfg" --parallelism "$par" \
        "${share[@]}" "$@" \
        >"$work/out" 2>"$work/err" || { echo "FAILED: $label"; tail -5 "$work/err"; exit 1; }
      t1=$(date +%s.%N)
      local f; f=$("$venv/python" benches/scale_floor.py "$rec" "$scale")
      local floor bucket calls refused
      floor=$(echo "$f" | python3 -c 'import json,sys; print(json.load(sys.stdin)["floor_s"])')
      bucket=$(echo "$f" | python3 -c 'import json,sys; print(json.load(sys.stdin)["floor_bucket"])')
      calls=$(echo "$f" | python3 -c 'import json,sys; print(json.load(sys.stdin)["calls"])')
      refused=$(echo "$f" | python3 -c 'import json,sys; print(json.load(sys.stdin)["quota_refused"])')
      printf '%s | %s | %s | %s | %.1f | %s (%s) | %s | %s | %s\n' "$n" $((6 * n + 2 + 6 * (n / 25 > 1 ? n / 25 : 1))) "$label" \
        "$mode" "$(echo "$t1 - $t0" | bc)" "$floor" "$bucket" \
        "$calls" "$refused" "$(( $(cat "$work/rss") / 1024 ))"
    }
    run "fresh up" up
    run "no-op plan" plan --detailed-exitcode
    printf 'changed = 7\nrevision = "2"\n' >> "$cfg"
    run "one function changed" up
    run "down" down --yes
    kill "${pids[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
    pids=()
  done
done
