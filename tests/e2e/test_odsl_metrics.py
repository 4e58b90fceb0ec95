"""OpenDataDSL dialect end to end: request samples of two days (yesterday and the day before, UTC)
with tags (service, source, key, application, user, ...) through Librato HTTP and Kafka (the
mock cluster), then, with Bearer tokens: metric entities (_filter, paging, _range, by id),
listMetrics, virtual metric time series for every _observed at #PT15M, #PT1H and DAILY, every
_range form (the relative one against today), a time zone, the service-path filters, stored
VarMetricTimeSeries objects read back after a restart, roles, and 400s naming the parameter --
each against values computed here from the same samples."""
import datetime
import json
import os
import random
import sys
import time
import urllib.parse
import zoneinfo

sys.path.insert(0, os.path.dirname(__file__))
from harness import ADMIN_TOKEN, Vigil, args, check, eq, finish  # noqa: E402
from kafka_util import Mock, metrics, produce, wait_consumed  # noqa: E402

A = args()

# Not across a UTC midnight: "yesterday" must stay the same day while the test runs.
while True:
    now = time.time()
    if 120 < now % 86400 < 86400 - 120:
        break
    time.sleep(5)
TODAY = int(now) // 86400 * 86400
D0, D1 = TODAY - 2 * 86400, TODAY - 86400  # the two days of samples


