"""Scale v6 metrics facade end to end: a config file declares the `job-types` metrics type (five
columns over three Vigil metrics, choices by the `job_type` tag) and a `hosts` type; two job types
are ingested over three days, half through POST /v1/measurements and half through Kafka (the
`vigil kafka-mock` cluster, kcat); GET /v6/metrics/, /v6/metrics/{name}/ and
/v6/metrics/{name}/plot-data/ are checked against daily sums, means, minima and maxima worked out
by hand below, with and without choice filters, column and group filters, ISO datetimes and
durations, and paging across `next`; choice ids survive a restart. Configs with an unknown
aggregate, a column without a metric or two types of one name are refused with exit code 2."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from harness import ADMIN_TOKEN, ADMIN_USER, Vigil, args, check, eq, finish  # noqa: E402
from kafka_util import Mock, metrics, produce, wait_consumed  # noqa: E402

A = args()
D0 = 1444003200  # 2015-10-05T00:00:00Z
DAYS = [D0, D0 + 86400, D0 + 2 * 86400]
DT = ["2015-10-05T00:00:00", "2015-10-06T00:00:00", "2015-10-07T00:00:00"]
VERSION = {"scale-clock": "1.0", "my-job": "2.1"}

CONFIG = """
[[scale.metric_types]]
name = "job-types"
title = "Job Types"
description = "Metrics for jobs and executions grouped by job type."
choice_tag = "job_type"
filters = [{ param = "name", type = "string" }, { param = "version", type = "string" }]
groups = [{ name = "overview", title = "Overview", description = "Overall counts based on job status." },
          { name = "run_time", title = "Run Time", description = "Time spent running jobs." }]

[[scale.metric_types.columns]]
name = "completed_count"
title = "Completed Count"
description = "Number of successfully completed jobs."
units = "count"
group = "overview"
aggregate = "sum"
metric = "jobs.completed"

[[scale.metric_types.columns]]
name = "failed_count"
title = "Failed Count"
units = "count"
group = "overview"
aggregate = "sum"
metric = "jobs.failed"

[[scale.metric_types.columns]]
name = "run_time_avg"
title = "Run Time (Avg)"
units = "seconds"
group = "run_time"
aggregate = "avg"
metric = "jobs.run_time"

[[scale.metric_types.columns]]
name = "run_time_min"
title = "Run Time (Min)"
units = "seconds"
group = "run_time"
aggregate = "min"
metric = "jobs.run_time"

[[scale.metric_types.columns]]
name = "run_time_max"
title = "Run Time (Max)"
units = "seconds"
group = "run_time"
aggregate = "max"
metric = "jobs.run_time"

[[scale.metric_types]]
name = "hosts"
title = "Hosts"
choice_tag = "host"

