"""Query cost bounds on the real binary with small limits: the series cap, the points estimated
before reading (series x buckets), composite queries sharing one budget, the per-query deadline
and the concurrency limit. Each refusal answers in the dialect's error format naming the limit and
its setting, is counted in vigil_query_refused_total{limit}, and queries within the limits still
answer exactly. Composite queries read the shards' unflushed samples without flushing them."""
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Vigil, args, check, eq, finish, hdr  # noqa: E402

A = args()
T0 = 1700000400  # a multiple of 3600 minus nothing in particular: aligned to 60 and 300
T0 -= T0 % 3600
SOURCES = ["h%d" % i for i in range(8)]  # h0..h4 in region a, h5..h7 in region b


def value(i, k):
    return i * 1000 + k


def metrics(v):
    st, text, _ = v.request("GET", "/metrics", auth=False)
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, val = line.rpartition(" ")
            out[name] = float(val)
    return out


def refused(m, limit):
    return int(m.get('vigil_query_refused_total{limit="%s"}' % limit, -1))


def request_errors(r):
    return " ".join((r or {}).get("errors", {}).get("request", []))


# -- series, points and composites --------------------------------------------------------------------
v = Vigil(A.vigil, extra=["--set", "query.max_series=5", "--set", "query.max_read_points=1000"])
try:
    v.start()
    ms = []
    for i, src in enumerate(SOURCES):
        for k in range(60):  # one sample a minute for an hour
            ms.append({"name": "cpu", "value": value(i, k), "time": T0 + 60 * k,
                       "tags": {"source": src, "region": "a" if i < 5 else "b"}})
    st, text, _ = v.post_json("/v1/measurements", {"measurements": ms})
    eq(st, 200, "480 samples of 8 series")
    hour = {"start_time": T0, "end_time": T0 + 3599}

    st, r = v.get_json("/v1/measurements/cpu", dict(hour, resolution=60))
    eq(st, 400, "8 series over query.max_series=5 -> 400")
    msg = request_errors(r)
    check("query.max_series (5)" in msg and "8 series" in msg, "the error names the limit, its setting and the count: %s" % r)
    eq(refused(metrics(v), "series"), 1, "counted as limit=series")

    st, r = v.get_json("/v1/measurements/cpu", dict(hour, resolution=60, **{"tags[source]": "h3"}))
    eq(st, 200, "one series, 60 buckets: within the limits")
    eq([(p["time"], p["value"]) for p in r["series"][0]["measurements"]],
       [(T0 + 60 * k, value(3, k)) for k in range(60)], "its 60 points, exact")

    st, r = v.get_json("/v1/measurements/cpu", dict(hour, resolution=1, **{"tags[source]": "h3"}))
    eq(st, 400, "one series at resolution 1 over an hour: 3600 estimated points over 1000 -> 400")
    msg = request_errors(r)
    check("query.max_read_points (1000)" in msg and "3600 points" in msg, "the error names the points limit: %s" % r)
    st, r = v.get_json("/v1/measurements/cpu", {"start_time": 1, "end_time": 4000000000, "resolution": 1,
                                                 "tags[source]": "h3"})
    eq(st, 400, "the issue's query (start_time=1, end_time=4000000000, resolution=1) -> 400")
    check("4000000000 points" in request_errors(r), "refused on the estimate: %s" % r)
    eq(refused(metrics(v), "points"), 2, "counted as limit=points")

    st, r = v.get_json("/v1/measurements/cpu", dict(hour, resolution=300, group_by="region", group_by_function="sum",
                                                    **{"tags[region]": "a"}))
    eq(st, 200, "5 series x 12 buckets grouped: within the limits")
    expected = [(T0 + 300 * b, sum(sum(value(i, k) for k in range(5 * b, 5 * b + 5)) / 5.0 for i in range(5)))
                for b in range(12)]
    got = [(p["time"], p["value"]) for p in r["series"][0]["measurements"]]
    eq(got, expected, "the sum by region of 5-minute means, exact")

    st, r = v.get_json("/v1/metrics/cpu", dict(hour, resolution=60))
    eq(st, 400, "legacy GET /v1/metrics/cpu over 8 series -> 400")
    check("query.max_series (5)" in request_errors(r), "the legacy route names the limit: %s" % r)

    def compose(expr, **extra):
        params = {"compose": expr, "start_time": T0, "end_time": T0 + 3599, "resolution": 60}
        params.update(extra)
        return v.get_json("/v1/metrics", params)

    st, r = compose('sum(s("cpu", "*"))')
    eq(st, 400, "a composite over 8 series -> 400")
    check("query.max_series (5)" in request_errors(r), "the composite refusal names the limit: %s" % r)
    six = "multiply([%s])" % ", ".join('s("cpu", "h%d")' % i for i in range(6))
    st, r = compose(six)
    eq(st, 400, "six s() of one series each share the request's budget: 6 series -> 400")
    check("6 series" in request_errors(r), "the shared budget counts all of them: %s" % r)
    # Points: 3 series x 400 buckets at resolution 1 = 1200 > 1000, while each s() alone is 400.
    three = 'multiply([s("cpu", "h1"), s("cpu", "h2"), s("cpu", "h3")])'
    st, r = compose(three, end_time=T0 + 399, resolution=1)
    eq(st, 400, "three s() of 400 points each: 1200 points -> 400")
    check("query.max_read_points (1000)" in request_errors(r), "names the points limit: %s" % r)
    st, r = compose('divide([s("cpu", "h2"), s("cpu", "h1")])', end_time=T0 + 399, resolution=1)
    eq(st, 200, "two s() of 400 estimated points: within the limits")
    eq([(p["measure_time"], p["value"]) for p in r["measurements"][0]["series"]],
       [(T0 + 60 * k, value(2, k) / value(1, k)) for k in range(7)], "h2 / h1 per sample, exact")
    # Another dialect, its own error body: Deeploy chart data reads one series per label of a
    # line graph; all the request's metrics share one budget.
    base = "/workspaces/ws-q/deployments/3fa85f64-5717-4562-b3fc-2c963f66afa6"

    def deeploy(method, path, body=None):
        st, text, _ = v.request(method, base + path, json.dumps(body) if body is not None else None,
                                "application/json" if body is not None else None)
        return st, (json.loads(text) if text else None)

    st, small = deeploy("POST", "/customMetric", {"name": "small", "graphType": "line", "titleXAxis": "Date", "titleYAxis": "N"})
    eq(st, 201, "Deeploy: a line metric")
    st, _ = deeploy("POST", "/customMetric/%s/dataPoints" % small["id"],
                    [{"xValue": "2026-03-0%d" % d, "yValue": d} for d in (1, 2)])
    eq(st, 201, "two labels: two series")
    st, body = deeploy("GET", "/customMetricsChartData")
    eq(st, 200, "Deeploy chart data within the limits")
    eq((body[0]["labels"], body[0]["data"]), (["2026-03-01", "2026-03-02"], [1, 2]), "its data, exact")
    st, big = deeploy("POST", "/customMetric", {"name": "big", "graphType": "line", "titleXAxis": "Date", "titleYAxis": "N"})
    st, _ = deeploy("POST", "/customMetric/%s/dataPoints" % big["id"],
                    [{"xValue": "2026-03-0%d" % d, "yValue": d} for d in (1, 2, 3, 4)])
    eq(st, 201, "four more labels")
    st, body = deeploy("GET", "/customMetricsChartData")
    eq(st, 400, "Deeploy chart data over 2 + 4 series, one budget -> 400")
    check(isinstance(body, dict) and body.get("statusCode") == 400 and "query.max_series (5)" in body.get("message", ""),
          "in Deeploy's error body, naming the limit: %r" % (body,))

    m = metrics(v)
    eq(refused(m, "series"), 5, "series refusals: measurements, legacy, two composites, Deeploy")
    eq(refused(m, "points"), 3, "points refusals: two measurements, one composite")
    eq(refused(m, "deadline"), 0, "no deadline refusal")
    eq(refused(m, "concurrency"), 0, "no concurrency refusal")
    eq(int(m["vigil_queries_running"]), 0, "no query holds a slot afterwards")
