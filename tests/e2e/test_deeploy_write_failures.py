"""End to end: Deeploy data points when the engine fails writes (engine.fail_write_every=2, a
fault-injection setting: every second ingest write fails). A failed list answers 503 with the
dialect's error body and stores nothing, neither its points nor its new labels; the next list
goes through; what was acknowledged is what the chart data shows, after kill -9 too. Then
auth.enabled = false admits requests without credentials."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import ADMIN_TOKEN, ADMIN_USER, Vigil, args, check, close, eq, finish  # noqa: E402

A = args()
BASE = "/workspaces/ws/deployments/dep"


def call(v, method, path, body=None):
    st, text, _ = v.request(method, path, json.dumps(body) if body is not None else None,
                            "application/json" if body is not None else None, auth=(ADMIN_USER, ADMIN_TOKEN))
    return st, (json.loads(text) if text else None)


def chart(v):
    st, body = call(v, "GET", BASE + "/customMetricsChartData")
    eq(st, 200, "chart data -> 200")
    return {g["name"]: g for g in body} if st == 200 else {}


v = Vigil(A.vigil, extra=["--set", "engine.fail_write_every=2"])
try:
    v.start()
    st, line = call(v, "POST", BASE + "/customMetric",
                    {"name": "labels", "graphType": "bar", "titleXAxis": "x", "titleYAxis": "y", "aggregationMethod": "sum"})
    eq(st, 201, "create a bar metric")
    st, ts = call(v, "POST", BASE + "/customMetric", {"name": "times", "graphType": "timeseries", "titleYAxis": "y"})
    eq(st, 201, "create a timeseries metric")
    pts = lambda mid: "%s/customMetric/%s/dataPoints" % (BASE, mid)  # noqa: E731
    # Ingest writes alternate: 1 ok, 2 fails, 3 ok, 4 fails, ...
    st, _ = call(v, "POST", pts(line["id"]), [{"xValue": "a", "yValue": 1}, {"xValue": "b", "yValue": 2}])
    eq(st, 201, "write 1 stored")
    st, b = call(v, "POST", pts(line["id"]), [{"xValue": "c", "yValue": 10}, {"xValue": "a", "yValue": 10}])
    eq(st, 503, "write 2 failed -> 503")
    check(isinstance(b, dict) and b.get("statusCode") == 503 and "not stored" in b.get("message", ""),
          "503 carries the dialect's error body: %r" % (b,))
    g = chart(v)["labels"]
    eq((g["labels"], g["data"]), (["a", "b"], [1, 2]), "nothing of the failed list is stored, not its new label")
    st, _ = call(v, "POST", pts(line["id"]), [{"xValue": "d", "yValue": 4}, {"xValue": "c", "yValue": 3}])
    eq(st, 201, "write 3 stored")
    g = chart(v)["labels"]
    eq((g["labels"], g["data"]), (["a", "b", "d", "c"], [1, 2, 4, 3]),
       "a label first seen in a failed list takes its place from the list that stored it")
    close(g["average"], 10 / 4, "average over the stored points only")
    st, _ = call(v, "POST", pts(ts["id"]), [{"xValue": "2026-03-06T10:00:00Z", "yValue": 5}])
    eq(st, 503, "write 4 failed -> 503")
    g = chart(v)["times"]
    eq((g["labels"], g["data"], g["average"]), ([], [], 0), "the failed timeseries point is not stored")
    st, _ = call(v, "POST", pts(ts["id"]), [{"xValue": "2026-03-06T10:30:00Z", "yValue": 7}])
    eq(st, 201, "write 5 stored")
    g = chart(v)["times"]
    eq((g["labels"], g["data"]), (["2026-03-06T10:30:00Z"], [7]),
       "only the stored point counts (its span alone chooses the bins)")
    before = chart(v)
    v.kill9()
    v.start()
    after = chart(v)
    for name in ("labels", "times"):
        eq((after[name]["labels"], after[name]["data"]), (before[name]["labels"], before[name]["data"]),
           name + ": the same chart data after kill -9")
    # auth.enabled = false admits every request, as on /v1.
    v.stop()
    open_v = Vigil(A.vigil, data_dir=v.data_dir, extra=["--set", "auth.enabled=false"])
    try:
        open_v.start()
        st, text, _ = open_v.request("GET", BASE + "/customMetricsChartData", auth=None)
        eq(st, 200, "auth.enabled=false: chart data without credentials")
        eq(sorted(g["name"] for g in json.loads(text)) if st == 200 else None, ["labels", "times"],
           "auth.enabled=false: the same metrics")
        st, _, _ = open_v.request("DELETE", "%s/customMetric/%s" % (BASE, ts["id"]), auth=None)
        eq(st, 204, "auth.enabled=false: delete without credentials")
    finally:
        open_v.cleanup()
finally:
    v.cleanup()
finish()