[[scale.metric_types.columns]]
name = "completed"
aggregate = "sum"
metric = "jobs.completed"
"""

# The samples: per metric, per (job type, host) series, per day, the values reported that day.
DATA = {
    "jobs.completed": {
        ("scale-clock", "node-1"): [[3, 4], [5], [2, 2, 1]],
        ("my-job", "node-1"): [[10], [7, 1], []],
        ("my-job", "node-2"): [[5], [], [8]],
    },
    "jobs.failed": {
        ("scale-clock", "node-1"): [[1], [], [2]],
        ("my-job", "node-2"): [[], [3], []],
    },
    "jobs.run_time": {
        ("scale-clock", "node-1"): [[1, 3], [2], [4, 6]],
        ("my-job", "node-1"): [[100, 300], [50], [20]],
        ("my-job", "node-2"): [[200], [150, 250], []],
    },
}
# Worked out by hand from DATA. Sums: completed per day 7+15, 5+8, 5+8; failed 1, 3, 2.
# run_time means per choice: scale-clock 2, 2, 5; my-job (100+300+200)/3 = 200, (50+150+250)/3
# = 150, 20; across choices the mean of the two means: 101, 76, 12.5. Minima 1, 2, 4; maxima
# 300, 250, 20.
EXPECT = {
    "completed_count": [22, 13, 13],
    "failed_count": [1, 3, 2],
    "run_time_avg": [101, 76, 12.5],
    "run_time_min": [1, 2, 4],
    "run_time_max": [300, 250, 20],
}
EXPECT_CLOCK = {"completed_count": [7, 5, 5], "failed_count": [1, None, 2], "run_time_avg": [2, 2, 5],
                "run_time_min": [1, 2, 4], "run_time_max": [3, 2, 6]}
EXPECT_MYJOB = {"completed_count": [15, 8, 8], "failed_count": [None, 3, None], "run_time_avg": [200, 150, 20],
                "run_time_min": [100, 50, 20], "run_time_max": [300, 250, 20]}
COLUMNS = ["completed_count", "failed_count", "run_time_avg", "run_time_min", "run_time_max"]

samples = []  # (metric, time, value, tags)
for metric, series in DATA.items():
    for (job, host), days in series.items():
        for d, values in enumerate(days):
            for j, val in enumerate(values):
                samples.append((metric, DAYS[d] + 3600 * (j + 1) + 60 * d, val,
                                {"job_type": job, "host": host, "version": VERSION[job]}))
# Not part of any choice of job-types: no job_type tag (but a host, for the hosts type); and a
# job type seen only in a metric no column reads.
samples.append(("jobs.completed", D0 + 7200, 1000, {"host": "node-3"}))
samples.append(("jobs.other", D0 + 7200, 5, {"job_type": "ghost", "host": "node-1"}))
# Recent samples, for durations in `started`.
NOW = int(time.time())
RECENT = [(NOW - 60, 9), (NOW - 5 * 86400, 4)]
for t, val in RECENT:
    samples.append(("jobs.completed", t, val, {"job_type": "scale-clock", "host": "node-1", "version": "1.0"}))

http_part = samples[0::2]
kafka_part = samples[1::2]


def measurement(s):
    return {"name": s[0], "time": s[1], "value": s[2], "tags": s[3]}


def path_of(url):
    u = urllib.parse.urlsplit(url)
    return u.path + ("?" + u.query if u.query else "")


def values_of(result):
    return [(x["datetime"], x["value"]) for x in result["values"]]


def day_values(col, expected):
    return [(DT[i], v) for i, v in enumerate(expected[col]) if v is not None]


def refusals():
    """Configs refused at start: exit code 2, the key named on stderr."""
    bad = [
        ("unknown aggregate", 'aggregate = "sum"\nmetric = "jobs.failed"', 'aggregate = "median"\nmetric = "jobs.failed"',
         "scale.metric_types[0].columns[1].aggregate"),
        ("column without metric", 'metric = "jobs.failed"\n', "", "scale.metric_types[0].columns[1].metric"),
        ("two types of one name", 'name = "hosts"', 'name = "job-types"', "scale.metric_types[1].name"),
    ]
    d = tempfile.mkdtemp(prefix="vigil-scale-cfg-")
    for what, old, new, key in bad:
        text = CONFIG.replace(old, new, 1)
        check(text != CONFIG, "%s: the config differs from the good one" % what)
        path = os.path.join(d, what.replace(" ", "_") + ".toml")
        with open(path, "w") as f:
            f.write(text)
        p = subprocess.run([A.vigil, "serve", "--config", path, "--data-dir", os.path.join(d, "data"),
                            "--listen", "127.0.0.1:0"], capture_output=True, text=True, timeout=30)
        eq(p.returncode, 2, "%s: refused at start with exit code 2" % what)
        check(key in p.stderr, "%s: the error names %s (%r)" % (what, key, p.stderr.strip()))
    shutil.rmtree(d, ignore_errors=True)


refusals()
cfg_dir = tempfile.mkdtemp(prefix="vigil-scale-")
cfg = os.path.join(cfg_dir, "vigil.toml")
with open(cfg, "w") as f:
    f.write(CONFIG)

mock = Mock(A.vigil, partitions=2)
v = Vigil(A.vigil, extra=["--config", cfg, "--kafka-bootstrap", mock.bootstrap])
v2 = None
try:
    v.start()
    base = "http://127.0.0.1:%d" % v.port
    st, body, _ = v.post_json("/v1/measurements", {"measurements": [measurement(s) for s in http_part]})
    eq(st, 200, "POST /v1/measurements of %d samples" % len(http_part))
    half = len(kafka_part) // 2
    produce(mock.bootstrap, "measurements", 0, [json.dumps(measurement(s)) for s in kafka_part[:half]])
    produce(mock.bootstrap, "measurements", 1, [json.dumps({"measurements": [measurement(s) for s in kafka_part[half:]]})])
    wait_consumed(v, half + 1, timeout=60)
    eq(int(metrics(v).get("vigil_kafka_samples_total", 0)), len(kafka_part), "samples ingested through Kafka")

    # -- GET /v6/metrics/ ---------------------------------------------------------------------
    st, lst = v.get_json("/v6/metrics/")
    eq(st, 200, "GET /v6/metrics/")
    eq(lst.get("count"), 2, "two metrics types")
    eq((lst.get("next"), lst.get("previous")), (None, None), "one page")
    eq([r["name"] for r in lst["results"]], ["job-types", "hosts"], "types in config order")
    jt = lst["results"][0]
    eq((jt["title"], jt["description"]), ("Job Types", "Metrics for jobs and executions grouped by job type."),
       "title and description")
    eq(jt["filters"], [{"param": "name", "type": "string"}, {"param": "version", "type": "string"}], "filters")
    eq(jt["groups"][0], {"name": "overview", "title": "Overview", "description": "Overall counts based on job status."},
       "groups")
    eq(jt["columns"][0], {"name": "completed_count", "title": "Completed Count",
                          "description": "Number of successfully completed jobs.", "units": "count",
                          "group": "overview", "aggregate": "sum"}, "the column definition")
    eq([c["name"] for c in jt["columns"]], COLUMNS, "columns in config order")
    eq(lst["results"][1]["columns"][0]["group"], None, "a column without a group")
    st, lst2 = v.get_json("/v6/metrics")
    eq((st, lst2), (200, lst), "GET /v6/metrics without the trailing slash is the same answer")
    st, _, h = v.request("GET", "/v6/metrics/")
    eq(h.get("Content-Type"), "application/json", "JSON content type")
    st, p1 = v.get_json("/v6/metrics/", {"page_size": 1})
    eq((st, p1["count"], [r["name"] for r in p1["results"]], p1["previous"]), (200, 2, ["job-types"], None),
       "list page 1 of size 1")
    eq(p1["next"], base + "/v6/metrics/?page_size=1&page=2", "list next is an absolute URL")
    st, p2 = v.get_json(path_of(p1["next"]))
    eq((st, [r["name"] for r in p2["results"]], p2["next"]), (200, ["hosts"], None), "list page 2 through next")
    eq(p2["previous"], base + "/v6/metrics/?page_size=1&page=1", "list previous")

    # -- GET /v6/metrics/{name}/ --------------------------------------------------------------
    st, det = v.get_json("/v6/metrics/job-types/")
    eq(st, 200, "GET /v6/metrics/job-types/")
    eq([k for k in det], ["name", "title", "description", "filters", "groups", "columns", "choices"],
       "detail fields")
    choices = {c["name"]: c for c in det["choices"]}
    eq(sorted(choices), ["my-job", "scale-clock"], "choices: the job_type values of the columns' metrics")
    ids = {n: c["id"] for n, c in choices.items()}
    check(all(isinstance(i, int) for i in ids.values()) and ids["my-job"] != ids["scale-clock"],
          "choice ids are distinct integers (%s)" % ids)
    eq(choices["scale-clock"], {"id": ids["scale-clock"], "name": "scale-clock", "version": "1.0", "host": "node-1"},
       "scale-clock: its shared tags")
    eq(choices["my-job"], {"id": ids["my-job"], "name": "my-job", "version": "2.1"},
       "my-job: version shared, host not (two hosts)")
    st, det2 = v.get_json("/v6/metrics/job-types")
    eq((st, det2), (200, det), "detail without the trailing slash, same ids")
    st, hosts = v.get_json("/v6/metrics/hosts/")
    eq(sorted(c["name"] for c in hosts["choices"]), ["node-1", "node-2", "node-3"], "hosts choices")
    node2 = [c for c in hosts["choices"] if c["name"] == "node-2"][0]
    eq(node2, {"id": node2["id"], "name": "node-2", "job_type": "my-job", "version": "2.1"}, "node-2's shared tags")
    st, e404 = v.get_json("/v6/metrics/nope/")
    eq(st, 404, "unknown type -> 404")
    check("nope" in e404.get("detail", ""), "404 detail names the type (%s)" % e404)

    # -- GET /v6/metrics/{name}/plot-data/ ----------------------------------------------------
    PD = "/v6/metrics/job-types/plot-data/"
    st, pd = v.get_json(PD, {"started": "2015-10-01T00:00:00Z", "ended": "2015-10-31T00:00:00Z"})
    eq(st, 200, "plot-data without filters")
    eq((pd["count"], pd["next"], pd["previous"]), (5, None, None), "one result per column")
    eq([r["column"]["name"] for r in pd["results"]], COLUMNS, "results in column order")
    by_col = {r["column"]["name"]: r for r in pd["results"]}
    for col in COLUMNS:
        r = by_col[col]
        eq(values_of(r), day_values(col, EXPECT), "%s per day across choices" % col)
        check(all("id" not in x for x in r["values"]), "%s: no ids without choice filters" % col)
        eq((r["min_x"], r["max_x"]), ("2015-10-05", "2015-10-07"), "%s min_x/max_x" % col)
        eq((r["min_y"], r["max_y"]), (min(EXPECT[col]), max(EXPECT[col])), "%s min_y/max_y" % col)
    eq(by_col["run_time_avg"]["column"], {"name": "run_time_avg", "title": "Run Time (Avg)", "description": "",
                                          "units": "seconds", "group": "run_time", "aggregate": "avg"},
       "the column definition in a result")
    st, pd_noslash = v.get_json(PD[:-1], {"started": "2015-10-01T00:00:00Z", "ended": "2015-10-31T00:00:00Z"})
    eq((st, pd_noslash), (200, pd), "plot-data without the trailing slash")
    st, pd_all = v.get_json(PD, {"ended": "2015-12-31"})
    eq([values_of(r) for r in pd_all["results"]], [values_of(r) for r in pd["results"]],
       "started defaults to the beginning")

    # One choice: aggregated over that choice alone, no ids.
    st, one = v.get_json(PD, {"started": "2015-10-01", "ended": "2015-10-31", "choice_id": ids["scale-clock"]})
    eq(st, 200, "plot-data with one choice_id")
    for r in one["results"]:
        col = r["column"]["name"]
        eq(values_of(r), day_values(col, EXPECT_CLOCK), "%s of scale-clock" % col)
        check(all("id" not in x for x in r["values"]), "%s: no ids with one choice" % col)
    st, dup = v.get_json(PD + "?started=2015-10-01&ended=2015-10-31&column=completed_count&choice_id=%d&choice_id=%d"
                         % (ids["my-job"], ids["my-job"]))
    eq(values_of(dup["results"][0]), day_values("completed_count", EXPECT_MYJOB), "a repeated choice_id is one choice")
    # Two choices: values per choice with the choice's id, oldest first, by id within a day.
    st, two = v.get_json(PD + "?started=2015-10-01&ended=2015-10-31&choice_id=%d&choice_id=%d"
                         % (ids["scale-clock"], ids["my-job"]))
    eq(st, 200, "plot-data with two choice_id")
    order = sorted(ids, key=lambda n: ids[n])
    per = {"scale-clock": EXPECT_CLOCK, "my-job": EXPECT_MYJOB}
    for r in two["results"]:
        col = r["column"]["name"]
        want = [{"id": ids[n], "datetime": DT[d], "value": per[n][col][d]}
                for d in range(3) for n in order if per[n][col][d] is not None]
        eq(r["values"], want, "%s per choice" % col)
        ys = [x["value"] for x in want]
        eq((r["min_y"], r["max_y"]), (min(ys), max(ys)), "%s per choice min_y/max_y" % col)

    # Column and group filters.
    def cols(params):
        st, body = v.get_json(PD, params)
        return st, [r["column"]["name"] for r in body.get("results", [])] if st == 200 else body

    eq(cols({"column": "failed_count"}), (200, ["failed_count"]), "column=failed_count")
    eq(cols({"group": "run_time"}), (200, ["run_time_avg", "run_time_min", "run_time_max"]), "group=run_time")
    eq(cols([("column", "completed_count"), ("group", "run_time")]),
       (200, ["completed_count", "run_time_avg", "run_time_min", "run_time_max"]), "column and group together")
    eq(cols([("column", "failed_count"), ("group", "overview")]), (200, ["completed_count", "failed_count"]),
       "a column also in the group counts once")
    st, g = v.get_json(PD, [("group", "run_time"), ("started", "2015-10-01"), ("choice_id", ids["my-job"])])
    eq([values_of(r) for r in g["results"]],
       [day_values(c, EXPECT_MYJOB) for c in ["run_time_avg", "run_time_min", "run_time_max"]],
       "group filter with a choice filter")

    # Datetimes: whole UTC days that the range touches; zone offsets honoured.
    st, w = v.get_json(PD, {"column": "completed_count", "started": "2015-10-06T12:00:00Z",
                            "ended": "2015-10-07T00:00:00Z"})
    eq(values_of(w["results"][0]), [(DT[1], 13), (DT[2], 13)], "started/ended datetimes select days 2 and 3")
    st, w = v.get_json(PD, {"column": "completed_count", "started": "2015-10-06T01:00:00+02:00",
                            "ended": "2015-10-06T23:59:59+00:00"})
    eq(values_of(w["results"][0]), [(DT[0], 22), (DT[1], 13)], "an offset moves started into day 1")
    st, w = v.get_json(PD, {"column": "completed_count", "started": "2015-11-01", "ended": "2015-11-30"})
    r = w["results"][0]
    eq((r["values"], r["min_x"], r["max_x"], r["min_y"], r["max_y"]), ([], None, None, None, None),
       "a range without data: no values, null extents")

    # Durations: that long before now (the recent samples of scale-clock: 4 five days ago, 9 now).
    def day_of(t):
        return time.strftime("%Y-%m-%dT00:00:00", time.gmtime(t - t % 86400))

    def recent(started, ended=None):
        now = int(time.time())
        lo = (now - started) - (now - started) % 86400
        hi = now - (ended or 0)
        want = {}
        for t, val in RECENT:
            if lo <= t - t % 86400 <= hi:
                want[day_of(t)] = want.get(day_of(t), 0) + val
        return sorted(want.items())

    st, w = v.get_json(PD, {"column": "completed_count", "started": "PT3H0M0S"})
    eq((st, values_of(w["results"][0])), (200, recent(3 * 3600)), "started=PT3H0M0S: today's samples")
    st, w = v.get_json(PD, {"column": "completed_count", "started": "P7D", "choice_id": ids["scale-clock"]})
    eq(values_of(w["results"][0]), recent(7 * 86400), "started=P7D: both recent days")
    eq(len(w["results"][0]["values"]), 2, "P7D covers two days with data")
    st, w = v.get_json(PD, {"column": "completed_count", "started": "P1W", "ended": "P2D"})
    eq(values_of(w["results"][0]), recent(7 * 86400, 2 * 86400), "started=P1W&ended=P2D: the older recent day")
    eq([x["value"] for x in w["results"][0]["values"]], [4], "P1W..P2D holds the sample of five days ago")

    # Paging across next.
    st, pg = v.get_json(PD, {"page_size": 2, "started": "2015-10-01", "ended": "2015-10-31"})
    eq((st, pg["count"], [r["column"]["name"] for r in pg["results"]], pg["previous"]),
       (200, 5, COLUMNS[:2], None), "plot-data page 1 of size 2")
    check(pg["next"].startswith(base + PD + "?"), "next is an absolute URL (%s)" % pg["next"])
    seen = [r["column"]["name"] for r in pg["results"]]
    pages = 1
    while pg["next"]:
        st, pg = v.get_json(path_of(pg["next"]))
        eq(st, 200, "plot-data page %d through next" % (pages + 1))
        pages += 1
        seen += [r["column"]["name"] for r in pg["results"]]
        for r in pg["results"]:
            eq(values_of(r), day_values(r["column"]["name"], EXPECT), "page %d: %s values" % (pages, r["column"]["name"]))
    eq((pages, seen), (3, COLUMNS), "three pages hold every column once")
    check(pg["previous"] is not None and "page=2" in pg["previous"], "the last page links back to page 2")

    # The hosts type over the same metric, by another tag: node-3's samples count there.
    st, hp = v.get_json("/v6/metrics/hosts/plot-data/", {"started": "2015-10-05", "ended": "2015-10-05T23:00:00Z"})
    eq(values_of(hp["results"][0]), [(DT[0], 1022)], "hosts: day 1 over node-1, node-2 and node-3 (17 + 5 + 1000)")

    # -- refused queries ----------------------------------------------------------------------
    before = metrics(v).get('vigil_rejected_inputs_total{reason="bad_query"}', 0)
    bad = [
        (PD, {"column": "nope"}, "column"),
        (PD, {"column": b"\xff\xfe"}, "column"),  # not UTF-8
        (PD, {"group": "nope"}, "group"),
        (PD, {"choice_id": 99999}, "choice_id"),
        (PD, {"choice_id": "abc"}, "choice_id"),
        (PD, {"started": "yesterday"}, "started"),
        (PD, {"started": "P"}, "started"),
        (PD, {"ended": "2015-13-01"}, "ended"),
        (PD, {"started": "2015-10-07", "ended": "2015-10-05"}, "started"),
        (PD, {"page": 0}, "page"),
        (PD, {"page": 99}, "page"),
        (PD, {"page_size": 0}, "page_size"),
        (PD, {"page_size": 1001}, "page_size"),
        ("/v6/metrics/", {"page": 3, "page_size": 1}, "page"),
        ("/v6/metrics/", {"page_size": "abc"}, "page_size"),
    ]
    for path, params, param in bad:
        st, body = v.get_json(path, params)
        eq(st, 400, "%s %s -> 400" % (path, params))
        eq(body.get("parameter") if body else None, param, "%s: the error names %s (%s)" % (params, param, body))
        check(param in (body or {}).get("detail", ""), "%s: the detail names %s" % (params, param))
    after = metrics(v).get('vigil_rejected_inputs_total{reason="bad_query"}', 0)
    eq(int(after - before), len(bad), "every refused query is counted as bad_query")
    st, body = v.get_json("/v6/metrics/nope/plot-data/")
    eq(st, 404, "plot-data of an unknown type -> 404")
    st, body = v.get_json("/v6/metrics/%FF%FE/")
    eq((st, "detail" in body), (404, True), "a type name that is not UTF-8 -> 404 with a detail")
    st, body = v.get_json("/v6/metrics/job-types/plot-data/extra/")
    eq((st, "detail" in body), (404, True), "an unknown route -> 404 with a detail")
    st, body, h = v.request("POST", "/v6/metrics/", "{}", "application/json")
    eq((st, h.get("Allow")), (405, "GET"), "POST -> 405, Allow: GET")

    # -- credentials --------------------------------------------------------------------------
    st, text, h = v.request("GET", "/v6/metrics/", auth=None)
    eq(st, 401, "no credentials -> 401")
    check("detail" in json.loads(text) and h.get("WWW-Authenticate", "").startswith("Basic"),
          "401 with a detail and WWW-Authenticate")
    eq(v.request("GET", "/v6/metrics/", auth=(ADMIN_USER, "wrong"))[0], 401, "a wrong token -> 401")
    eq(v.request("GET", "/v6/metrics/", auth=None, headers={"Authorization": "Token wrong"})[0], 401,
       "Token with an unknown token -> 401")
    eq(v.request("GET", "/v6/metrics/", auth=None, headers={"Authorization": "Token " + ADMIN_TOKEN})[0], 200,
       "Token <admin token> -> 200")
    tokens = {}
    for role in ("viewer", "recorder"):
        st, text, _ = v.post_json("/v1/api_tokens", {"name": role, "role": role})
        eq(st, 201, "create a %s token" % role)
        tokens[role] = json.loads(text)["token"]
    eq(v.request("GET", "/v6/metrics/job-types/", auth=(ADMIN_USER, tokens["viewer"]))[0], 200, "viewer (Basic) reads")
    eq(v.request("GET", PD, auth=None, headers={"Authorization": "Token " + tokens["viewer"]})[0], 200,
       "viewer (Token) reads")
    st, text, _ = v.request("GET", "/v6/metrics/", auth=None, headers={"Authorization": "Token " + tokens["recorder"]})
    eq(st, 403, "recorder -> 403")
    check("detail" in json.loads(text), "403 with a detail")

    # -- choice ids survive a restart -----------------------------------------------------------
    eq(v.stop(), 0, "graceful stop")
    v2 = Vigil(A.vigil, data_dir=v.data_dir, extra=["--config", cfg])
    v2.start()
    st, det3 = v2.get_json("/v6/metrics/job-types/")
    eq({c["name"]: c["id"] for c in det3["choices"]}, ids, "the same choice ids after a restart")
    st, after_restart = v2.get_json(PD, {"started": "2015-10-01T00:00:00Z", "ended": "2015-10-31T00:00:00Z"})
    eq(after_restart, pd, "the same plot data after a restart")
    st, _ = v2.post_json("/v1/measurements", {"measurements": [
        {"name": "jobs.completed", "time": D0 + 50000, "value": 1, "tags": {"job_type": "another", "host": "node-9"}}]})[:2]
    st, det4 = v2.get_json("/v6/metrics/job-types/")
    ids4 = {c["name"]: c["id"] for c in det4["choices"]}
    check(ids4.get("my-job") == ids["my-job"] and ids4.get("scale-clock") == ids["scale-clock"]
          and ids4.get("another") not in (None, ids["my-job"], ids["scale-clock"]),
          "a new choice gets a new id, the others keep theirs (%s)" % ids4)
    eq(v2.stop(), 0, "graceful stop after the restart")
finally:
    if v2:
        v2.cleanup()
    v.cleanup()
    mock.stop()
    shutil.rmtree(cfg_dir, ignore_errors=True)
finish()
