"""End to end: the Deeploy custom metrics dialect under /workspaces. The seed's two examples (a
line graph of daily token usage; a timeseries graph with aggregationMethod sum), every route,
average / data / labels against hand-computed values for each aggregation method and graph type,
the time-series bin widths and the timezone parameter, the error paths (nothing stored by a 4xx),
the roles of the key pair and of Bearer tokens, namespaces, clear and delete, and kill -9."""
import json
import os
import re
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from harness import ADMIN_TOKEN, ADMIN_USER, Vigil, args, check, close, eq, finish, hdr  # noqa: E402

A = args()
JSON = "application/json"
WS, DEP = "ws-acme", "3fa85f64-5717-4562-b3fc-2c963f66afa6"
BASE = "/workspaces/%s/deployments/%s" % (WS, DEP)
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
ISO_MS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
KEY_PAIR = (ADMIN_USER, ADMIN_TOKEN)


def bearer(token):
    return {"Authorization": "Bearer " + token}


def call(v, method, path, body=None, auth=KEY_PAIR, headers=None, raw=None, content_type=JSON):
    """(status, parsed body or None, headers). auth: a (user, token) key pair, a Bearer token
    string, or None."""
    h = dict(headers or {})
    basic = None
    if isinstance(auth, tuple):
        basic = auth
    elif isinstance(auth, str):
        h.update(bearer(auth))
    data = raw if raw is not None else (json.dumps(body) if body is not None else None)
    st, text, rh = v.request(method, path, data, content_type if data is not None else None, headers=h,
                             auth=basic if basic else None)
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = text
    return st, parsed, rh


def create(v, body, base=BASE):
    st, m, _ = call(v, "POST", base + "/customMetric", body)
    eq(st, 201, "create %s -> 201" % body.get("name"))
    return m


def push(v, mid, points, auth=KEY_PAIR, query="", base=BASE):
    return call(v, "POST", "%s/customMetric/%s/dataPoints%s" % (base, mid, query), points, auth=auth)


def chart(v, base=BASE, auth=KEY_PAIR):
    st, body, _ = call(v, "GET", base + "/customMetricsChartData", auth=auth)
    eq(st, 200, "GET customMetricsChartData -> 200")
    return {g["id"]: g for g in body} if st == 200 else {}


def patch(v, mid, body, base=BASE):
    return call(v, "PATCH", "%s/customMetric/%s" % (base, mid), body)


def check_graph(g, labels, data, average, what):
    eq(g["labels"], labels, what + ": labels")
    eq(len(g["data"]), len(data), what + ": one value per label")
    for i, (got, want) in enumerate(zip(g["data"], data)):
        close(got, want, "%s: data[%d] (%r)" % (what, i, labels[i] if i < len(labels) else None))
    close(g["average"], average, what + ": average")


def same_charts(now, before, what):
    eq(sorted(now), sorted(before), what + ": the same metrics")
    for mid, g in before.items():
        a = now.get(mid, {})
        eq({k: x for k, x in a.items() if k not in ("data", "average")},
           {k: x for k, x in g.items() if k not in ("data", "average")},
           "%s %s: same definition and labels" % (g["name"], what))
        check_graph(a, g["labels"], g["data"], g["average"], "%s %s" % (g["name"], what))


def error_field(st, body, status, field, what):
    eq(st, status, what + " -> %d" % status)
    ok = isinstance(body, dict) and body.get("statusCode") == status and isinstance(body.get("message"), str)
    check(ok, what + ": JSON error body with statusCode and message: %r" % (body,))
    if field is not None:
        eq(body.get("field") if isinstance(body, dict) else None, field, what + ": names the field")


def rejected_count(v):
    st, text, _ = v.request("GET", "/metrics", auth=None)
    total = 0
    for line in text.splitlines():
        if line.startswith("vigil_rejected_inputs_total{"):
            total += int(float(line.split()[-1]))
    return total


