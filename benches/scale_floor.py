"""The floor AWS's quotas impose on a run (benches/scale.sh): for each
quota bucket (awsim/quotas.json) the calls the run needed of it (the ones
the quota did not refuse) less the bucket's burst, at its rate; the run can
take no less than the slowest bucket. Also the calls by service, the
throttles, and the round trips.

Usage (the tool venv's python): scale_floor.py RECORD.jsonl [QUOTA_SCALE]
Prints one JSON line.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "awsim"))
import quotas  # noqa: E402

record, scale = sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
q = quotas.Quotas(quotas.load(), scale=scale)
calls, refused, by_service = {}, 0, {}
for line in open(record):
    r = json.loads(line)
    if r.get("quota_refused"):
        refused += 1
        continue
    svc = r["service"]
    by_service[svc] = by_service.get(svc, 0) + 1
    op = quotas.operation(svc, r["op"], r.get("method", ""), r.get("path", ""))
    for b in q.buckets(svc, op):
        key = (svc, b["name"])
        c = calls.setdefault(key, [0, b["rate"], b["burst"]])
        c[0] += 1
floors = {f"{s}/{n}": max(0.0, (c - burst)) / rate for (s, n), (c, rate, burst) in calls.items()}
worst = max(floors.items(), key=lambda kv: kv[1]) if floors else ("none", 0.0)
print(json.dumps({
    "floor_s": round(worst[1], 2),
    "floor_bucket": worst[0],
    "calls": sum(by_service.values()),
    "by_service": by_service,
    "quota_refused": refused,
}))
