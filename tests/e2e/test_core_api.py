"""End to end: ingest (JSON and form), query at several resolutions with filters and group_by,
malformed input, kill -9 and graceful restarts on the same data dir."""
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import Vigil, args, check, close, eq, finish  # noqa: E402

A = args()
T0 = 1699999200  # aligned to 3600
SPAN = 1800
HOSTS = {"h1": "east", "h2": "east", "h3": "west"}

rng = random.Random(42)
samples = []  # (host, t, value)
for host in HOSTS:
    for i in range(SPAN // 20):
        samples.append((host, T0 + i * 20 + rng.randint(0, 19), round(rng.uniform(-50, 150), 3)))
rng.shuffle(samples)  # out of order within each series


def reference(res, hosts, fn):
    """{host: {bucket: value}} computed naively from the input."""
    out = {}
    for h in hosts:
        buckets = {}
        for (hh, t, v) in samples:
            if hh == h:
                buckets.setdefault(t // res * res, []).append((t, v))
        vals = {}
        for b, pts in buckets.items():
            xs = [v for _, v in pts]
            vals[b] = {"mean": sum(xs) / len(xs), "sum": sum(xs), "min": min(xs), "max": max(xs),
                       "count": len(xs)}[fn]
        out[h] = vals
    return out


def series_by_host(resp):
    return {s["tags"]["host"]: {m["time"]: m["value"] for m in s["measurements"]} for s in resp["series"]}


def check_series(resp, ref, what):
    got = series_by_host(resp)
    eq(sorted(got), sorted(ref), what + ": series")
    for h in ref:
        g = got.get(h, {})
        eq(sorted(g), sorted(ref[h]), what + ": bucket times of " + h)
        bad = [t for t in ref[h] if t in g and abs(g[t] - ref[h][t]) > 1e-6 * max(1, abs(ref[h][t]))]
        check(not bad, what + ": values of " + h + (" (differ at %s)" % bad[:3] if bad else ""))


def q(v, name, **params):
    params.setdefault("start_time", T0)
    params.setdefault("end_time", T0 + SPAN)
    return v.get_json("/v1/measurements/" + name, params)


def ingest(v):
    # JSON: top-level tags + per-measurement tags, in batches of 100, out of order.
    statuses = []
    for i in range(0, len(samples), 100):
        body = {"tags": {"env": "prod"},
                "measurements": [{"name": "cpu", "time": t, "value": val,
                                  "tags": {"host": h, "region": HOSTS[h]}} for (h, t, val) in samples[i:i + 100]]}
        st, text, _ = v.post_json("/v1/measurements", body)
        statuses.append(st)
        if st != 200:
            check(False, "POST /v1/measurements -> %s %s" % (st, text))
            return
    eq((len(statuses), set(statuses)), ((len(samples) + 99) // 100, {200}),
       "POST /v1/measurements batches accepted with 200")
    # Legacy form-encoded gauges and JSON counters.
    st, text, _ = v.post_form("/v1/metrics", [
        ("measure_time", str(T0 + 30)), ("source", "web-1"),
        ("gauges[0][name]", "legacy_temp"), ("gauges[0][value]", "75.5"),
        ("gauges[1][name]", "legacy_temp"), ("gauges[1][value]", "80"), ("gauges[1][source]", "web-2"),
        ("gauges[1][measure_time]", str(T0 + 90))])
    eq(st, 200, "legacy form POST /v1/metrics")
    st, text, _ = v.post_json("/v1/metrics", {
        "source": "web-1",
        "counters": [{"name": "requests", "value": 10, "measure_time": T0},
                     {"name": "requests", "value": 25, "measure_time": T0 + 60},
                     {"name": "requests", "value": 5, "measure_time": T0 + 120}],
        "gauges": {"legacy_temp": {"value": 70, "measure_time": T0 + 150, "source": "web-3"}}})
    eq(st, 200, "legacy JSON POST /v1/metrics")


def answers(v):
    """The query answers compared before and after restarts."""
    out = {}
    for res in (60, 300, 3600):
        out["all-%d" % res] = q(v, "cpu", resolution=res)
    out["group"] = q(v, "cpu", resolution=60, group_by="region", group_by_function="sum")
    out["legacy"] = v.get_json("/v1/metrics/legacy_temp", {"start_time": T0, "end_time": T0 + SPAN})
    return json.dumps(out, sort_keys=True)


def check_queries(v, metrics_total):
    for res in (60, 120, 300, 3600):
        st, r = q(v, "cpu", resolution=res)
        eq(st, 200, "GET /v1/measurements/cpu resolution=%d" % res)
        eq(r["resolution"], res, "resolution echoed")
        check_series(r, reference(res, ["h1", "h2", "h3"], "mean"), "mean at %d s" % res)
        check(all(s["tags"].get("env") == "prod" for s in r["series"]), "top-level tag merged into series")
    st, r = q(v, "cpu", resolution=60)
    eq([s["tags"]["host"] for s in r["series"]], ["h1", "h2", "h3"], "series sorted by tags")
    for fn in ("sum", "min", "max", "count"):
        st, r = q(v, "cpu", resolution=300, summary_function=fn)
        check_series(r, reference(300, ["h1", "h2", "h3"], fn), "summary_function=%s" % fn)
    st, r = q(v, "cpu", resolution=300, **{"tags[region]": "east"})
    check_series(r, reference(300, ["h1", "h2"], "mean"), "tag filter region=east")
    st, r = q(v, "cpu", resolution=300, **{"tags[host]": "h*", "tags[region]": "!west"})
    check_series(r, reference(300, ["h1", "h2"], "mean"), "wildcard host=h* AND negation region=!west")
    st, r = v.get_json("/v1/measurements/cpu?start_time=%d&end_time=%d&resolution=300&tags%%5Bhost%%5D=h1&tags%%5Bhost%%5D=h3" % (T0, T0 + SPAN))
    check_series(r, reference(300, ["h1", "h3"], "mean"), "repeated tag name is OR")
    st, r = q(v, "cpu", resolution=300, **{"tags[host]": "x*"})
    eq((st, r["series"]), (200, []), "filter matching nothing gives no series")

    # group_by region, sum of per-series means per bucket.
    st, r = q(v, "cpu", resolution=60, group_by="region", group_by_function="sum")
    ref = reference(60, ["h1", "h2", "h3"], "mean")
    eq([s["tags"] for s in r["series"]], [{"region": "east"}, {"region": "west"}], "group_by region: group tags only")
    east = {}
    for h in ("h1", "h2"):
        for t, val in ref[h].items():
            east[t] = east.get(t, 0) + val
    got = {m["time"]: m["value"] for m in r["series"][0]["measurements"]}
    eq(sorted(got), sorted(east), "group_by sum: bucket times")
    check(all(abs(got[t] - east[t]) < 1e-6 for t in east), "group_by sum: values")
    st, r = q(v, "cpu", resolution=3600, group_by="*", group_by_function="max", summary_function="max")
    eq(len(r["series"]), 1, "group_by=* gives one series")
    close(r["series"][0]["measurements"][0]["value"], max(val for (_, _, val) in samples), "group_by=* max of max")

    # Legacy read: measurements keyed by source, raw points without resolution.
    st, r = v.get_json("/v1/metrics/legacy_temp", {"start_time": T0, "end_time": T0 + SPAN})
    eq(st, 200, "GET /v1/metrics/legacy_temp")
    eq(r.get("name"), "legacy_temp", "legacy metadata name")
    ms = r.get("measurements", {})
    eq(sorted(ms), ["web-1", "web-2", "web-3"], "legacy measurements keyed by source")
    eq([(p["measure_time"], p["value"]) for p in ms.get("web-2", [])], [(T0 + 90, 80)], "legacy raw point web-2")
    st, r = v.get_json("/v1/metrics/legacy_temp", {"start_time": T0, "end_time": T0 + SPAN, "resolution": 3600})
    eq([(p["measure_time"], p["value"], p["count"]) for p in r["measurements"]["web-1"]], [(T0, 75.5, 1)],
       "legacy rollup point with count")
    st, r = v.get_json("/v1/metrics/requests")
    eq((st, r.get("type")), (200, "counter"), "legacy counters create a counter metric")
    st, r = q(v, "requests", resolution=60, summary_function="derivative")
    vals = [m["value"] for m in r["series"][0]["measurements"]] if r.get("series") else []
    eq(vals, [15, 5], "counter derivative treats a drop as a reset")

    # Metric list with pagination.
    st, r = v.get_json("/v1/metrics", {"length": 2})
    eq((st, r["query"]["total"], r["query"]["found"], len(r["metrics"])), (200, metrics_total, metrics_total, 2),
       "metric list paginated")
    st, r2 = v.get_json("/v1/metrics", {"length": 2, "offset": 2})
    names = ["cpu", "legacy_temp", "requests"] + (["late", "partial"] if metrics_total == 5 else [])
    eq([m["name"] for m in r["metrics"] + r2["metrics"]], sorted(names)[:4], "metric list pages are ordered by name")
    st, r = v.get_json("/v1/metrics", {"name": "LEGACY"})
    eq([m["name"] for m in r["metrics"]], ["legacy_temp"], "metric list name filter is case-insensitive")


def check_bad_input(v):
    st, body, _ = v.request("POST", "/v1/measurements", "{not json", "application/json")
    eq(st, 400, "bad JSON -> 400")
    check("request" in json.loads(body).get("errors", {}), "bad JSON -> errors.request")
    st, body, _ = v.request("POST", "/v1/measurements", '{"measurements":[{"name":"x","value":1}]}', "text/plain")
    eq(st, 415, "wrong content type -> 415")
    check("errors" in json.loads(body), "415 has the Librato error body")
    st, body, _ = v.post_json("/v1/measurements", {"measurements": [
        {"name": "partial", "value": 1, "time": T0},
        {"name": "bad name!", "value": 2, "time": T0},
        {"name": "partial", "value": 1e200, "time": T0},
        {"name": "partial", "value": 3, "time": T0, "tags": {"t%d" % i: "v" for i in range(11)}},
        {"name": "partial", "value": 5, "time": T0 + 60}]})
    eq(st, 400, "partly invalid batch -> 400")
    params = json.loads(body).get("errors", {}).get("params", {})
    check(any("measurements[1]" in k for k in params), "invalid name reported by position: %s" % list(params))
    check(any("measurements[2]" in k for k in params), "1e200 reported")
    check(any("measurements[3]" in k for k in params), "11 tags reported")
    eq(json.loads(body).get("measurements", {}).get("summary", {}).get("accepted"), 0,
       "partly invalid batch: the summary says nothing was accepted")
    st, r = v.get_json("/v1/measurements/partial", {"start_time": T0, "end_time": T0 + 300, "resolution": 60})
    eq(st, 404, "a 400 stores nothing: not even the metric of the batch's valid items exists")
    # The client corrects the batch and sends it again: each value is stored once.
    st, _, _ = v.post_json("/v1/measurements", {"measurements": [
        {"name": "partial", "value": 1, "time": T0}, {"name": "partial", "value": 5, "time": T0 + 60}]})
    eq(st, 200, "corrected batch accepted")
    st, r = v.get_json("/v1/measurements/partial", {"start_time": T0, "end_time": T0 + 300, "resolution": 60,
                                                     "summary_function": "sum"})
    eq([(m["time"], m["value"]) for m in r["series"][0]["measurements"]] if st == 200 and r["series"]
       else None, [(T0, 1), (T0 + 60, 5)], "the corrected batch's values are stored once (sums)")
    # A legacy form body whose attribute decodes to bytes that are not UTF-8 (%B5): 400, whole.
    st, body, _ = v.request("POST", "/v1/metrics",
                            "gauges[0][name]=form_utf8&gauges[0][value]=1&gauges[0][measure_time]=%d"
                            "&gauges[0][attributes][display_name]=%%B5" % T0,
                            "application/x-www-form-urlencoded")
    eq(st, 400, "legacy form with an attribute that is not UTF-8 -> 400")
    check("not valid UTF-8" in body, "the 400 says why: %s" % body[:200])
    st, r = v.get_json("/v1/metrics/form_utf8")
    eq(st, 404, "the refused legacy form stored nothing")
    st, r = v.get_json("/v1/measurements/cpu", {"start_time": T0})
    eq(st, 400, "missing resolution -> 400")
    check("resolution" in r.get("errors", {}).get("params", {}), "missing resolution named in params")
    st, r = v.get_json("/v1/measurements/nope", {"start_time": T0, "resolution": 60})
    eq(st, 404, "unknown metric -> 404")
    st, r = v.get_json("/v1/metrics/nope")
    eq(st, 404, "unknown legacy metric -> 404")
    st, body, _ = v.request("GET", "/v2/whatever")
    eq(st, 404, "unknown route -> 404")


def main():
    v = Vigil(A.vigil).start()
    try:
        st, r = v.get_json("/health")
        eq((st, r), (200, {"status": "ok"}), "/health")
        ingest(v)
        check_queries(v, 3)
        check_bad_input(v)
        st, text, _ = v.request("GET", "/metrics")
        eq(st, 200, "/metrics")
        check("vigil_ingested_samples_total %d" % (len(samples) + 8) in text, "/metrics counts ingested samples")
        check('vigil_rejected_inputs_total{reason="invalid_measurement"} 3' in text, "/metrics counts rejected measurements")
        check("vigil_rocksdb_estimated_keys" in text, "/metrics has RocksDB figures")
        before = answers(v)

        # kill -9 right after an acknowledged write: it must survive.
        st, _, _ = v.post_json("/v1/measurements", {"measurements": [{"name": "late", "value": 42, "time": T0}]})
        eq(st, 200, "write acknowledged just before kill -9")
        v.kill9()
        v.start()
        eq(answers(v), before, "identical answers after kill -9 and restart")
        st, r = v.get_json("/v1/measurements/late", {"start_time": T0, "end_time": T0 + 60, "resolution": 60})
        eq([m["value"] for m in r["series"][0]["measurements"]] if st == 200 else st, [42],
           "sample acknowledged right before kill -9 is there")
        # Graceful stop.
        eq(v.stop(), 0, "SIGTERM: exit code 0")
        check("state flushed" in v.log(), "SIGTERM: shutdown flushed the state")
        v.start()
        eq(answers(v), before, "identical answers after SIGTERM and restart")
        check_queries(v, 5)
    finally:
        v.cleanup()
    finish()


main()