def day_text(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%d")


def utc_text(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


# -- the samples ---------------------------------------------------------------------------------
rng = random.Random(20)
SERVICES = {"object": ["ICE.NDEX.NLB", "AAA"], "data": ["EOD.PRICE", "SPOT"], "calendar": ["HENG", "PJM"]}
APPS, USERS = ["api", "portal", "excel"], ["alice", "bob", "carol"]
N = 480
requests = []
for i in range(N):
    t = D0 + i * 360 + rng.randrange(0, 300)  # unique seconds, in order
    svc = rng.choice(sorted(SERVICES))
    requests.append({
        "t": t, "service": svc, "source": rng.choice(["private", "public"]), "key": rng.choice(SERVICES[svc]),
        "application": rng.choice(APPS), "user": rng.choice(USERS), "httpstatus": rng.choice([200, 200, 200, 404]),
        "duration": rng.choice([10, 20, 35, 50]), "responseSize": rng.choice([100, 512, 2000]),
        "method": "get", "type": "api", "via": "http" if i % 2 == 0 else "kafka", "write": i % 4 == 0})

# (metric, time, value, tags) as ingested; tags as the engine stores them (lower-cased)
samples = []
for r in requests:
    tags = {k: str(r[k]) for k in ("service", "source", "key", "application", "user", "httpstatus", "duration",
                                   "responseSize", "method", "type")}
    ms = [("ODSLRequest.ReadRequests", 1), ("ODSLRequest.ReadRequestDuration", r["duration"]),
          ("ODSLRequest.ReadRequestResponseSize", r["responseSize"])]
    if r["write"]:
        ms.append(("ODSLRequest.WriteRequests", 1))
    for name, val in ms:
        samples.append({"metric": name, "t": r["t"], "value": val, "tags": tags, "via": r["via"]})
runs = [{"metric": "ODSLProcess.RunRequests", "t": D1 + h * 3600 + 60, "value": 1 + h % 3,
         "tags": {"service": "process", "application": "runner"}, "via": "http"} for h in range(6)]
samples += runs
# Several samples of one series in one rollup bucket: the first value of a period is then read from
# the raw samples of that bucket (a bucket keeps its last value, not its first).
BURST = [("a", 100, 7), ("b", 110, 5), ("a", 130, 3), ("a", 200, 9), ("b", 250, 4),
         ("b", 1000, 11), ("a", 1005, 13), ("b", 1010, 12), ("a", 4000, 2), ("a", 4001, 6)]
# Samples of 1971 in Africa/Monrovia, whose offset then (-00:44:30) is not a whole number of minutes:
# its day boundaries fall on no stored rollup, so those periods are read from raw samples.
OLD0 = 44585070  # 1971-06-01T00:00:00-00:44:30
samples += [{"metric": "ODSLTest.Old", "t": OLD0 - 3000 + k * 7000, "value": k % 7 + 1, "tags": {"series": "s%d" % (k % 3)},
             "via": "http"} for k in range(26)]
# Friday 2024-11-15 to Monday 2024-11-18, for the BUSINESS calendar (weekdays only).
FRI = 1731628800
samples += [{"metric": "ODSLTest.Week", "t": FRI + d * 86400 + h * 3600, "value": d + 1, "tags": {"series": "w"},
             "via": "http"} for d in range(4) for h in (1, 13)]
samples += [{"metric": "ODSLTest.Burst", "t": D1 + dt, "value": val, "tags": {"series": name}, "via": "http"}
            for (name, dt, val) in BURST]


def stored_tags(tags):
    return {k.lower(): v.lower() for k, v in tags.items()}


def lib_measurement(s):
    return {"name": s["metric"], "time": s["t"], "value": s["value"], "tags": s["tags"]}


# -- expected values ---------------------------------------------------------------------------------
def period_start(t, cal, tz):
    if tz is None:
        if cal == "BUSINESS":
            return t // 86400 * 86400 if (t // 86400 + 3) % 7 < 5 else None
        if cal == "MONTHLY":
            d = datetime.datetime.fromtimestamp(t, datetime.timezone.utc)
            return int(datetime.datetime(d.year, d.month, 1, tzinfo=datetime.timezone.utc).timestamp())
        if cal == "WEEKLY":  # Monday to Monday (1970-01-01 was a Thursday)
            days = t // 86400
            return (days - (days + 3) % 7) * 86400
        step = {"#PT15M": 900, "#PT1H": 3600, "DAILY": 86400}[cal]
        return t // step * step
    z = zoneinfo.ZoneInfo(tz)
    local = datetime.datetime.fromtimestamp(t, z)
    assert cal == "DAILY"
    midnight = datetime.datetime(local.year, local.month, local.day, tzinfo=z)
    return int(midnight.timestamp())


def label(t, tz):
    if tz is None:
        return utc_text(t)
    return datetime.datetime.fromtimestamp(t, zoneinfo.ZoneInfo(tz)).isoformat()


def matches(s, flt):
    st = stored_tags(s["tags"])
    return all(st.get(k.lower()) == str(v).lower().replace("#", "") for k, v in flt.items())


def expected(metric, cal, observed, lo=0, hi=10 ** 12, flt=None, tz=None, last=None):
    groups = {}
    for s in samples:
        if s["metric"] != metric or not matches(s, flt or {}):
            continue
        p = period_start(s["t"], cal, tz)
        if p is not None and lo <= p <= hi:
            groups.setdefault(p, []).append(s)
    out = []
    for p in sorted(groups):
        g = sorted(groups[p], key=lambda s: s["t"])
        vals = [s["value"] for s in g]
        v = {"summed": sum(vals), "averaged": sum(vals) / len(vals), "high": max(vals), "low": min(vals),
             "beginning": vals[0], "end": vals[-1]}[observed]
        out.append((label(p, tz), v))
    if last is not None:
        out = out[-last:]
    return out


def series_of(body):
    return [(d.get("time"), d.get("value")) for d in (body or {}).get("data", [])]


def same_series(got, want):
    return len(got) == len(want) and all(
        a[0] == b[0] and isinstance(a[1], (int, float)) and abs(a[1] - b[1]) <= 1e-9 * max(1, abs(b[1]))
        for a, b in zip(got, want))


# -- HTTP helpers (Bearer) -----------------------------------------------------------------------
def bearer(token):
    return {"Authorization": "Bearer " + token}


def get(v, path, params=None, token=ADMIN_TOKEN):
    if params:
        path += "?" + urllib.parse.urlencode(params)
    st, body, _ = v.request("GET", path, headers=bearer(token) if token else None, auth=None)
    try:
        return st, json.loads(body) if body else None
    except ValueError:
        return st, body


def post(v, path, obj, token=ADMIN_TOKEN):
    st, body, _ = v.request("POST", path, json.dumps(obj), "application/json",
                            headers=bearer(token) if token else None, auth=None)
    try:
        return st, json.loads(body) if body else None
    except ValueError:
        return st, body


def series_check(v, path, params, want, what, token=ADMIN_TOKEN):
    st, body = get(v, path, params, token)
    got = series_of(body) if st == 200 else None
    ok = st == 200 and same_series(got, want) and len(want) > 0
    check(ok, what if ok else "%s (status %s, got %r, expected %r)" % (what, st, got if got else body, want))
    return body


def bad_param(v, path, params, name, what):
    st, body = get(v, path, params)
    ok = st == 400 and isinstance(body, dict) and body.get("parameter") == name and name in body.get("message", "")
    check(ok, "%s -> 400 naming %s (got %s %r)" % (what, name, st, body))


mock = Mock(A.vigil, partitions=2)
v = Vigil(A.vigil, extra=["--kafka-bootstrap", mock.bootstrap])
try:
    v.start()
    # -- ingest: HTTP and Kafka, arrival order shuffled ----------------------------------------------
    http = [s for s in samples if s["via"] == "http" and s["metric"] != "ODSLTest.Burst"]
    kafka = [s for s in samples if s["via"] == "kafka"]
    rng.shuffle(http)
    rng.shuffle(kafka)
    for i in range(0, len(http), 200):
        st, text, _ = v.post_json("/v1/measurements", {"measurements": [lib_measurement(s) for s in http[i:i + 200]]})
        eq(st, 200, "POST /v1/measurements batch %d" % (i // 200))
    st, _, _ = v.post_json("/v1/measurements", {"measurements": [lib_measurement(s) for s in samples
                                                                  if s["metric"] == "ODSLTest.Burst"]})
    eq(st, 200, "POST the burst samples in time order")
    msgs = [json.dumps({"measurements": [lib_measurement(s) for s in kafka[i:i + 50]]})
            for i in range(0, len(kafka), 50)]
    produce(mock.bootstrap, "measurements", 0, msgs[:len(msgs) // 2])
    produce(mock.bootstrap, "measurements", 1, msgs[len(msgs) // 2:])
    wait_consumed(v, len(msgs), timeout=120)
    eq(int(metrics(v).get("vigil_kafka_samples_total", 0)), len(kafka), "every Kafka sample consumed")
    print("ingested %d samples over HTTP and %d over Kafka" % (len(http), len(kafka)))

    # -- tokens and roles ------------------------------------------------------------------------
    st, text, _ = v.post_json("/v1/api_tokens", {"name": "odsl viewer", "role": "viewer"})
    viewer = json.loads(text)["token"]
    st, text, _ = v.post_json("/v1/api_tokens", {"name": "odsl recorder", "role": "recorder"})
    recorder = json.loads(text)["token"]
    st, body = get(v, "/api/metric", token=None)
    eq(st, 401, "no Authorization -> 401")
    check(isinstance(body, dict) and body.get("status") == 401 and "message" in body, "401 body in the dialect's form")
    st, _ = get(v, "/api/metric", token="not-a-token")
    eq(st, 401, "unknown bearer token -> 401")
    st, _, _ = v.request("GET", "/api/metric")  # HTTP Basic is Librato's scheme, not this service's
    eq(st, 401, "Basic credentials -> 401")
    st, body = get(v, "/api/metric", token=viewer)
    eq(st, 200, "GET /api/metric with a viewer token")
    check(body.get("name") == "metric" and body.get("version") and body.get("buildTime"), "build information: %r" % body)
    st, _ = get(v, "/api/metric", token=recorder)
    eq(st, 200, "recorder tokens may read")

    # -- listMetrics ---------------------------------------------------------------------------------
    st, body = get(v, "/api/metric/v1", {"_function": "listMetrics", "provider": "ODSLRequest"}, viewer)
    eq((st, body), (200, ["ReadRequestDuration", "ReadRequestResponseSize", "ReadRequests", "WriteRequests"]),
       "listMetrics provider=ODSLRequest")
    st, body = get(v, "/api/metric/v1", {"_function": "listMetrics", "provider": "odslprocess"})
    eq((st, body), (200, ["RunRequests"]), "listMetrics matches the provider in any case")
    st, body = get(v, "/api/metric/v1", {"_function": "listMetrics", "provider": "Nobody"})
    eq((st, body), (200, []), "listMetrics of an unknown provider is empty")
    bad_param(v, "/api/metric/v1", {"_function": "listMetrics"}, "provider", "listMetrics without provider")
    bad_param(v, "/api/metric/v1", {"_function": "listEverything"}, "_function", "an unknown function")

    # -- entities --------------------------------------------------------------------------------
    def entity_want(s):
        tags = stored_tags(s["tags"])
        e = {"provider": s["metric"].split(".", 1)[0], "metric": s["metric"].split(".", 1)[1],
             "timestamp": utc_text(s["t"]) + "Z", "value": s["value"]}
        for k, val in tags.items():
            name = {"responsesize": "responseSize"}.get(k, k)
            e[name] = int(val) if k in ("duration", "responsesize", "httpstatus") else val
        return e

    def strip(e):
        return {k: val for k, val in e.items() if k != "_id"}

    reads = sorted([s for s in samples if s["metric"] == "ODSLRequest.ReadRequests"], key=lambda s: -s["t"])
    f_reads = json.dumps({"provider": "ODSLRequest", "metric": "ReadRequests"})
    st, page1 = get(v, "/api/metric/v1", {"_filter": f_reads, "_limit": 50}, viewer)
    eq(st, 200, "entities of ReadRequests")
    eq([strip(e) for e in page1 or []], [entity_want(s) for s in reads[:50]],
       "the 50 newest ReadRequests entities, newest first, tags as typed fields")
    check(all(len(e.get("_id", "")) == 24 for e in page1 or []), "entity ids are 24 hex digits")
    st, page2 = get(v, "/api/metric/v1", {"_filter": f_reads, "_limit": 50, "_skip": 50})
    eq([strip(e) for e in page2 or []], [entity_want(s) for s in reads[50:100]], "the second page (_skip=50)")
    check(not set(e["_id"] for e in page1) & set(e["_id"] for e in page2), "pages do not overlap")
    n_d1 = sum(1 for s in reads if s["t"] >= D1)
    st, deep = get(v, "/api/metric/v1", {"_filter": f_reads, "_limit": 7, "_skip": n_d1 + 3})
    eq([strip(e) for e in deep or []], [entity_want(s) for s in reads[n_d1 + 3:n_d1 + 10]],
       "a page past all of yesterday's entities (whole days skipped)")
    f_api = json.dumps({"metric": "ReadRequests", "Application": "API", "user": "alice"})
    want = [s for s in reads if s["tags"]["application"] == "api" and s["tags"]["user"] == "alice"]
    st, body = get(v, "/api/metric/v1", {"_filter": f_api, "_limit": 1000})
    eq([strip(e) for e in body or []], [entity_want(s) for s in want], "_filter on application and user (any case)")
    st, body = get(v, "/api/metric/v1", {"_filter": json.dumps({"metric": "ReadRequestDuration", "httpstatus": 404}),
                                         "_limit": 1000})
    want = sorted([s for s in samples if s["metric"] == "ODSLRequest.ReadRequestDuration" and
                   s["tags"]["httpstatus"] == "404"], key=lambda s: -s["t"])
    eq([strip(e) for e in body or []], [entity_want(s) for s in want], "_filter with a number (httpstatus 404)")
    lo, hi = D1 + 3600, D1 + 3 * 3600 - 1
    st, body = get(v, "/api/metric/v1", {"_filter": f_reads, "_limit": 1000,
                                         "_range": "between(%sT01:00:00,%sT02:59:59)" % (day_text(D1), day_text(D1))})
    eq([strip(e) for e in body or []], [entity_want(s) for s in reads if lo <= s["t"] <= hi],
       "entities within a between() range")
    st, body = get(v, "/api/metric/v1", {"_filter": f_reads, "_range": "last(3)"})
    eq([strip(e) for e in body or []], [entity_want(s) for s in reads[:3]], "entities: last(3) is the newest three")
    st, body = get(v, "/api/metric/v1", {"_limit": 3})
    latest = max(r["t"] for r in requests)
    eq(sorted((e.get("metric"), e.get("timestamp")) for e in body or []),
       sorted((m, utc_text(latest) + "Z") for m in ["ReadRequestDuration", "ReadRequestResponseSize", "ReadRequests"]),
       "without a filter: the newest samples of every metric")
    one = page2[7]
    st, body = get(v, "/api/metric/v1/" + one["_id"], token=viewer)
    eq((st, body), (200, one), "GET /api/metric/v1/{id} returns the entity")
    st, body = get(v, "/api/metric/v1/" + one["_id"][:18] + "ffffff")
    eq(st, 404, "an unknown id -> 404")
    check(isinstance(body, dict) and body.get("status") == 404, "404 body in the dialect's form")
    st, _ = get(v, "/api/metric/v1/not-an-id")
    eq(st, 404, "a malformed id -> 404")
    bad_param(v, "/api/metric/v1", {"_filter": "{bad"}, "_filter", "entities with a malformed _filter")
    bad_param(v, "/api/metric/v1", {"_limit": "0"}, "_limit", "_limit=0")

    # -- virtual time series: every observed at #PT15M, #PT1H, DAILY ----------------------------------
    frm = "from(%s)" % day_text(D0)
    for cal in ("#PT15M", "#PT1H", "DAILY"):
        for obs in ("summed", "averaged", "high", "low", "beginning", "end"):
            series_check(v, "/api/metric/v1", {"_metric": "ODSLRequest/ReadRequestDuration", "_calendar": cal,
                                               "_observed": obs, "_range": frm},
                         expected("ODSLRequest.ReadRequestDuration", cal, obs, D0), "%s %s of durations" % (cal, obs))
    body = series_check(v, "/api/metric/v1", {"_metric": "ODSLRequest/ReadRequests", "_calendar": "#PT1H",
                                              "_observed": "sum", "_range": frm},
                        expected("ODSLRequest.ReadRequests", "#PT1H", "summed", D0), "#PT1H sum (alias) of requests",
                        token=viewer)
    eq({k: (body or {}).get(k) for k in ("_type", "_id", "calendar", "timezone", "start")},
       {"_type": "VarTimeSeries", "_id": "ODSLRequest/ReadRequests", "calendar": "#PT1H", "timezone": "UTC",
        "start": expected("ODSLRequest.ReadRequests", "#PT1H", "summed", D0)[0][0]}, "the VarTimeSeries fields")
    check(all(d.get("_type") == "TimeValue" for d in (body or {}).get("data", [])), "data items are TimeValues")
    series_check(v, "/api/metric/v1", {"_metric": "ODSLRequest/WriteRequests", "_calendar": "DAILY",
                                       "_observed": "summed"},
                 expected("ODSLRequest.WriteRequests", "DAILY", "summed"), "no _range: every period")

    for cal in ("#PT15M", "#PT1H", "DAILY"):
        for obs in ("beginning", "end", "summed"):
            series_check(v, "/api/metric/v1", {"_metric": "ODSLTest/Burst", "_calendar": cal, "_observed": obs},
                         expected("ODSLTest.Burst", cal, obs), "%s %s of a series with several samples per bucket"
                         % (cal, obs))
    for obs in ("summed", "high", "beginning", "end"):
        series_check(v, "/api/metric/v1", {"_metric": "ODSLTest/Old", "_calendar": "DAILY", "_observed": obs,
                                           "_range": "from(1971-06-01, Africa/Monrovia)"},
                     expected("ODSLTest.Old", "DAILY", obs, OLD0, tz="Africa/Monrovia"),
                     "DAILY %s in Africa/Monrovia 1971 (from raw samples)" % obs)
    for cal in ("BUSINESS", "DAILY"):
        series_check(v, "/api/metric/v1", {"_metric": "ODSLTest/Week", "_calendar": cal, "_observed": "summed",
                                           "_range": "from(2024-11-15)"},
                     expected("ODSLTest.Week", cal, "summed", FRI), "%s from Friday to Monday" % cal)
    eq(len(expected("ODSLTest.Week", "BUSINESS", "summed", FRI)), 2, "BUSINESS leaves the weekend out")
    eq([val for _, val in expected("ODSLTest.Burst", "#PT15M", "beginning")], [7, 11, 2],
       "the burst's first values per 15 minutes")

    # -- every _range form --------------------------------------------------------------------------
    M = {"_metric": "ODSLRequest/ReadRequests", "_calendar": "#PT1H", "_observed": "summed"}
    series_check(v, "/api/metric/v1", dict(M, _range="between(%sT06:00:00, %sT11:59:59)" % (day_text(D0), day_text(D0))),
                 expected("ODSLRequest.ReadRequests", "#PT1H", "summed", D0 + 6 * 3600, D0 + 11 * 3600),
                 "between two datetimes")
    series_check(v, "/api/metric/v1", dict(M, _range="between(%sT06:30:00,%sT11:00:00)" % (day_text(D0), day_text(D0))),
                 expected("ODSLRequest.ReadRequests", "#PT1H", "summed", D0 + 6 * 3600, D0 + 11 * 3600),
                 "between mid-period datetimes: the periods overlapping the range")
    series_check(v, "/api/metric/v1", dict(M, _range=day_text(D1)),
                 expected("ODSLRequest.ReadRequests", "#PT1H", "summed", D1, D1 + 86399), "a single date")
    series_check(v, "/api/metric/v1", dict(M, _range="within(%s)" % day_text(D0)),
                 expected("ODSLRequest.ReadRequests", "#PT1H", "summed", D0, D0 + 86399), "within(date)")
    week = period_start(D1, "WEEKLY", None)
    series_check(v, "/api/metric/v1", dict(M, _calendar="WEEKLY", _range=day_text(D1)),
                 expected("ODSLRequest.ReadRequests", "WEEKLY", "summed", week, week), "WEEKLY of a date: its week")
    series_check(v, "/api/metric/v1", dict(M, _calendar="MONTHLY", _observed="summed", _range="from(%s)" % day_text(D0)),
                 expected("ODSLRequest.ReadRequests", "MONTHLY", "summed", period_start(D0, "MONTHLY", None)),
                 "MONTHLY from a date: the months from the one holding it")
    series_check(v, "/api/metric/v1", dict(M, _calendar="#PT15M", _range="within(%sT10:20:00)" % day_text(D1)),
                 expected("ODSLRequest.ReadRequests", "#PT15M", "summed", D1 + 36900, D1 + 36900),
                 "within(datetime): the period holding it")
    series_check(v, "/api/metric/v1", dict(M, _range="last(3)"),
                 expected("ODSLRequest.ReadRequests", "#PT1H", "summed", last=3), "last(3)")
    series_check(v, "/api/metric/v1", dict(M, _range="between(T-1Dh0m0s0,T-1Dh23m59s59)"),
                 expected("ODSLRequest.ReadRequests", "#PT1H", "summed", D1, D1 + 86399),
                 "between(T-1Dh0m0s0,T-1Dh23m59s59): yesterday")
    series_check(v, "/api/metric/v1", dict(M, _calendar="DAILY", _range="from(T-2D)"),
                 expected("ODSLRequest.ReadRequests", "DAILY", "summed", D0), "from(T-2D)")
    ny = "America/New_York"
    d0 = datetime.datetime.fromtimestamp(D0, datetime.timezone.utc)
    ny_from = int(datetime.datetime(d0.year, d0.month, d0.day, tzinfo=zoneinfo.ZoneInfo(ny)).timestamp())
    body = series_check(v, "/api/metric/v1", dict(M, _calendar="DAILY", _range="from(%s, %s)" % (day_text(D0), ny)),
                        expected("ODSLRequest.ReadRequests", "DAILY", "summed", ny_from, tz=ny),
                        "DAILY in America/New_York: local midnights")
    eq((body or {}).get("timezone"), ny, "the series names its time zone")

    # -- _filter and the service paths ---------------------------------------------------------------
    series_check(v, "/api/object/v1", dict(M, _range=frm, _filter=json.dumps({"application": "api"})),
                 expected("ODSLRequest.ReadRequests", "#PT1H", "summed", D0, flt={"service": "object", "application": "api"}),
                 "/api/object/v1 with _filter application=api")
    series_check(v, "/api/object/v1", dict(M, _metric="ODSLRequest/ReadRequestDuration", _observed="averaged",
                                           _range="between(T-1Dh0m0s0,T-1Dh23m59s59)"),
                 expected("ODSLRequest.ReadRequestDuration", "#PT1H", "averaged", D1, D1 + 86399, {"service": "object"}),
                 "/api/object/v1: averaged durations of yesterday")
    series_check(v, "/api/data/v1/private", dict(M, _metric="ODSLRequest/ReadRequestResponseSize", _observed="high",
                                                 _range="between(T-1Dh0m0s0,T-1Dh23m59s59)"),
                 expected("ODSLRequest.ReadRequestResponseSize", "#PT1H", "high", D1, D1 + 86399,
                          {"service": "data", "source": "private"}), "/api/data/v1/private: highest response sizes")
    series_check(v, "/api/object/v1/private/ICE.NDEX.NLB", dict(M, _range=day_text(D1)),
                 expected("ODSLRequest.ReadRequests", "#PT1H", "summed", D1, D1 + 86399,
                          {"service": "object", "source": "private", "key": "ICE.NDEX.NLB"}),
                 "/api/object/v1/private/ICE.NDEX.NLB")
    series_check(v, "/api/calendar/v1/public/%23HENG", dict(M, _range=frm),
                 expected("ODSLRequest.ReadRequests", "#PT1H", "summed", D0,
                          flt={"service": "calendar", "source": "public", "key": "HENG"}),
                 "/api/calendar/v1/public/%23HENG selects key heng")
    series_check(v, "/api/calendar/v1/private", dict(M, _calendar="DAILY", _range=frm),
                 expected("ODSLRequest.ReadRequests", "DAILY", "summed", D0, flt={"service": "calendar", "source": "private"}),
                 "/api/calendar/v1/private")
    st, body = get(v, "/api/metric/v1", dict(M, _filter=json.dumps({"application": "nobody"})))
    eq((st, series_of(body)), (200, []), "a filter nothing matches: no periods")
    st, body = get(v, "/api/object/v1")
    eq((st, (body or {}).get("parameter")), (400, "_metric"), "a service path without _metric -> 400 naming _metric")

    # -- bad input -----------------------------------------------------------------------------
    before = metrics(v).get('vigil_rejected_inputs_total{reason="bad_query"}', 0)
    bad_param(v, "/api/metric/v1", dict(M, _metric="ODSLRequest"), "_metric", "_metric without a slash")
    bad_param(v, "/api/metric/v1", dict(M, _calendar="#PT7M"), "_calendar", "an unknown calendar")
    bad_param(v, "/api/metric/v1", {"_metric": "ODSLRequest/ReadRequests"}, "_calendar", "no _calendar")
    bad_param(v, "/api/metric/v1", dict(M, _observed="median"), "_observed", "an unknown _observed")
    bad_param(v, "/api/metric/v1", dict(M, _range="between(%s,%sT00:00:00)" % (day_text(D1), day_text(D0))),
              "_range", "a range ending before it starts")
    bad_param(v, "/api/metric/v1", dict(M, _range="from(2024-13-01)"), "_range", "a malformed date")
    bad_param(v, "/api/metric/v1", dict(M, _range="from(2024-11-20, Mars/Olympus)"), "_range", "an unknown time zone")
    bad_param(v, "/api/object/v1", dict(M, _filter='["application"]'), "_filter", "a _filter that is not an object")
    after = metrics(v).get('vigil_rejected_inputs_total{reason="bad_query"}', 0)
    eq(after - before, 8, "each 400 counted as a rejected query")

    # -- stored VarMetricTimeSeries ---------------------------------------------------------------
    obj = {"_id": "AAA",
           "PROCESS_RUNS_HOURLY": {"_id": "PROCESS_RUNS_HOURLY", "_type": "VarMetricTimeSeries",
                                   "provider": "ODSLProcess", "metric": "RunRequests", "calendar": "#PT1H",
                                   "observed": "summed"},
           "API_READS_DAILY": {"_type": "VarMetricTimeSeries", "provider": "ODSLRequest", "metric": "ReadRequests",
                               "calendar": "DAILY", "observed": "summed", "filter": {"application": "api"},
                               "name": "API reads", "description": "read requests of the api application"},
           "owner": "ops"}
    st, _ = post(v, "/api/object/v1", obj, token=viewer)
    eq(st, 403, "a viewer cannot write objects")
    st, _ = post(v, "/api/object/v1", obj, token=recorder)
    eq(st, 403, "a recorder cannot write objects")
    st, _ = post(v, "/api/object/v1", obj, token=None)
    eq(st, 401, "writing without a token -> 401")
    st, body = post(v, "/api/object/v1", {"X": obj["PROCESS_RUNS_HOURLY"]})
    eq((st, (body or {}).get("parameter")), (400, "_id"), "an object without _id -> 400 naming _id")
    bad = json.loads(json.dumps(obj))
    bad["_id"] = "BBB"
    bad["PROCESS_RUNS_HOURLY"]["calendar"] = "FORTNIGHTLY"
    st, body = post(v, "/api/object/v1", bad)
    eq((st, (body or {}).get("parameter")), (400, "PROCESS_RUNS_HOURLY.calendar"), "a bad calendar -> 400 naming it")
    st, _ = get(v, "/api/object/v1/private/BBB")
    eq(st, 404, "a refused object is not stored")
    st, body = post(v, "/api/object/v1", obj)
    eq(st, 201, "POST /api/object/v1 -> 201")
    runs_want = expected("ODSLProcess.RunRequests", "#PT1H", "summed", D1)
    api_want = expected("ODSLRequest.ReadRequests", "DAILY", "summed", D0, flt={"application": "api"})

    def stored_checks(when):
        st, body = get(v, "/api/object/v1/private/AAA", token=viewer)
        eq(st, 200, "GET /api/object/v1/private/AAA " + when)
        check(isinstance(body, dict) and body.get("owner") == "ops" and
              body.get("API_READS_DAILY", {}).get("filter") == {"application": "api"} and
              body.get("API_READS_DAILY", {}).get("_id") == "API_READS_DAILY", "the object as stored " + when)
        b = series_check(v, "/api/data/v1/private/AAA:PROCESS_RUNS_HOURLY", {"_range": "from(%s)" % day_text(D1)},
                         runs_want, "stored PROCESS_RUNS_HOURLY evaluated " + when, token=viewer)
        eq((b or {}).get("_id"), "AAA:PROCESS_RUNS_HOURLY", "the stored series' _id " + when)
        series_check(v, "/api/data/v1/private/AAA:API_READS_DAILY", {"_range": "between(T-2D,T-1D)"},
                     api_want, "stored API_READS_DAILY (with its filter) evaluated " + when)

    stored_checks("before the restart")
    st, _ = get(v, "/api/data/v1/private/AAA:NOPE")
    eq(st, 404, "an unknown property -> 404")
    st, body = get(v, "/api/data/v1/private/AAA:API_READS_DAILY", {"_range": "between(T-1D,T-2D)"})
    eq((st, (body or {}).get("parameter")), (400, "_range"), "a stored series with a reversed range -> 400")

    # -- restart -------------------------------------------------------------------------------
    eq(v.stop(), 0, "SIGTERM: clean exit")
    v.start()
    stored_checks("after the restart")
    st, body = get(v, "/api/metric/v1", {"_filter": f_reads, "_limit": 50})
    eq((st, body), (200, page1), "the same entities, with the same ids, after the restart")
    st, body = get(v, "/api/metric/v1/" + one["_id"])
    eq((st, body), (200, one), "GET /api/metric/v1/{id} after the restart")
    series_check(v, "/api/metric/v1", dict(M, _observed="beginning", _range=frm, _metric="ODSLRequest/ReadRequestDuration"),
                 expected("ODSLRequest.ReadRequestDuration", "#PT1H", "beginning", D0), "beginning after the restart")
finally:
    v.cleanup()
    mock.stop()
finish()