finally:
    v.cleanup()

# -- composite queries do not flush the shards ----------------------------------------------------------
v = Vigil(A.vigil, extra=["--set", "engine.flush_interval_ms=3600000", "--set", "engine.idle_flush_ms=0"])
try:
    v.start()
    st, _, _ = v.post_json("/v1/measurements", {"measurements": [
        {"name": "mem", "value": 7, "time": T0, "tags": {"source": "s1"}},
        {"name": "mem", "value": 9, "time": T0 + 60, "tags": {"source": "s1"}}]})
    eq(st, 200, "two samples, held by their shard (no flush for an hour)")
    flushes = metrics(v)["vigil_shard_flushes_total"]
    for _ in range(3):
        st, r = v.get_json("/v1/metrics", {"compose": 'sum(s("mem", "*"))', "start_time": T0, "end_time": T0 + 119,
                                           "resolution": 60})
        eq(st, 200, "composite over unflushed samples")
        eq([(p["measure_time"], p["value"]) for p in r["measurements"][0]["series"]], [(T0, 7), (T0 + 60, 9)],
           "the composite reads the samples accepted before it")
    eq(metrics(v)["vigil_shard_flushes_total"], flushes, "and no shard flushed for it")
finally:
    v.cleanup()

# -- deadline and concurrency ---------------------------------------------------------------------------
# Each shard sleeps 6 s before applying a batch (fault injection): a query right after a write
# waits for that apply (a query sees every sample accepted before it), so it holds its slot until
# it passes its 3 s deadline; the second query comes within those 3 s, also on a loaded machine.
v = Vigil(A.vigil, extra=["--set", "engine.apply_delay_us=6000000", "--set", "query.timeout_ms=3000",
                          "--set", "query.max_concurrent=1", "--set", "engine.shards=1"])
