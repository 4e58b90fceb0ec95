"""End to end: the UbiOps dialect under /v2.1 through a small client written from the official
client's models (every response field and type checked as that client would): custom metrics,
time-series data create / aggregate / list / search / delete with hand-computed sums and means,
projects as namespaces, bad input, the roles matrix, and a kill -9 between writes and queries."""
import datetime
import json
import os
import re
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from harness import ADMIN_TOKEN, ADMIN_USER, Vigil, args, check, close, eq, finish, hdr  # noqa: E402

A = args()
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


# -- the client, from the models -------------------------------------------------------------

class ApiException(Exception):
    def __init__(self, status, body):
        super().__init__("HTTP %d: %s" % (status, body))
        self.status = status
        self.body = body

    def json(self):
        return json.loads(self.body)


class ModelError(Exception):
    pass


def _is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _is_float(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_datetime(v):
    if not isinstance(v, str) or not ISO.match(v):
        return False
    datetime.datetime.fromisoformat(v.replace("Z", "+00:00"))
    return True


def _str_dict(v):
    return isinstance(v, dict) and all(isinstance(k, str) and isinstance(x, str) for k, x in v.items())


def _model(name, d, fields):
    """fields: key -> (required, nullable, check)."""
    if not isinstance(d, dict):
        raise ModelError("%s: not an object: %r" % (name, d))
    for key, (required, nullable, ok) in fields.items():
        if key not in d:
            if required:
                raise ModelError("%s: missing required field %s in %r" % (name, key, d))
            continue
        v = d[key]
        if v is None:
            if not nullable:
                raise ModelError("%s: %s must not be null" % (name, key))
            continue
        if not ok(v):
            raise ModelError("%s: %s has a wrong type or value: %r" % (name, key, v))
    extra = set(d) - set(fields)
    if extra:
        raise ModelError("%s: unknown fields %s" % (name, sorted(extra)))
    return d


def metric_detail(d):
    return _model("MetricDetail", d, {
        "id": (True, False, _is_int),
        "name": (True, False, lambda v: isinstance(v, str) and 1 <= len(v) <= 64),
        "description": (False, True, lambda v: isinstance(v, str) and len(v) <= 400),
        "creation_date": (False, False, _is_datetime),
        "last_updated": (False, False, _is_datetime),
        "custom": (True, False, lambda v: isinstance(v, bool)),
        "metric_type": (True, False, lambda v: isinstance(v, str)),
        "unit": (False, True, lambda v: isinstance(v, str) and len(v) <= 32),
        "labels": (True, False, lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v)),
    })


def data_point(d):
    return _model("TimeSeriesDataPoint", d, {
        "start_date": (True, False, _is_datetime),
        "end_date": (True, False, _is_datetime),
        "value": (True, False, _is_float),
    })


def data_list(d):
    _model("TimeSeriesDataList", d, {
        "metric": (True, False, lambda v: isinstance(v, str)),
        "metric_type": (True, False, lambda v: isinstance(v, str)),
        "unit": (True, True, lambda v: isinstance(v, str)),
        "start_date": (True, False, _is_datetime),
        "end_date": (True, False, _is_datetime),
        "aggregation_period": (True, False, _is_int),
        "labels": (True, False, _str_dict),
        "data_points": (True, False, lambda v: isinstance(v, list)),
    })
    for p in d["data_points"]:
        data_point(p)
    return d


def series_search(d):
    return _model("TimeSeriesSearch", d, {
        "id": (True, False, _is_int),
        "metric": (True, False, lambda v: isinstance(v, str)),
        "labels": (True, False, _str_dict),
        "resolution": (True, False, _is_int),
    })


class CoreApi:
    def __init__(self, vigil, token):
        self.v = vigil
        self.token = token

    def call(self, method, path, query=None, body=None):
        if query:
            query = {k: v for k, v in query.items() if v is not None}
            if query:
                path += "?" + urllib.parse.urlencode(query)
        headers = {}
        if self.token is not None:
            headers["Authorization"] = "Token " + self.token
        data = json.dumps(body) if body is not None else None
        st, text, _ = self.v.request(method, "/v2.1" + path, data, "application/json" if data else None,
                                     headers=headers, auth=None)
        if st >= 400:
            raise ApiException(st, text)
        return st, (json.loads(text) if text else None)

    def service_status(self):
        _, r = self.call("GET", "/status")
        return _model("Status", r, {"status": (True, False, lambda v: isinstance(v, str))})

    def metrics_create(self, project, data):
        st, r = self.call("POST", "/projects/%s/metrics" % project, body=data)
        assert st == 201, st
        return metric_detail(r)

    def metrics_list(self, project, custom=None):
        _, r = self.call("GET", "/projects/%s/metrics" % project,
                         {"custom": None if custom is None else str(custom).lower()})
        assert isinstance(r, list)
        return [metric_detail(m) for m in r]

    def metrics_get(self, project, name):
        return metric_detail(self.call("GET", "/projects/%s/metrics/%s" % (project, name))[1])

    def metrics_update(self, project, name, data):
        return metric_detail(self.call("PATCH", "/projects/%s/metrics/%s" % (project, name), body=data)[1])

    def metrics_delete(self, project, name):
        st, r = self.call("DELETE", "/projects/%s/metrics/%s" % (project, name))
        assert st == 204 and r is None, (st, r)

    def time_series_data_create(self, project, data):
        return self.call("POST", "/projects/%s/time-series/data" % project, body=data)[1]

    def time_series_data_aggregate(self, project, data):
        return self.call("POST", "/projects/%s/time-series/aggregate" % project, body=data)[1]

    def time_series_data_list(self, project, metric=None, start_date=None, end_date=None, aggregation_period=None,
                              labels=None, unit_period=None):
        _, r = self.call("GET", "/projects/%s/time-series/data" % project, {
            "metric": metric, "start_date": start_date, "end_date": end_date,
            "aggregation_period": aggregation_period, "labels": labels, "unit_period": unit_period})
        return data_list(r)

    def time_series_search(self, project, metric=None, labels=None, custom=None, exact_match=None, limit=None,
                           offset=None):
        _, r = self.call("GET", "/projects/%s/time-series/search" % project, {
            "metric": metric, "labels": labels, "custom": None if custom is None else str(custom).lower(),
            "exact_match": None if exact_match is None else str(exact_match).lower(), "limit": limit,
            "offset": offset})
        assert isinstance(r, list)
        return [series_search(s) for s in r]

    def time_series_delete(self, project, time_series_id):
        st, r = self.call("DELETE", "/projects/%s/time-series/%s" % (project, time_series_id))
        assert st == 204 and r is None, (st, r)