v = Vigil(A.vigil, extra=["--set", "engine.max_batch_samples=1500"])
try:
    v.start()
    # -- tokens of the one token store ----------------------------------------------------------
    tokens = {}
    for role in ("viewer", "recorder"):
        st, text, _ = v.post_json("/v1/api_tokens", {"name": "deeploy " + role, "role": role})
        eq(st, 201, "create a %s token through /v1/api_tokens" % role)
        tokens[role] = json.loads(text)["token"]

    # -- example 1: a line graph of daily token usage -------------------------------------------
    st, body, _ = call(v, "GET", BASE + "/customMetrics")
    eq((st, body), (200, []), "a deployment starts with no custom metrics (namespaces need no creation)")
    line = create(v, {"name": "Daily Token Usage", "graphType": "line", "titleXAxis": "Date",
                      "titleYAxis": "Total tokens", "unitXAxis": "day"})
    check(UUID.fullmatch(line["id"] or "") is not None, "metric id is a UUID: %r" % line["id"])
    eq({k: line[k] for k in ("deploymentId", "name", "graphType", "titleXAxis", "titleYAxis", "unitXAxis",
                             "unitYAxis", "aggregationMethod")},
       {"deploymentId": DEP, "name": "Daily Token Usage", "graphType": "line", "titleXAxis": "Date",
        "titleYAxis": "Total tokens", "unitXAxis": "day", "unitYAxis": None, "aggregationMethod": "average"},
       "CustomMetric fields (aggregationMethod defaults to average)")
    check(ISO_MS.fullmatch(line["createdAt"]) and line["createdAt"] == line["updatedAt"],
          "createdAt / updatedAt are ISO 8601 strings: %r" % line["createdAt"])
    st, pts, _ = push(v, line["id"], [{"xValue": "2026-03-06", "yValue": 312.4},
                                      {"xValue": "2026-03-07", "yValue": 289.1, "predictionLogIds": ["p1", "p2"]}])
    eq(st, 201, "POST dataPoints -> 201")
    eq([(p["xValue"], p["yValue"], p["predictionLogIds"], p["customMetricId"]) for p in pts],
       [("2026-03-06", 312.4, [], line["id"]), ("2026-03-07", 289.1, ["p1", "p2"], line["id"])],
       "CustomMetricDataPoint list echoes the points")
    check(all(UUID.fullmatch(p["id"]) and ISO_MS.fullmatch(p["createdAt"]) for p in pts),
          "data points have UUID ids and ISO createdAt")
    check(len({p["id"] for p in pts}) == 2, "data point ids are distinct")
    st, _, _ = push(v, line["id"], [{"xValue": "2026-03-06", "yValue": 100.5}, {"xValue": "2026-03-08", "yValue": 250}])
    eq(st, 201, "second POST dataPoints -> 201")
    L = ["2026-03-06", "2026-03-07", "2026-03-08"]
    expected_line = {"average": [206.45, 289.1, 250.0], "sum": [412.9, 289.1, 250.0],
                     "min": [100.5, 289.1, 250.0], "max": [312.4, 289.1, 250.0]}
    g = chart(v)[line["id"]]
    eq({k: g[k] for k in ("name", "graphType", "titleXAxis", "deploymentId")},
       {"name": "Daily Token Usage", "graphType": "line", "titleXAxis": "Date", "deploymentId": DEP},
       "CustomMetricGraphData carries the CustomMetric fields")
    check_graph(g, L, expected_line["average"], 952 / 4, "line, average (default)")
    for method in ("sum", "min", "max", "average"):
        st, m, _ = patch(v, line["id"], {"aggregationMethod": method})
        eq((st, m["aggregationMethod"] if st == 200 else None), (200, method), "PATCH aggregationMethod " + method)
        check_graph(chart(v)[line["id"]], L, expected_line[method], 952 / 4, "line, " + method)

    # -- a bar graph with arbitrary labels: exactly as sent, in first-seen order -----------------
    bar = create(v, {"name": "Accuracy per label", "graphType": "bar", "titleXAxis": "Label",
                     "titleYAxis": "Accuracy", "unitYAxis": "%", "aggregationMethod": "max"})
    odd = "Hund & Katze / ü \"quoted\" ?#%"
    st, _, _ = push(v, bar["id"], [{"xValue": "cat", "yValue": 0.5}, {"xValue": 7, "yValue": 0.25},
                                   {"xValue": "7", "yValue": 0.75}, {"xValue": odd, "yValue": 1.0},
                                   {"xValue": 7.0, "yValue": 0.5}, {"xValue": "CAT", "yValue": 0.125},
                                   {"xValue": "cat", "yValue": 0.25}, {"xValue": "", "yValue": -2}])
    eq(st, 201, "bar: POST dataPoints -> 201")
    B = ["cat", 7, "7", odd, "CAT", ""]
    bar_vals = [[0.5, 0.25], [0.25, 0.5], [0.75], [1.0], [0.125], [-2.0]]
    bar_avg = sum(sum(x) for x in bar_vals) / 8
    exp = {"max": [max(x) for x in bar_vals], "min": [min(x) for x in bar_vals],
           "sum": [sum(x) for x in bar_vals], "average": [sum(x) / len(x) for x in bar_vals]}
    g = chart(v)[bar["id"]]
    check_graph(g, B, exp["max"], bar_avg, "bar, max")
    check(isinstance(g["labels"][1], int), "a number label comes back as the number first sent (7, not 7.0)")
    for method in ("sum", "min", "average"):
        patch(v, bar["id"], {"aggregationMethod": method})
        check_graph(chart(v)[bar["id"]], B, exp[method], bar_avg, "bar, " + method)
    st, m, _ = patch(v, bar["id"], {"graphType": "line", "name": "Accuracy (line)", "unitYAxis": None})
    eq((st, m.get("graphType"), m.get("name"), m.get("unitYAxis")), (200, "line", "Accuracy (line)", None),
       "PATCH bar -> line keeps the data points, renames, clears unitYAxis")
    check(m.get("updatedAt", "") >= m.get("createdAt", "~"), "updatedAt moves on PATCH")
    check_graph(chart(v)[bar["id"]], B, exp["average"], bar_avg, "bar turned line: same data")

    # -- example 2: a timeseries graph with aggregationMethod sum --------------------------------
    ts = create(v, {"name": "Token Usage", "graphType": "timeseries", "titleYAxis": "Total tokens",
                    "aggregationMethod": "sum"})
    eq((ts["titleXAxis"], ts["unitXAxis"], ts["aggregationMethod"]), (None, None, "sum"),
       "timeseries metric: no x-axis fields, aggregationMethod sum")
    st, pts, _ = push(v, ts["id"], [
        {"xValue": "2026-03-01T08:00:00Z", "yValue": 100},
        {"xValue": "2026-03-01T20:15:30.250Z", "yValue": 50},
        {"xValue": "2026-03-02T00:30:00+01:00", "yValue": 25},  # 2026-03-01T23:30Z
        {"xValue": "2026-03-03T12:00:00Z", "yValue": 300},
        {"xValue": "2026-03-05T09:00:00-05:00", "yValue": 80},  # 14:00Z
        {"xValue": "2026-03-05T23:59:59Z", "yValue": 20},
        {"xValue": "2026-03-07T00:00:00Z", "yValue": 7}], query="?timezone=UTC")
    eq(st, 201, "timeseries: POST dataPoints with timezone=UTC -> 201")
    eq(pts[2]["xValue"] if st == 201 else None, "2026-03-02T00:30:00+01:00", "xValue is echoed as sent")
    TS = ["2026-03-01T00:00:00Z", "2026-03-03T00:00:00Z", "2026-03-05T00:00:00Z", "2026-03-07T00:00:00Z"]
    days = [[100, 50, 25], [300], [80, 20], [7]]
    ts_avg = 582 / 7
    exp = {"sum": [175, 300, 100, 7], "average": [175 / 3, 300, 50, 7], "min": [25, 300, 20, 7],
           "max": [100, 300, 80, 7]}
    check_graph(chart(v)[ts["id"]], TS, exp["sum"], ts_avg, "timeseries over a week: one bin per day, sum")
    for method in ("average", "min", "max", "sum"):
        patch(v, ts["id"], {"aggregationMethod": method})
        check_graph(chart(v)[ts["id"]], TS, exp[method], ts_avg, "timeseries per day, " + method)

    # Bin widths from the span, and the timezone parameter.
    lat = create(v, {"name": "Latency", "graphType": "timeseries", "titleYAxis": "ms"})
    push(v, lat["id"], [{"xValue": "2026-03-06T10:00:10Z", "yValue": 1}, {"xValue": "2026-03-06T10:00:50Z", "yValue": 3},
                        {"xValue": "2026-03-06T10:02:00Z", "yValue": 10}])
    check_graph(chart(v)[lat["id"]], ["2026-03-06T10:00:00Z", "2026-03-06T10:02:00Z"], [2, 10], 14 / 3,
                "timeseries over two minutes: one bin per minute, average")
    push(v, lat["id"], [{"xValue": "2026-03-08T09:00:00Z", "yValue": 1}])
    check_graph(chart(v)[lat["id"]], ["2026-03-06T10:00:00Z", "2026-03-08T09:00:00Z"], [14 / 3, 1], 15 / 4,
                "timeseries over two days: one bin per hour")
    tz = create(v, {"name": "Local times", "graphType": "timeseries", "titleYAxis": "n", "aggregationMethod": "sum"})
    st, _, _ = push(v, tz["id"], [{"xValue": "2026-03-06T00:30:00", "yValue": 1},   # CET: 03-05T23:30Z
                                  {"xValue": "2026-03-06T01:30:00", "yValue": 2},   # 03-06T00:30Z
                                  {"xValue": "2026-03-06T02:00:00Z", "yValue": 4}],  # an offset wins
                    query="?timezone=" + urllib.parse.quote("Europe/Amsterdam"))
    eq(st, 201, "POST dataPoints with timezone=Europe/Amsterdam -> 201")
    st, _, _ = push(v, tz["id"], [{"xValue": "2026-03-06T03:00:00", "yValue": 8}],
                    query="?timezone=" + urllib.parse.quote("+05:00"))
    eq(st, 201, "POST dataPoints with timezone=+05:00 -> 201")
    check_graph(chart(v)[tz["id"]],
                ["2026-03-05T22:00:00Z", "2026-03-05T23:30:00Z", "2026-03-06T00:30:00Z", "2026-03-06T02:00:00Z"],
                [8, 1, 2, 4], 15 / 4, "timezone applied to datetimes without offset; 4 h span: 15-minute bins")

    # -- bad input: 4xx naming the field, counted, nothing stored --------------------------------
    before_chart = chart(v)
    st, before_list, _ = call(v, "GET", BASE + "/customMetrics")
    rejected = rejected_count(v)
    bad_creates = [
        ({"name": "x", "graphType": "pie", "titleXAxis": "a", "titleYAxis": "b"}, "graphType", "unknown graphType"),
        ({"name": "x", "graphType": "line", "titleXAxis": "a", "titleYAxis": "b", "aggregationMethod": "median"},
         "aggregationMethod", "unknown aggregationMethod"),
        ({"name": "x", "graphType": "timeseries", "titleXAxis": "a", "titleYAxis": "b"}, "titleXAxis",
         "titleXAxis on a timeseries metric"),
        ({"name": "x", "graphType": "timeseries", "unitXAxis": "s", "titleYAxis": "b"}, "unitXAxis",
         "unitXAxis on a timeseries metric"),
        ({"name": "x", "graphType": "line", "titleYAxis": "b"}, "titleXAxis", "line without titleXAxis"),
        ({"name": "x", "graphType": "bar", "titleXAxis": None, "titleYAxis": "b"}, "titleXAxis",
         "bar with titleXAxis null"),
        ({"graphType": "line", "titleXAxis": "a", "titleYAxis": "b"}, "name", "missing name"),
        ({"name": "x", "titleXAxis": "a", "titleYAxis": "b"}, "graphType", "missing graphType"),
        ({"name": "x", "graphType": "line", "titleXAxis": "a"}, "titleYAxis", "missing titleYAxis"),
        ({"name": 5, "graphType": "line", "titleXAxis": "a", "titleYAxis": "b"}, "name", "name not a string"),
    ]
    for body, field, what in bad_creates:
        st, b, _ = call(v, "POST", BASE + "/customMetric", body)
        error_field(st, b, 400, field, "create: " + what)
    st, b, _ = call(v, "POST", BASE + "/customMetric", raw="{not json")
    error_field(st, b, 400, "body", "create: malformed JSON")
    st, b, _ = call(v, "POST", BASE + "/customMetric", raw="[]")
    error_field(st, b, 400, "body", "create: a list instead of an object")
    st, b, _ = call(v, "POST", BASE + "/customMetric", raw="name=x", content_type="application/x-www-form-urlencoded")
    error_field(st, b, 415, "body", "create: a form body")

    bad_points = [
        (ts["id"], [{"xValue": "2026-03-06T00:00:00Z", "yValue": 1}, {"xValue": "yesterday", "yValue": 2}],
         "[1].xValue", "non-ISO xValue on a timeseries metric (after a good point)"),
        (ts["id"], [{"xValue": 1772755200, "yValue": 2}], "[0].xValue", "a number xValue on a timeseries metric"),
        (ts["id"], [{"xValue": "2026-02-30T00:00:00Z", "yValue": 2}], "[0].xValue", "an impossible date"),
        (line["id"], [{"xValue": "2026-03-09", "yValue": 1}, {"xValue": "new-label", "yValue": "12"}],
         "[1].yValue", "a string yValue (after a point with a new label)"),
        (line["id"], [{"xValue": "2026-03-09", "yValue": True}], "[0].yValue", "a boolean yValue"),
        (line["id"], [{"xValue": "2026-03-09"}], "[0].yValue", "a missing yValue"),
        (line["id"], [{"yValue": 1}], "[0].xValue", "a missing xValue"),
        (line["id"], [{"xValue": True, "yValue": 1}], "[0].xValue", "a boolean xValue on a line metric"),
        (line["id"], [{"xValue": ["a"], "yValue": 1}], "[0].xValue", "a list xValue"),
        (line["id"], [{"xValue": "a", "yValue": 1e200}], "[0].yValue", "a yValue out of range"),
        (line["id"], [{"xValue": "a", "yValue": 1, "predictionLogIds": "p1"}], "[0].predictionLogIds",
         "predictionLogIds not a list"),
        (line["id"], [{"xValue": "a", "yValue": 1}, 5], "[1]", "a list item that is not an object"),
        (line["id"], {"xValue": "a", "yValue": 1}, "body", "an object instead of a list"),
    ]
    for mid, body, field, what in bad_points:
        st, b, _ = push(v, mid, body)
        error_field(st, b, 400, field, "dataPoints: " + what)
    st, b, _ = push(v, ts["id"], [{"xValue": "2026-03-06T00:00:00", "yValue": 1}], query="?timezone=Mars/Olympus")
    error_field(st, b, 400, "timezone", "dataPoints: unknown timezone")
    st, b, _ = call(v, "POST", "%s/customMetric/%s/dataPoints" % (BASE, line["id"]), raw="[{")
    error_field(st, b, 400, "body", "dataPoints: malformed JSON")
    st, b, _ = push(v, "00000000-0000-4000-8000-000000000000", [{"xValue": "a", "yValue": 1}])
    error_field(st, b, 404, "customMetricId", "dataPoints: unknown metric id")
    st, b, _ = patch(v, "no-such-id", {"name": "y"})
    error_field(st, b, 404, "customMetricId", "PATCH an unknown metric id")
    st, b, _ = patch(v, "%FF%FE%22", {"name": "y"})
    error_field(st, b, 404, "customMetricId", "PATCH a metric id that is not UTF-8")
    st, b, _ = call(v, "DELETE", BASE + "/customMetric/no-such-id")
    error_field(st, b, 404, "customMetricId", "DELETE an unknown metric id")
    st, b, _ = call(v, "DELETE", BASE + "/customMetric/no-such-id/dataPoints")
    error_field(st, b, 404, "customMetricId", "clear an unknown metric id")
    st, b, _ = patch(v, line["id"], {"graphType": "timeseries"})
    error_field(st, b, 409, "graphType", "PATCH line -> timeseries with data points")
    st, b, _ = patch(v, line["id"], {"titleXAxis": None})
    error_field(st, b, 400, "titleXAxis", "PATCH titleXAxis null on a line metric")
    st, b, _ = patch(v, line["id"], {"aggregationMethod": "mode"})
    error_field(st, b, 400, "aggregationMethod", "PATCH an unknown aggregationMethod")
    st, b, _ = patch(v, ts["id"], {"unitXAxis": "day"})
    error_field(st, b, 400, "unitXAxis", "PATCH unitXAxis on a timeseries metric")
    st, b, _ = call(v, "GET", "/workspaces/bad%20ws/deployments/d/customMetrics")
    error_field(st, b, 400, "workspaceId", "a workspace id outside the charset")
    st, b, _ = call(v, "GET", "/workspaces/w/deployments/a:b/customMetricsChartData")
    error_field(st, b, 400, "deploymentId", "a deployment id outside the charset")
    st, b, h = call(v, "PUT", "%s/customMetric/%s" % (BASE, line["id"]), {"name": "y"})
    error_field(st, b, 405, None, "PUT on a metric")
    eq(hdr(h, "Allow"), "PATCH, DELETE", "405 carries Allow")
    st, b, _ = call(v, "GET", BASE + "/customMetricz")
    error_field(st, b, 404, None, "an unknown route under /workspaces")
    check(rejected_count(v) >= rejected + len(bad_creates) + len(bad_points) + 4,
          "rejected input is counted in vigil_rejected_inputs_total")
    same_charts(chart(v), before_chart, "after the rejected requests (nothing stored)")
    st, after_list, _ = call(v, "GET", BASE + "/customMetrics")
    eq(after_list, before_list, "no rejected request created or changed a metric")
    many = create(v, {"name": "many labels", "graphType": "bar", "titleXAxis": "i", "titleYAxis": "n"})
    st, b, _ = push(v, many["id"], [{"xValue": "l%d" % i, "yValue": i} for i in range(1001)])
    error_field(st, b, 400, "[1000].xValue", "dataPoints: the 1001st distinct label")
    st, b, _ = push(v, many["id"], [{"xValue": 0, "yValue": 1}] * 1501)
    error_field(st, b, 413, "body", "dataPoints: more than engine.max_batch_samples points")
    st, _, _ = push(v, many["id"], [{"xValue": "l%d" % i, "yValue": i} for i in range(1000)] +
                    [{"xValue": "l999", "yValue": 1}] * 500)
    eq(st, 201, "1000 distinct labels in 1500 points are accepted")
    g = chart(v)[many["id"]]
    eq(g["labels"], ["l%d" % i for i in range(1000)], "1000 labels in first-seen order")
    eq(g["data"][:3], [0, 1, 2], "one value per label (average)")
    close(g["data"][999], 1499 / 501, "the repeated label averages its 501 points")
    close(g["average"], (sum(range(1000)) + 500) / 1500, "average over all 1500 points")
    st, _, _ = call(v, "DELETE", "%s/customMetric/%s" % (BASE, many["id"]))
    eq(st, 204, "delete the many-labels metric")
    # A rejected label is not remembered: a later good point with it comes after the known ones.
    push(v, line["id"], [{"xValue": "new-label", "yValue": 1}])
    eq(chart(v)[line["id"]]["labels"], L + ["new-label"], "a label first sent in a rejected list is not kept")

    # -- roles -----------------------------------------------------------------------------------
    metric_body = {"name": "r", "graphType": "line", "titleXAxis": "a", "titleYAxis": "b"}
    st, b, h = call(v, "GET", BASE + "/customMetrics", auth=None)
    error_field(st, b, 401, None, "no credentials")
    check("Basic" in (hdr(h, "WWW-Authenticate") or ""), "401 carries WWW-Authenticate")
    st, b, _ = call(v, "GET", BASE + "/customMetrics", auth=(ADMIN_USER, "wrong"))
    error_field(st, b, 401, None, "a wrong key pair")
    st, b, _ = call(v, "GET", BASE + "/customMetricsChartData", auth="not-a-token")
    error_field(st, b, 401, None, "an unknown Bearer token")
    st, b, _ = call(v, "GET", BASE + "/customMetrics", auth=None, headers={"Authorization": "Token " + ADMIN_TOKEN})
    error_field(st, b, 401, None, "another scheme (Token)")
    st, _, _ = push(v, line["id"], [{"xValue": "2026-03-06", "yValue": 1000}], auth=tokens["recorder"])
    eq(st, 201, "recorder Bearer token pushes data points")
    st, _, _ = push(v, line["id"], [{"xValue": "2026-03-06", "yValue": 1000}], auth=(ADMIN_USER, tokens["recorder"]))
    eq(st, 201, "recorder token as a key pair pushes data points")
    g_viewer = chart(v, auth=tokens["viewer"])
    check(line["id"] in g_viewer, "viewer Bearer token reads chart data")
    st, _, _ = call(v, "GET", BASE + "/customMetrics", auth=tokens["viewer"])
    eq(st, 200, "viewer Bearer token lists metrics")
    st, b, _ = push(v, line["id"], [{"xValue": "z", "yValue": 1}], auth=tokens["viewer"])
    error_field(st, b, 403, None, "viewer Bearer token pushing data points")
    st, b, _ = call(v, "GET", BASE + "/customMetricsChartData", auth=tokens["recorder"])
    error_field(st, b, 403, None, "recorder Bearer token reading chart data")
    for who, auth in (("recorder Bearer", tokens["recorder"]), ("viewer Bearer", tokens["viewer"]),
                      ("admin Bearer", ADMIN_TOKEN), ("viewer key pair", (ADMIN_USER, tokens["viewer"])),
                      ("recorder key pair", (ADMIN_USER, tokens["recorder"]))):
        st, b, _ = call(v, "POST", BASE + "/customMetric", metric_body, auth=auth)
        error_field(st, b, 403, None, who + " creating a metric")
        st, b, _ = call(v, "PATCH", "%s/customMetric/%s" % (BASE, line["id"]), {"name": "q"}, auth=auth)
        error_field(st, b, 403, None, who + " updating a metric")
        st, b, _ = call(v, "DELETE", "%s/customMetric/%s/dataPoints" % (BASE, line["id"]), auth=auth)
        error_field(st, b, 403, None, who + " clearing data points")
        st, b, _ = call(v, "DELETE", "%s/customMetric/%s" % (BASE, line["id"]), auth=auth)
        error_field(st, b, 403, None, who + " deleting a metric")
    st, _, _ = push(v, line["id"], [{"xValue": "2026-03-07", "yValue": 1}], auth=ADMIN_TOKEN)
    eq(st, 201, "admin Bearer token pushes data points")
    g = chart(v)[line["id"]]
    # 2026-03-06 now has 312.4, 100.5, 1000, 1000; 2026-03-07 289.1 and 1; the method is average.
    check_graph(g, L + ["new-label"], [2412.9 / 4, 290.1 / 2, 250, 1], 2954 / 8,
                "pushes with each accepted credential all landed")

    # -- namespaces ------------------------------------------------------------------------------
    other = "/workspaces/%s/deployments/other-dep" % WS
    st, b, _ = call(v, "GET", other + "/customMetrics")
    eq((st, b), (200, []), "another deployment of the workspace has no metrics")
    st, b, _ = call(v, "GET", "/workspaces/WS-ACME/deployments/%s/customMetrics" % DEP)
    eq((st, b), (200, []), "workspace ids are case-sensitive")
    st, b, _ = push(v, line["id"], [{"xValue": "a", "yValue": 1}], base=other)
    error_field(st, b, 404, "customMetricId", "a metric id under another deployment")
    om = create(v, {"name": "Daily Token Usage", "graphType": "line", "titleXAxis": "Date", "titleYAxis": "t"},
                base=other)
    push(v, om["id"], [{"xValue": "2026-03-06", "yValue": 5}], base=other)
    g = chart(v, base=other)
    eq(list(g), [om["id"]], "chart data lists only the deployment's own metrics")
    check_graph(g[om["id"]], ["2026-03-06"], [5], 5, "same name in another deployment: separate data")
    st, lst, _ = call(v, "GET", BASE + "/customMetrics")
    eq([m["id"] for m in lst], [line["id"], bar["id"], ts["id"], lat["id"], tz["id"]],
       "customMetrics lists the deployment's metrics in creation order")

    # -- the engine mapping ----------------------------------------------------------------------
    st, text, _ = v.request("GET", "/v1/measurements/deeploy.%s?start_time=0&resolution=86400" % line["id"])
    series = json.loads(text)["series"] if st == 200 else []
    eq(sorted(s["tags"]["x"] for s in series), ["0", "1", "2", "3"],
       "line data points are Vigil series deeploy.<id> with one x tag per label")
    eq({(s["tags"]["workspace"], s["tags"]["deployment"]) for s in series}, {(WS, DEP)},
       "series are tagged workspace and deployment")

    # -- clear and delete ------------------------------------------------------------------------
    st, _, _ = call(v, "DELETE", "%s/customMetric/%s/dataPoints" % (BASE, bar["id"]))
    eq(st, 204, "DELETE dataPoints (clear) -> 204")
    g = chart(v)[bar["id"]]
    eq((g["labels"], g["data"], g["average"]), ([], [], 0), "cleared metric: no labels, no data, average 0")
    st, _, _ = push(v, bar["id"], [{"xValue": "dog", "yValue": 3}, {"xValue": "cat", "yValue": 1}])
    check_graph(chart(v)[bar["id"]], ["dog", "cat"], [3, 1], 2, "after a clear, labels start over")
    st, text, _ = v.request("GET", "/v1/measurements/deeploy.%s?start_time=0&resolution=86400" % bar["id"])
    eq(len(json.loads(text)["series"]) if st == 200 else st, 2, "the cleared series are gone from the engine")
    st, m, _ = patch(v, lat["id"], {"graphType": "bar", "titleXAxis": "x"})
    error_field(st, m, 409, "graphType", "PATCH timeseries -> bar with data points")
    call(v, "DELETE", "%s/customMetric/%s/dataPoints" % (BASE, lat["id"]))
    st, m, _ = patch(v, lat["id"], {"graphType": "bar", "titleXAxis": "x"})
    eq((st, m.get("graphType"), m.get("titleXAxis")), (200, "bar", "x"), "PATCH timeseries -> bar once cleared")
    st, _, _ = call(v, "DELETE", "%s/customMetric/%s" % (BASE, lat["id"]))
    eq(st, 204, "DELETE customMetric -> 204")
    st, _, _ = call(v, "DELETE", "%s/customMetric/%s" % (BASE, tz["id"]))
    eq(st, 204, "DELETE a metric with data points -> 204")
    st, lst, _ = call(v, "GET", BASE + "/customMetrics")
    eq([m["id"] for m in lst], [line["id"], bar["id"], ts["id"]], "deleted metrics are not listed")
    check(tz["id"] not in chart(v), "deleted metric is not in the chart data")
    st, b, _ = push(v, tz["id"], [{"xValue": "2026-03-06T00:00:00Z", "yValue": 1}])
    error_field(st, b, 404, "customMetricId", "pushing to a deleted metric")
    st, _, _ = v.request("GET", "/v1/metrics/deeploy.%s" % tz["id"])
    eq(st, 404, "a deleted metric's data points are gone from the engine")

    # -- kill -9 ---------------------------------------------------------------------------------
    st, _, _ = push(v, ts["id"], [{"xValue": "2026-03-07T12:00:00Z", "yValue": 3}], auth=tokens["recorder"])
    eq(st, 201, "a point acknowledged right before kill -9")
    before = chart(v)
    close(before[ts["id"]]["data"][-1], 10, "the last day holds 7 + 3 (sum)")
    v.kill9()
    v.start()
    same_charts(chart(v), before, "after kill -9 and restart")
    st, lst2, _ = call(v, "GET", BASE + "/customMetrics")
    eq(lst2, lst, "metric definitions survive kill -9")
    st, _, _ = push(v, bar["id"], [{"xValue": "cat", "yValue": 5}, {"xValue": "emu", "yValue": 0}])
    eq(st, 201, "push after restart")
    check_graph(chart(v)[bar["id"]], ["dog", "cat", "emu"], [3, 3, 0], 9 / 4,
                "label order and tags continue after the restart")
finally:
    v.cleanup()
finish()