try:
    v.start()
    query = {"start_time": T0, "end_time": T0 + 59, "resolution": 60}
    st, _, _ = v.post_json("/v1/measurements", {"measurements": [
        {"name": "disk", "value": 5, "time": T0, "tags": {"source": "s1"}}]})
    eq(st, 200, "one sample, acknowledged before its shard applies it")
    slow = {}

    def run_slow():
        slow["answer"] = v.request("GET", "/v1/measurements/disk?start_time=%d&end_time=%d&resolution=60" % (T0, T0 + 59))

    t = threading.Thread(target=run_slow)
    t.start()
    deadline = time.time() + 10
    while time.time() < deadline and metrics(v).get("vigil_queries_running", 0) < 1:
        time.sleep(0.01)
    eq(int(metrics(v)["vigil_queries_running"]), 1, "the first query holds the one slot")
    st, body, headers = v.request("GET", "/v1/measurements/disk?start_time=%d&end_time=%d&resolution=60" % (T0, T0 + 59))
    eq(st, 503, "a second query at query.max_concurrent=1 -> 503")
    check("query.max_concurrent (1)" in body, "the error names the concurrency limit: %s" % body)
    eq(hdr(headers, "Retry-After"), "1", "with Retry-After")
    check('"errors"' in body, "in Librato's error body: %s" % body)
    t.join(30)
    st, body, headers = slow["answer"]
    eq(st, 503, "the first query passed its 3 s deadline -> 503")
    check("query.timeout_ms (3000 ms)" in body, "the error names the deadline and its setting: %s" % body)
    eq(hdr(headers, "Retry-After"), "1", "with Retry-After")
    m = metrics(v)
    eq(refused(m, "concurrency"), 1, "counted as limit=concurrency")
    eq(refused(m, "deadline"), 1, "counted as limit=deadline")
    eq(int(m["vigil_queries_running"]), 0, "both slots released")
    # Once applied, the same query answers within its deadline, exactly.
    deadline = time.time() + 10
    while time.time() < deadline and metrics(v).get("vigil_applied_samples_total", 0) < 1:
        time.sleep(0.05)
    st, r = v.get_json("/v1/measurements/disk", query)
    eq(st, 200, "the query within its deadline")
    eq([(p["time"], p["value"]) for p in r["series"][0]["measurements"]], [(T0, 5)], "its point, exact")
finally:
    v.cleanup()

finish()