def expect_error(what, status, fn, field=None, contains=None):
    try:
        fn()
    except ApiException as e:
        eq(e.status, status, what + " -> %d" % status)
        try:
            body = e.json()
        except ValueError:
            check(False, what + ": the error body is JSON: %r" % e.body)
            return
        check(isinstance(body, dict) and isinstance(body.get("error"), str), what + ": {\"error\": ...} body")
        if field is not None:
            eq(body.get("field"), field, what + ": the error names the field")
        if contains is not None:
            check(contains in body.get("error", ""), what + ": the error says %r (%s)" % (contains, body))
        return
    except ModelError as e:
        check(False, what + ": model error %s" % e)
        return
    check(False, what + ": expected HTTP %d, the call succeeded" % status)


def points(r):
    return [(p["start_date"], p["end_date"], p["value"]) for p in r["data_points"]]


def ts(hhmmss, day="2024-05-01"):
    return "%sT%sZ" % (day, hhmmss)


def rejects(v):
    st, text, _ = v.request("GET", "/metrics", auth=None)
    out = {}
    for m in re.finditer(r'vigil_rejected_inputs_total\{reason="(\w+)"\} (\d+)', text):
        out[m.group(1)] = int(m.group(2))
    return out


# -- the run ------------------------------------------------------------------------------------

A_PROJ, B_PROJ = "proj-a", "proj-b"
DV, ENV = "deployment_version_id", "env"

v = Vigil(A.vigil, extra=["--set", "engine.max_batch_samples=1000", "--set", "query.max_points=5000"])
try:
    v.start()
    api = CoreApi(v, ADMIN_TOKEN)
    eq(CoreApi(v, None).service_status(), {"status": "ok"}, "service_status() without a token")

    # -- metrics -----------------------------------------------------------------------------
    req = api.metrics_create(A_PROJ, {"name": "custom.requests", "metric_type": "delta", "unit": "requests",
                                      "description": "Requests per deployment", "labels": [DV, ENV]})
    eq((req["name"], req["metric_type"], req["unit"], req["custom"], req["labels"]),
       ("custom.requests", "delta", "requests", True, [DV, ENV]), "metrics_create returns the MetricDetail")
    lat = api.metrics_create(A_PROJ, {"name": "custom.latency", "metric_type": "gauge", "labels": [DV]})
    eq((lat["description"], lat["unit"]), (None, None), "omitted description and unit are null")
    check(lat["id"] != req["id"], "metric ids differ")
    eq(lat["creation_date"], lat["last_updated"], "a new metric's last_updated is its creation_date")
    breq = api.metrics_create(B_PROJ, {"name": "custom.requests", "metric_type": "gauge"})
    eq(breq["metric_type"], "gauge", "another project holds a metric of the same name with another type")
    eq(api.metrics_get(A_PROJ, "custom.requests"), req, "metrics_get gives back the created metric")
    eq([m["name"] for m in api.metrics_list(A_PROJ)], ["custom.requests", "custom.latency"],
       "metrics_list lists the project's metrics in creation order")
    eq([m["name"] for m in api.metrics_list(A_PROJ, custom=True)], ["custom.requests", "custom.latency"],
       "metrics_list(custom=True)")
    eq(api.metrics_list(A_PROJ, custom=False), [], "metrics_list(custom=False): no default metrics")
    eq([m["id"] for m in api.metrics_list(B_PROJ)], [breq["id"]], "project b lists only its own metric")
    eq(api.metrics_list("proj-empty"), [], "a project without metrics lists none")
    expect_error("a metric name that exists", 409,
                 lambda: api.metrics_create(A_PROJ, {"name": "custom.requests", "metric_type": "delta"}), "name")
    upd = api.metrics_update(A_PROJ, "custom.latency", {"description": "Latency", "unit": "seconds"})
    eq((upd["description"], upd["unit"], upd["metric_type"], upd["id"], upd["creation_date"]),
       ("Latency", "seconds", "gauge", lat["id"], lat["creation_date"]), "metrics_update changes description and unit")
    check(upd["last_updated"] >= lat["last_updated"], "last_updated moves on update")
    lat = upd

    # -- data: create ----------------------------------------------------------------------------
    L1 = {DV: "v1", ENV: "prod"}
    L2 = {DV: "v2", ENV: "prod"}
    L3 = {DV: "v1"}
    created = api.time_series_data_create(A_PROJ, [
        {"metric": "custom.requests", "labels": L1, "data": [
            {"date": ts("10:00:10"), "value": 5}, {"date": "2024-05-01T10:01:59.999+00:00", "value": 7},
            {"date": ts("10:05:00"), "value": 11}, {"date": ts("10:59:30"), "value": 2},
            {"date": "2024-05-01T13:00:00+02:00", "value": 100}, {"date": ts("11:30:00"), "value": 1.5}]},
        {"metric": "custom.requests", "labels": L2, "data": [
            {"date": ts("10:00:00"), "value": 3}, {"date": ts("10:02:00"), "value": 4}]},
        {"metric": "custom.requests", "labels": L3, "data": [{"date": ts("10:00:00"), "value": 1000}]},
        {"metric": "custom.latency", "labels": {DV: "v1"}, "data": [
            {"date": ts("10:00:00"), "value": 2.0}, {"date": ts("10:01:00"), "value": 4.0},
            {"date": ts("10:02:00"), "value": 9.0}]},
        {"metric": "custom.latency", "labels": {DV: "v2"}, "data": [{"date": ts("10:00:45"), "value": 10.0}]},
    ])
    check(isinstance(created, list) and len(created) == 5, "time_series_data_create answers the stored items")
    eq(created[0]["data"][1], {"date": ts("10:01:00"), "value": 7.0}, "a value is recorded for the minute of its date")
    api.time_series_data_create(B_PROJ, [{"metric": "custom.requests", "labels": {},
                                          "data": [{"date": ts("10:00:00"), "value": 42}]}])

    # A create for a minute that holds a value replaces it (delta and gauge); the last value of a
    # request for one minute wins.
    api.time_series_data_create(A_PROJ, [{"metric": "custom.requests", "labels": L1,
                                          "data": [{"date": ts("10:05:20"), "value": 30},
                                                   {"date": ts("10:05:40"), "value": 20}]}])
    # -- data: aggregate -------------------------------------------------------------------------
    agg = api.time_series_data_aggregate(A_PROJ, [
        {"metric": "custom.requests", "labels": L1, "data": [{"date": ts("10:01:30"), "value": 3}]},
        {"metric": "custom.latency", "labels": {DV: "v1"}, "data": [
            {"date": ts("10:00:30"), "value": 5.0}, {"date": ts("10:00:50"), "value": 8.0}]},
    ])
    check(isinstance(agg, list) and len(agg) == 2, "time_series_data_aggregate answers the stored items")
    api.time_series_data_create(A_PROJ, [{"metric": "custom.latency", "labels": {DV: "v1"},
                                          "data": [{"date": ts("10:02:00"), "value": 3.0}]}])

    def check_values(when):
        w = " (%s)" % when
        # delta, period 60, one series: 10:00 = 5, 10:01 = 7 + 3 (aggregate), 10:05 = 20 (replaced)
        r = api.time_series_data_list(A_PROJ, "custom.requests", ts("10:00:00"), ts("10:06:00"), 60,
                                      "%s:v1,%s:prod" % (DV, ENV))
        eq(points(r), [(ts("10:00:00"), ts("10:01:00"), 5.0), (ts("10:01:00"), ts("10:02:00"), 10.0),
                       (ts("10:05:00"), ts("10:06:00"), 20.0)], "delta per minute, one series" + w)
        eq((r["metric"], r["metric_type"], r["unit"], r["aggregation_period"], r["labels"]),
           ("custom.requests", "delta", "requests", 60, L1), "TimeSeriesDataList header" + w)
        # no label filter: every series of the metric is summed
        r = api.time_series_data_list(A_PROJ, "custom.requests", ts("10:00:00"), ts("10:03:00"), 60)
        eq(points(r), [(ts("10:00:00"), ts("10:01:00"), 1008.0), (ts("10:01:00"), ts("10:02:00"), 10.0),
                       (ts("10:02:00"), ts("10:03:00"), 4.0)], "delta per minute over all series" + w)
        eq(r["labels"], {}, "no filter: labels {}" + w)
        # subset filter: dv=v1 matches L1 and L3
        r = api.time_series_data_list(A_PROJ, "custom.requests", ts("10:00:00"), ts("10:02:00"), 60, DV + ":v1")
        eq(points(r), [(ts("10:00:00"), ts("10:01:00"), 1005.0), (ts("10:01:00"), ts("10:02:00"), 10.0)],
           "a label filter matches every series holding those labels" + w)
        # rounding: start 10:00:30 -> 10:00, end 10:01:10 -> 10:02
        r = api.time_series_data_list(A_PROJ, "custom.requests", ts("10:00:30"), ts("10:01:10"), 60,
                                      "%s:v1,%s:prod" % (DV, ENV))
        eq((r["start_date"], r["end_date"]), (ts("10:00:00"), ts("10:02:00")), "start rounded down, end up (60)" + w)
        eq([p[2] for p in points(r)], [5.0, 10.0], "the rounded range covers the whole minutes" + w)
        # delta, period 3600 with rounding: hour 10 = 5+10+20+2 (L1) + 3+4 (L2) = 44; hour 11 = 100+1.5
        r = api.time_series_data_list(A_PROJ, "custom.requests", ts("10:20:00"), ts("11:10:00"), 3600, ENV + ":prod")
        eq((r["start_date"], r["end_date"], r["aggregation_period"]), (ts("10:00:00"), ts("12:00:00"), 3600),
           "start rounded down, end up (3600)" + w)
        eq(points(r), [(ts("10:00:00"), ts("11:00:00"), 44.0), (ts("11:00:00"), ts("12:00:00"), 101.5)],
           "delta per hour: sums of the minutes" + w)
        # gauge, period 60: v1 10:00 = mean(2, 5, 8) = 5, 10:01 = 4, 10:02 = 3 (replaced 9)
        r = api.time_series_data_list(A_PROJ, "custom.latency", ts("10:00:00"), ts("10:03:00"), 60, DV + ":v1")
        eq(points(r), [(ts("10:00:00"), ts("10:01:00"), 5.0), (ts("10:01:00"), ts("10:02:00"), 4.0),
                       (ts("10:02:00"), ts("10:03:00"), 3.0)], "gauge per minute: means (aggregate, replace)" + w)
        eq((r["metric_type"], r["unit"]), ("gauge", "seconds"), "gauge list header" + w)
        # gauge over both series at 10:00: mean(5, 10) = 7.5
        r = api.time_series_data_list(A_PROJ, "custom.latency", ts("10:00:00"), ts("10:01:00"), 60)
        eq([p[2] for p in points(r)], [7.5], "gauge minute over two series: the mean of their values" + w)
        # gauge, period 3600: mean of the minutes 5, 4, 3 (v1) = 4; with v2: (5+4+3+10)/4 = 5.5
        r = api.time_series_data_list(A_PROJ, "custom.latency", ts("10:00:00"), ts("11:00:00"), 3600, DV + ":v1")
        eq(points(r), [(ts("10:00:00"), ts("11:00:00"), 4.0)], "gauge per hour: the mean of the minutes" + w)
        r = api.time_series_data_list(A_PROJ, "custom.latency", ts("10:00:00"), ts("11:00:00"), 3600)
        close(points(r)[0][2] if points(r) else None, 5.5, "gauge per hour over two series" + w)
        # the default period: the finest one within the budget
        r = api.time_series_data_list(A_PROJ, "custom.requests", ts("10:00:00"), ts("10:30:12"))
        eq(r["aggregation_period"], 60, "default period over half an hour: 60" + w)
        r = api.time_series_data_list(A_PROJ, "custom.requests", ts("10:00:00"), ts("10:00:00", "2024-05-04"))
        eq(r["aggregation_period"], 300, "default period over three days: 300" + w)
        eq(points(r)[0], (ts("10:00:00"), ts("10:05:00"), 1008.0 + 10.0 + 4.0), "first 5-minute period" + w)
        r = api.time_series_data_list(A_PROJ, "custom.requests", ts("00:00:00"), ts("00:00:00", "2024-05-02"), 86400)
        eq(points(r), [(ts("00:00:00"), ts("00:00:00", "2024-05-02"), 5 + 10 + 20 + 2 + 100 + 1.5 + 3 + 4 + 1000.0)],
           "delta per day" + w)
        # project b: its own metric of the same name, a gauge
        r = api.time_series_data_list(B_PROJ, "custom.requests", ts("10:00:00"), ts("10:01:00"), 60)
        eq((r["metric_type"], points(r)), ("gauge", [(ts("10:00:00"), ts("10:01:00"), 42.0)]),
           "project b sees only its own data" + w)
        # an empty range: no data points (never a null value)
        r = api.time_series_data_list(A_PROJ, "custom.requests", ts("09:00:00"), ts("09:30:00"), 60)
        eq(r["data_points"], [], "periods without data are left out" + w)

    check_values("before a kill -9")
    # kill -9 right after the writes (within the shards' flush interval): the acknowledged data
    # comes back from the ingest log, the metric definitions from the store.
    metrics_before = api.metrics_list(A_PROJ)
    v.kill9()
    v.start()
    eq(api.metrics_list(A_PROJ), metrics_before, "metric definitions survive kill -9")
    check_values("after a kill -9")

    # -- the data is the engine's: the Librato dialect reads it --------------------------------
    st, body = v.get_json("/v1/measurements/ubiops.%s.%d" % (A_PROJ, req["id"]),
                          {"start_time": 1714557600, "end_time": 1714557719, "resolution": 60,
                           "summary_function": "sum", "tags[deployment_version_id]": "v2"})
    eq(st, 200, "the metric's series read through /v1")
    got = body["series"][0]["measurements"] if st == 200 and body["series"] else []
    eq([(m["time"], m["value"]) for m in got], [(1714557600, 3.0)], "/v1 sums the same minute")

    # -- search --------------------------------------------------------------------------------
    found = api.time_series_search(A_PROJ, metric="custom.requests")
    eq(sorted(json.dumps(s["labels"], sort_keys=True) for s in found),
       sorted(json.dumps(x, sort_keys=True) for x in (L1, L2, L3)), "search by metric finds its three series")
    eq({s["resolution"] for s in found} | {s["metric"] for s in found}, {60, "custom.requests"},
       "search: metric and resolution 60")
    ids = [s["id"] for s in found]
    eq(ids, sorted(ids), "search results are ordered by id")
    by_labels = {json.dumps(s["labels"], sort_keys=True): s["id"] for s in found}
    id1 = by_labels[json.dumps(L1, sort_keys=True)]
    eq(sorted(s["id"] for s in api.time_series_search(A_PROJ, metric="custom.requests", labels=DV + ":v1")),
       sorted([id1, by_labels[json.dumps(L3, sort_keys=True)]]), "search: a subset of labels matches by default")
    eq([s["id"] for s in api.time_series_search(A_PROJ, metric="custom.requests", labels=DV + ":v1",
                                                exact_match=True)],
       [by_labels[json.dumps(L3, sort_keys=True)]], "search exact_match: the labels must be exactly these")
    eq([s["id"] for s in api.time_series_search(A_PROJ, labels="%s:v1,%s:prod" % (DV, ENV), exact_match=True)],
       [id1], "search exact_match with two labels")
    eq(len(api.time_series_search(A_PROJ)), 5, "search without a metric: every series of the project")
    eq([s["id"] for s in api.time_series_search(A_PROJ, metric="custom.requests", limit=2)], ids[:2], "limit")
    eq([s["id"] for s in api.time_series_search(A_PROJ, metric="custom.requests", offset=2)], ids[2:], "offset")
    eq([s["id"] for s in api.time_series_search(A_PROJ, metric="custom.requests", offset=1, limit=1)], ids[1:2],
       "limit and offset")
    eq(api.time_series_search(A_PROJ, custom=False), [], "search custom=False: no default metrics")
    eq(len(api.time_series_search(A_PROJ, custom=True)), 5, "search custom=True")
    eq([s["metric"] for s in api.time_series_search(B_PROJ)], ["custom.requests"], "project b's one series")
    eq(api.time_series_search(B_PROJ, labels=DV + ":v1"), [], "project b holds none of project a's series")

    # -- rename: the data follows the metric -----------------------------------------------------
    ren = api.metrics_update(A_PROJ, "custom.requests", {"name": "custom.reqs"})
    eq((ren["name"], ren["id"]), ("custom.reqs", req["id"]), "metrics_update renames")
    r = api.time_series_data_list(A_PROJ, "custom.reqs", ts("10:00:00"), ts("10:01:00"), 60)
    eq([p[2] for p in points(r)], [1008.0], "the renamed metric keeps its data")
    expect_error("the old name is gone", 404, lambda: api.metrics_get(A_PROJ, "custom.requests"))
    api.metrics_update(A_PROJ, "custom.reqs", {"name": "custom.requests"})

    # -- bad input ---------------------------------------------------------------------------------
    before = rejects(v)
    C = lambda body: (lambda: api.time_series_data_create(A_PROJ, body))  # noqa: E731
    one = lambda **kw: [dict({"metric": "custom.requests", "labels": L1,  # noqa: E731
                              "data": [{"date": ts("10:00:00"), "value": 1}]}, **kw)]
    expect_error("an unparsable date", 400, C(one(data=[{"date": "yesterday", "value": 1}])), "[0].data[0].date")
    expect_error("a value that is not a number", 400, C(one(data=[{"date": ts("10:00:00"), "value": "abc"}])),
                 "[0].data[0].value")
    expect_error("a boolean value", 400, C(one(data=[{"date": ts("10:00:00"), "value": True}])), "[0].data[0].value")
    expect_error("a value too large", 400, C(one(data=[{"date": ts("10:00:00"), "value": 1e200}])),
                 "[0].data[0].value")
    expect_error("data without a date", 400, C(one(data=[{"value": 1}])), "[0].data[0].date")
    expect_error("data for a metric that does not exist", 400, C(one(metric="custom.nope")), "[0].metric")
    expect_error("data for another project's metric", 400,
                 lambda: api.time_series_data_create("proj-c", one()), "[0].metric")
    expect_error("a label the metric does not have", 400, C(one(labels={"region": "eu"})), "[0].labels")
    expect_error("a label value that is not a string", 400, C(one(labels={DV: 7})), "[0].labels." + DV)
    expect_error("labels that are not an object", 400, C(one(labels=["a"])), "[0].labels")
    expect_error("data missing", 400, C([{"metric": "custom.requests"}]), "[0].data")
    expect_error("an item that is not an object", 400, C([5]), "[0]")
    st, text, _ = v.request("POST", "/v2.1/projects/proj-a/time-series/data", "{nope", "application/json",
                            headers={"Authorization": "Token " + ADMIN_TOKEN}, auth=None)
    eq((st, json.loads(text).get("field")), (400, "body"), "a body that is not JSON -> 400 naming the body")
    st, text, _ = v.request("POST", "/v2.1/projects/proj-a/time-series/data", "[]", "text/plain",
                            headers={"Authorization": "Token " + ADMIN_TOKEN}, auth=None)
    eq(st, 415, "another content type -> 415")
    many = [{"date": "2024-05-01T08:%02d:00Z" % (i % 60), "value": 1} for i in range(1001)]
    expect_error("an oversized request (over engine.max_batch_samples points)", 413, C(one(data=many)), "data")
    # whole or nothing: the first item is good, the second bad; nothing of the first is stored
    expect_error("a request with one bad item", 400, C([
        {"metric": "custom.requests", "labels": L2, "data": [{"date": ts("09:10:00"), "value": 9}]},
        {"metric": "custom.requests", "labels": L2, "data": [{"date": "bad", "value": 9}]}]), "[1].data[0].date")
    r = api.time_series_data_list(A_PROJ, "custom.requests", ts("09:00:00"), ts("09:30:00"), 60)
    eq(r["data_points"], [], "a refused request stored nothing")
    now = datetime.datetime.now(datetime.timezone.utc)
    recent = (now - datetime.timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    expect_error("aggregate of a date less than two minutes old", 400,
                 lambda: api.time_series_data_aggregate(A_PROJ, one(data=[{"date": recent, "value": 1}])),
                 "[0].data[0].date", "two minutes")
    older = (now - datetime.timedelta(seconds=200)).strftime("%Y-%m-%dT%H:%M:%SZ")
    l2 = "%s:%s,%s:%s" % (DV, L2[DV], ENV, L2[ENV])

    def stored_at(date):
        """The values of custom.requests {L2} in the minute of `date`."""
        start = date[:17] + "00Z"
        end = (datetime.datetime.strptime(start, "%Y-%m-%dT%H:%M:%SZ") + datetime.timedelta(seconds=60)).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
        return [p[2] for p in points(api.time_series_data_list(A_PROJ, "custom.requests", start, end, 60, labels=l2))]

    api.time_series_data_create(A_PROJ, one(labels=L2, data=[{"date": recent, "value": 1}]))
    eq(stored_at(recent), [1.0], "create accepts recent dates")
    api.time_series_data_aggregate(A_PROJ, one(labels=L2, data=[{"date": older, "value": 1}]))
    eq(stored_at(older), [1.0], "aggregate accepts a date older than two minutes")

    M = lambda body: (lambda: api.metrics_create(A_PROJ, body))  # noqa: E731
    expect_error("a metric name without custom.", 400, M({"name": "requests", "metric_type": "delta"}), "name")
    expect_error("an unknown metric_type", 400, M({"name": "custom.x", "metric_type": "counter"}), "metric_type")
    expect_error("metric_type missing", 400, M({"name": "custom.x"}), "metric_type")
    expect_error("name missing", 400, M({"metric_type": "gauge"}), "name")
    expect_error("a description that is not a string", 400,
                 M({"name": "custom.x", "metric_type": "gauge", "description": 5}), "description")
    expect_error("a unit over 32 characters", 400, M({"name": "custom.x", "metric_type": "gauge", "unit": "u" * 33}),
                 "unit")
    expect_error("labels that are not a list", 400, M({"name": "custom.x", "metric_type": "gauge", "labels": "a"}),
                 "labels")
    expect_error("a bad project name", 400,
                 lambda: api.metrics_create("Bad_Project", {"name": "custom.x", "metric_type": "gauge"}),
                 "project_name")
    expect_error("update of a metric that is not custom", 400,
                 lambda: api.metrics_update(A_PROJ, "deployments.requests", {"unit": "x"}), "metric_name")
    expect_error("delete of a metric that is not custom", 400,
                 lambda: api.metrics_delete(A_PROJ, "deployments.requests"), "metric_name")
    expect_error("update renaming without custom.", 400,
                 lambda: api.metrics_update(A_PROJ, "custom.latency", {"name": "latency"}), "name")
    expect_error("update changing metric_type", 400,
                 lambda: api.metrics_update(A_PROJ, "custom.latency", {"metric_type": "delta"}), "metric_type")
    expect_error("update of an unknown metric", 404, lambda: api.metrics_update(A_PROJ, "custom.nope", {"unit": "x"}))
    expect_error("get of an unknown metric", 404, lambda: api.metrics_get(A_PROJ, "custom.nope"))
    expect_error("get of another project's metric", 404, lambda: api.metrics_get("proj-c", "custom.requests"))
    eq(api.metrics_get(A_PROJ, "custom.latency"), lat, "refused updates changed nothing")

    Lq = lambda **kw: (lambda: api.time_series_data_list(A_PROJ, **dict(  # noqa: E731
        {"metric": "custom.requests", "start_date": ts("10:00:00"), "end_date": ts("11:00:00")}, **kw)))
    expect_error("labels not in k:v form", 400, Lq(labels="nolabel"), "labels")
    expect_error("an unknown aggregation_period", 400, Lq(aggregation_period=120), "aggregation_period")
    expect_error("an aggregation_period that is no integer", 400, Lq(aggregation_period="hour"), "aggregation_period")
    expect_error("an unparsable start_date", 400, Lq(start_date="May 1st"), "start_date")
    expect_error("end_date missing", 400, Lq(end_date=None), "end_date")
    expect_error("metric missing", 400, Lq(metric=None), "metric")
    expect_error("end before start", 400, Lq(end_date=ts("09:00:00")), "end_date")
    expect_error("more periods than query.max_points", 400,
                 Lq(aggregation_period=60, end_date=ts("10:00:00", "2024-05-31")), "aggregation_period")
    expect_error("list of an unknown metric", 404, Lq(metric="custom.nope"), "metric")
    S = lambda **kw: (lambda: api.time_series_search(A_PROJ, **kw))  # noqa: E731
    expect_error("a negative limit", 400, S(limit=-1), "limit")
    expect_error("a negative offset", 400, S(offset=-1), "offset")
    expect_error("exact_match not a boolean", 400,
                 lambda: api.call("GET", "/projects/proj-a/time-series/search", {"exact_match": "maybe"}),
                 "exact_match")
    expect_error("search labels not in k:v form", 400, S(labels="a:1,b"), "labels")
    expect_error("a time series id that is not an integer", 400,
                 lambda: api.time_series_delete(A_PROJ, "abc"), "time_series_id")
    expect_error("an unknown route", 404, lambda: api.call("GET", "/projects/proj-a/nothing"))
    expect_error("a method the route does not take", 405,
                 lambda: api.call("PUT", "/projects/proj-a/metrics", body={}))
    after = rejects(v)
    check(after.get("invalid_measurement", 0) - before.get("invalid_measurement", 0) >= 15,
          "bad items are counted (%s -> %s)" % (before, after))
    check(after.get("bad_query", 0) - before.get("bad_query", 0) >= 10, "bad queries are counted")
    check(after.get("too_large", 0) > before.get("too_large", 0), "oversized requests are counted")
    check(after.get("bad_body", 0) > before.get("bad_body", 0), "bad bodies are counted")
    check(after.get("content_type", 0) > before.get("content_type", 0), "bad content types are counted")

    # -- garbage: never a 5xx, never a crash, nothing stored ------------------------------------
    import random
    api.metrics_create(A_PROJ, {"name": "custom.garbage", "metric_type": "delta", "labels": [DV]})
    rnd = random.Random(18)
    junk_values = [None, True, 0, -1, 1e308, 2 ** 70, "", "x" * 300, "custom.", "ü", [], {}, [[]], {"a": {}},
                   "2024-05-01T10:00:00Z", "9999-12-31T23:59:59Z", "0000-01-01", "2024-05-01T24:00:00Z", "\u0000",
                   "a:b", ":", ",", "k:v,", "%", "../..", "custom.garbage", DV, {DV: None}, {DV: ["v"]}]
    paths = ["/projects/proj-a/metrics", "/projects/proj-a/metrics/custom.requests",
             "/projects/proj-a/metrics/custom.nothing", "/projects/proj-a/time-series/data",
             "/projects/proj-a/time-series/aggregate", "/projects/proj-a/time-series/search",
             "/projects/proj-a/time-series/18446744073709551616", "/projects/proj-a/time-series/-1",
             "/projects/%s/metrics" % ("p" * 70), "/projects/proj-a/time-series/data/extra"]
    statuses = set()
    for i in range(150):
        method = rnd.choice(["GET", "POST", "PATCH", "DELETE"])
        path = rnd.choice(paths)
        if method == "GET":
            q = {k: rnd.choice(junk_values) for k in rnd.sample(
                ["metric", "start_date", "end_date", "aggregation_period", "labels", "custom", "exact_match", "limit",
                 "offset", "unit_period"], rnd.randint(0, 6))}
            q = {k: json.dumps(x) if not isinstance(x, str) else x for k, x in q.items()}
            st, text, _ = v.request("GET", "/v2.1" + path + ("?" + urllib.parse.urlencode(q) if q else ""),
                                    headers={"Authorization": "Token " + ADMIN_TOKEN}, auth=None)
        else:
            if path.endswith("/data") or path.endswith("/aggregate"):
                body = [{k: rnd.choice(junk_values) for k in rnd.sample(["metric", "labels", "data"], rnd.randint(0, 3))}]
                if rnd.random() < 0.5:
                    body[0]["data"] = [{"date": rnd.choice(junk_values), "value": rnd.choice(junk_values)}]
                    body[0]["metric"] = "custom.garbage"  # where valid garbage may land
            else:
                body = {k: rnd.choice(junk_values) for k in rnd.sample(
                    ["name", "metric_type", "description", "unit", "labels"], rnd.randint(0, 5))}
            if method in ("DELETE", "PATCH") and "custom.requests" in path:
                method = "GET"  # keep the metric under test
            text_body = json.dumps(body) if rnd.random() < 0.9 else json.dumps(body)[:-1]
            st, text, _ = v.request(method, "/v2.1" + path, text_body, "application/json",
                                    headers={"Authorization": "Token " + ADMIN_TOKEN}, auth=None)
        statuses.add(st)
        if st >= 500 or (st >= 400 and not isinstance(json.loads(text), dict)):
            check(False, "garbage request %d (%s %s) -> %d %s" % (i, method, path, st, text[:200]))
            break
    check(max(statuses) < 500, "150 garbage requests: no 5xx (%s)" % sorted(statuses))
    eq(CoreApi(v, None).service_status(), {"status": "ok"}, "the server is alive after the garbage")
    r = api.time_series_data_list(A_PROJ, "custom.requests", ts("10:00:00"), ts("10:06:00"), 60,
                                  "%s:v1,%s:prod" % (DV, ENV))
    eq([p[2] for p in points(r)], [5.0, 10.0, 20.0], "the garbage changed no data")

    # -- roles ---------------------------------------------------------------------------------
    def token(role):
        st, text, _ = v.post_json("/v1/api_tokens", {"name": role + " for ubiops", "role": role})
        assert st == 201, text
        return json.loads(text)["token"]

    viewer, recorder = CoreApi(v, token("viewer")), CoreApi(v, token("recorder"))
    api.metrics_create(A_PROJ, {"name": "custom.roles", "metric_type": "delta", "labels": ["who"]})
    data = lambda who: [{"metric": "custom.roles", "labels": {"who": who},  # noqa: E731
                         "data": [{"date": ts("10:00:00"), "value": 1}]}]
    scratch = {"n": 0}

    def fresh_metric():
        scratch["n"] += 1
        name = "custom.scratch%d" % scratch["n"]
        api.metrics_create(A_PROJ, {"name": name, "metric_type": "gauge"})
        return name

    routes = [
        ("service_status", lambda c: c.service_status(), "open"),
        ("metrics_list", lambda c: c.metrics_list(A_PROJ), "read"),
        ("metrics_get", lambda c: c.metrics_get(A_PROJ, "custom.roles"), "read"),
        ("time_series_data_list", lambda c: c.time_series_data_list(A_PROJ, "custom.roles", ts("10:00:00"),
                                                                    ts("10:01:00")), "read"),
        ("time_series_search", lambda c: c.time_series_search(A_PROJ, metric="custom.roles"), "read"),
        ("time_series_data_create", lambda c: c.time_series_data_create(A_PROJ, data("c")), "record"),
        ("time_series_data_aggregate", lambda c: c.time_series_data_aggregate(A_PROJ, data("a")), "record"),
        ("metrics_create", lambda c: c.metrics_create(A_PROJ, {"name": "custom.r%d" % id(c), "metric_type": "gauge"}),
         "admin"),
        ("metrics_update", lambda c: c.metrics_update(A_PROJ, "custom.roles", {"unit": "calls"}), "admin"),
        ("metrics_delete", lambda c: c.metrics_delete(A_PROJ, fresh_metric()), "admin"),
        ("time_series_delete", lambda c: c.time_series_delete(A_PROJ, next(
            s["id"] for s in api.time_series_search(A_PROJ, metric="custom.roles", labels="who:victim"))), "admin"),
    ]
    allowed = {"viewer": {"open", "read"}, "recorder": {"open", "record"},
               "admin": {"open", "read", "record", "admin"}}
    clients = {"viewer": viewer, "recorder": recorder, "admin": api}
    for role in ("viewer", "recorder", "admin"):
        for name, fn, need in routes:
            api.time_series_data_create(A_PROJ, data("victim"))
            try:
                fn(clients[role])
                status = 200
            except ApiException as e:
                status = e.status
            eq(status, 200 if need in allowed[role] else 403, "%s calls %s" % (role, name))
    for name, fn, need in routes:
        if need == "open":
            continue
        for who, c in (("no token", CoreApi(v, None)), ("an unknown token", CoreApi(v, "not-a-token"))):
            api.time_series_data_create(A_PROJ, data("victim"))
            try:
                fn(c)
                status = 200
            except ApiException as e:
                status = e.status
            eq(status, 401, "%s calls %s -> 401" % (who, name))
    st, text, h = v.request("GET", "/v2.1/projects/proj-a/metrics", auth=(ADMIN_USER, ADMIN_TOKEN))
    eq(st, 401, "HTTP Basic credentials are not a UbiOps token")
    eq(hdr(h, "WWW-Authenticate"), "Token", "401 names the Token scheme")
    check(json.loads(text).get("error"), "401 has an error body")
    # a refused write stored nothing: only the recorder's and admin's writes are in custom.roles
    r = api.time_series_data_list(A_PROJ, "custom.roles", ts("10:00:00"), ts("10:01:00"), 60, "who:c")
    eq(points(r), [(ts("10:00:00"), ts("10:01:00"), 1.0)], "create replaced the minute; the viewer stored nothing")
    r = api.time_series_data_list(A_PROJ, "custom.roles", ts("10:00:00"), ts("10:01:00"), 60, "who:a")
    eq(points(r), [(ts("10:00:00"), ts("10:01:00"), 2.0)], "two aggregates (recorder, admin) of 1 each")

    # -- delete a series, delete a metric ----------------------------------------------------
    expect_error("delete of a series through another project", 404, lambda: api.time_series_delete(B_PROJ, id1))
    api.time_series_delete(A_PROJ, id1)
    expect_error("delete of a deleted series", 404, lambda: api.time_series_delete(A_PROJ, id1))
    expect_error("delete of an unknown series", 404, lambda: api.time_series_delete(A_PROJ, 987654321))
    r = api.time_series_data_list(A_PROJ, "custom.requests", ts("10:00:00"), ts("10:06:00"), 60,
                                  "%s:v1,%s:prod" % (DV, ENV))
    eq(r["data_points"], [], "a deleted series has no data")
    r = api.time_series_data_list(A_PROJ, "custom.requests", ts("10:00:00"), ts("10:03:00"), 60)
    eq(points(r), [(ts("10:00:00"), ts("10:01:00"), 1003.0), (ts("10:02:00"), ts("10:03:00"), 4.0)],
       "the other series keep their data")
    eq(len(api.time_series_search(A_PROJ, metric="custom.requests")), 2, "search no longer finds it")
    r = api.time_series_data_list(A_PROJ, "custom.requests", ts("10:00:00"), ts("11:00:00"), 3600, ENV + ":prod")
    eq(points(r), [(ts("10:00:00"), ts("11:00:00"), 7.0)], "the hour holds only series 2 now")
    # the same labels again start a new series
    api.time_series_data_create(A_PROJ, [{"metric": "custom.requests", "labels": L1,
                                          "data": [{"date": ts("10:00:00"), "value": 1}]}])
    new = api.time_series_search(A_PROJ, metric="custom.requests", labels="%s:v1,%s:prod" % (DV, ENV))
    check(len(new) == 1 and new[0]["id"] > id1, "the labels come back as a new series with a new id")
    r = api.time_series_data_list(A_PROJ, "custom.requests", ts("10:00:00"), ts("11:00:00"), 60,
                                  "%s:v1,%s:prod" % (DV, ENV))
    eq(points(r), [(ts("10:00:00"), ts("10:01:00"), 1.0)], "the new series holds only the new value")

    scratch_name = fresh_metric()
    api.time_series_data_create(A_PROJ, [{"metric": scratch_name, "data": [{"date": ts("10:00:00"), "value": 3}]}])
    api.metrics_delete(A_PROJ, scratch_name)
    expect_error("get of a deleted metric", 404, lambda: api.metrics_get(A_PROJ, scratch_name))
    expect_error("delete of a deleted metric", 404, lambda: api.metrics_delete(A_PROJ, scratch_name))
    expect_error("list of a deleted metric", 404, lambda: api.time_series_data_list(
        A_PROJ, scratch_name, ts("10:00:00"), ts("10:01:00")), "metric")
    check(scratch_name not in [m["name"] for m in api.metrics_list(A_PROJ)], "a deleted metric is not listed")
    eq(api.time_series_search(A_PROJ, metric=scratch_name), [], "a deleted metric has no series")
    again = api.metrics_create(A_PROJ, {"name": scratch_name, "metric_type": "delta"})
    r = api.time_series_data_list(A_PROJ, scratch_name, ts("10:00:00"), ts("10:01:00"), 60)
    eq(r["data_points"], [], "a metric created again under a deleted name starts without data")
    api.metrics_delete(A_PROJ, again["name"])

    # -- kill -9 between the writes and the queries -----------------------------------------
    metrics_before = api.metrics_list(A_PROJ)
    api.time_series_data_create(A_PROJ, [{"metric": "custom.requests", "labels": L1,
                                          "data": [{"date": ts("10:01:00"), "value": 10},
                                                   {"date": ts("10:05:00"), "value": 20}]}])
    api.time_series_data_aggregate(A_PROJ, [{"metric": "custom.requests", "labels": L1,
                                             "data": [{"date": ts("10:00:00"), "value": 4}]}])
    v.kill9()
    v.start()
    api = CoreApi(v, ADMIN_TOKEN)
    eq(api.metrics_list(A_PROJ), metrics_before, "metric definitions survive kill -9 unchanged")
    # series 1 again holds 10:00 = 1 + 4, 10:01 = 10, 10:05 = 20
    r = api.time_series_data_list(A_PROJ, "custom.requests", ts("10:00:00"), ts("10:06:00"), 60,
                                  "%s:v1,%s:prod" % (DV, ENV))
    eq(points(r), [(ts("10:00:00"), ts("10:01:00"), 5.0), (ts("10:01:00"), ts("10:02:00"), 10.0),
                   (ts("10:05:00"), ts("10:06:00"), 20.0)], "every acknowledged point survives kill -9")
    r = api.time_series_data_list(A_PROJ, "custom.latency", ts("10:00:00"), ts("10:03:00"), 60, DV + ":v1")
    eq([p[2] for p in points(r)], [5.0, 4.0, 3.0], "gauge minutes survive kill -9")
    r = api.time_series_data_list(B_PROJ, "custom.requests", ts("10:00:00"), ts("10:01:00"), 60)
    eq([p[2] for p in points(r)], [42.0], "project b survives kill -9")
    eq(len(api.time_series_search(A_PROJ, metric="custom.requests")), 3, "series survive kill -9")
    m = api.metrics_create(A_PROJ, {"name": "custom.after", "metric_type": "gauge"})
    check(m["id"] > max(x["id"] for x in metrics_before), "ids are not reused after a restart")
finally:
    v.cleanup()
finish()
