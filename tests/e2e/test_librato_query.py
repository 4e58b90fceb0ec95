"""End to end: tags_search on GET /v1/measurements (and, or, not, parentheses, wildcards, !=),
its exclusion with tags[...], and parse errors with their position."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import Vigil, args, check, eq, finish  # noqa: E402

A = args()
T0 = 1700000040
SERIES = [({"region": "us-east-1", "db": "db-prod-1"}, 1), ({"region": "us-east-2", "db": "db-dev"}, 2),
          ({"region": "us-west", "db": "db-prod-2"}, 3), ({"db": "db-prod-3"}, 4)]

v = Vigil(A.vigil)
try:
    v.start()
    st, text, _ = v.post_json("/v1/measurements", {"time": T0, "measurements": [
        {"name": "memory", "value": val, "tags": tags} for tags, val in SERIES]})
    eq(st, 200, "ingest four series")

    def search(expr, **extra):
        params = {"start_time": T0 - 60, "end_time": T0 + 60, "resolution": 60, "tags_search": expr}
        params.update(extra)
        st, r = v.get_json("/v1/measurements/memory", params)
        if st != 200:
            return st, r
        return st, sorted(s["measurements"][0]["value"] for s in r["series"])

    eq(search("region=us-east* and db=*prod*"), (200, [1]), "the seed's example: region=us-east* and db=*prod*")
    eq(search("region=us-west or db=db-dev"), (200, [2, 3]), "or")
    eq(search("not region=us-east*"), (200, [3, 4]), "not (also series without the tag)")
    eq(search("region!=us-east*"), (200, [3]), "!= requires the tag")
    eq(search("(db=db-dev or region=us-west) and db=*prod*"), (200, [3]), "parentheses")
    eq(search("db=db-dev or region=us-west and db=*prod*"), (200, [2, 3]), "and binds tighter than or")
    eq(search("not region"), (200, [4]), "a bare tag name tests presence")
    eq(search("REGION=US-EAST-? AND NOT db='db-dev'"), (200, [1]), "keywords and values case-insensitive, quotes")
    eq(search("region=none"), (200, []), "no match is an empty series list")
    eq(search("db=*prod*", group_by="*", group_by_function="sum"), (200, [8]), "tags_search with group_by")
    st, r = search("region=us-east and")
    eq(st, 400, "malformed expression -> 400")
    check("position 19" in str(r["errors"]["params"].get("tags_search")), "the error gives the position: %s" % r)
    st, r = search("(region=a")
    eq(st, 400, "unbalanced parenthesis -> 400")
    st, r = search("region=us-west", **{"tags[db]": "*"})
    eq(st, 400, "tags_search together with tags -> 400")
    check("tags_search" in r["errors"]["params"], "the error names tags_search")

    # -- legacy GET /v1/metrics/:name summarizing options ------------------------------------------------
    B = T0 - T0 % 60
    form = []
    for i, (src, t, val) in enumerate([("s1", B, 10), ("s1", B + 60, 20), ("s2", B, 30), ("s2", B + 60, 50)]):
        form += [("gauges[%d][name]" % i, "temp"), ("gauges[%d][value]" % i, str(val)),
                 ("gauges[%d][source]" % i, src), ("gauges[%d][measure_time]" % i, str(t))]
    for i, (t, val) in enumerate([(B, 5), (B + 60, 8), (B + 120, 2)]):
        form += [("counters[%d][name]" % i, "reqs"), ("counters[%d][value]" % i, str(val)),
                 ("counters[%d][source]" % i, "s1"), ("counters[%d][measure_time]" % i, str(t))]
    st, text, _ = v.post_form("/v1/metrics", form)
    eq(st, 200, "legacy gauges and counters")

    def legacy(name, **extra):
        params = {"start_time": B, "end_time": B + 180, "resolution": 60}
        params.update(extra)
        st, r = v.get_json("/v1/metrics/" + name, params)
        if st != 200:
            return st, r
        return st, {src: [{k: p[k] for k in ("measure_time", "value", "count", "min", "max", "sum", "summarized") if k in p}
                          for p in pts] for src, pts in r["measurements"].items()}

    def rec(t, count, s, mn, mx, value=None, summarized=None):
        d = {"measure_time": t, "value": s / count if value is None else value, "count": count, "min": mn, "max": mx, "sum": s}
        if summarized is not None:
            d["summarized"] = summarized
        return d

    eq(legacy("temp", summarize_time="true"),
       (200, {"s1": [rec(B, 2, 30, 10, 20)], "s2": [rec(B, 2, 80, 30, 50)]}), "summarize_time: one record per source")
    eq(legacy("temp", summarize_sources="true"),
       (200, {"s1": [rec(B, 1, 10, 10, 10), rec(B + 60, 1, 20, 20, 20)],
              "s2": [rec(B, 1, 30, 30, 30), rec(B + 60, 1, 50, 50, 50)],
              "all": [rec(B, 2, 40, 10, 30, summarized=2), rec(B + 60, 2, 70, 20, 50, summarized=2)]}),
       "summarize_sources adds the source all")
    eq(legacy("temp", summarize_sources="true", breakout_sources="false"),
       (200, {"all": [rec(B, 2, 40, 10, 30, summarized=2), rec(B + 60, 2, 70, 20, 50, summarized=2)]}),
       "breakout_sources=false keeps only all")
    eq(legacy("temp", summarize_sources="true", summarize_time="true"),
       (200, {"s1": [rec(B, 2, 30, 10, 20)], "s2": [rec(B, 2, 80, 30, 50)], "all": [rec(B, 4, 110, 10, 50, summarized=2)]}),
       "summarize_time with summarize_sources: all is one record")
    eq(legacy("temp", group_by="max"),
       (200, {"all": [rec(B, 2, 30, 30, 30, value=30, summarized=2), rec(B + 60, 2, 50, 50, 50, value=50, summarized=2)]}),
       "group_by=max: the max of each statistic, count the total, only all")
    eq(legacy("temp", group_by="sum", breakout_sources="true")[1]["all"][0],
       rec(B, 2, 40, 40, 40, value=40, summarized=2), "group_by=sum")
    check("s1" in legacy("temp", group_by="sum", breakout_sources="true")[1], "breakout_sources=true overrides group_by's default")
    eq(legacy("reqs", summarize_time="true"), (200, {"s1": [rec(B + 60, 2, 5, 2, 3)]}),
       "counters summarize their deltas (a reset counts its new value)")
    eq(legacy("temp", group_by="median")[0], 400, "unknown group_by -> 400")
    eq(legacy("temp", summarize_time="maybe")[0], 400, "non-boolean summarize_time -> 400")

    # -- composite queries: GET /v1/metrics?compose= ------------------------------------------------------
    def compose(expr, **extra):
        params = {"compose": expr, "start_time": B, "end_time": B + 120, "resolution": 60}
        params.update(extra)
        return v.get_json("/v1/metrics", params)

    st, r = compose('sum(s("temp", "*"))')
    eq(st, 200, "GET /v1/metrics?compose=sum(...)")
    eq((r["compose"], r["resolution"], len(r["measurements"])), ('sum(s("temp", "*"))', 60, 1), "composite response shape")
    m = r["measurements"][0]
    eq(m["series"], [{"measure_time": B, "value": 40}, {"measure_time": B + 60, "value": 70}], "sum across sources")
    eq((m["query"], m["metric"]["name"], m["source"]["name"]), ({"metric": "temp", "source": "*"}, "temp", "all"),
       "query, metric and source of the result")
    st, r = compose('divide([s("temp", "s2"), s("temp", "s1")])')
    eq([p["value"] for p in r["measurements"][0]["series"]], [3, 2.5], "divide one source by another")
    st, r = compose('derive(s("te*", "s1"))')
    eq(([p["value"] for p in r["measurements"][0]["series"]], r["measurements"][0]["source"]["name"]), ([10], "s1"),
       "derive over a metric pattern")
    st, r = compose('map({source: "s*"}, derive(s("temp", "&")))')
    eq(sorted((m["source"]["name"], [p["value"] for p in m["series"]]) for m in r["measurements"]),
       [("s1", [10]), ("s2", [20])], "map over sources with & in the expression")
    st, r = compose('window(s("temp", "*"), {size: 120, function: "sum"})')
    eq(sorted([p["value"] for p in m["series"]] for m in r["measurements"]), [[30], [80]], "window of 120 s")
    st, r = compose('sum(s("temp", "*")')
    eq(st, 400, "malformed composite -> 400")
    check("position 19" in str(r["errors"]["params"].get("compose")), "composite error gives the position: %s" % r)
    st, r = compose('median(s("temp", "*"))')
    eq(st, 400, "unknown function -> 400")
    st, r = v.get_json("/v1/metrics", {"compose": 'sum(s("temp", "*"))', "resolution": 60})
    eq(st, 400, "compose without start_time -> 400")
    for start, end in ((-9223372036854775808, B), (B, 9223372036854775807), (9223372036854775000, 9223372036854775807)):
        st, r = compose('sum(s("temp", "*"))', start_time=start, end_time=end)
        check(st == 400 and ("start_time" in r["errors"]["params"] or "end_time" in r["errors"]["params"]),
              "compose with start_time %d, end_time %d (int64 limits) -> 400 naming the time" % (start, end))
    st, r = compose('sum(s("temp", "*"))', start_time=1e300)
    eq(st, 400, "a start_time no int64 holds -> 400")

    # -- persisted composites --------------------------------------------------------------------------
    FORM = "application/x-www-form-urlencoded"
    st, text, h = v.request("PUT", "/v1/metrics/temp.total", 'type=composite&composite=sum(s("temp", "*"))&display_name=Total', FORM)
    eq(st, 201, "PUT a composite metric -> 201")
    body = json.loads(text)
    eq((body["type"], body["composite"], body["display_name"]), ("composite", 'sum(s("temp", "*"))', "Total"), "composite metric body")
    st, r = v.get_json("/v1/metrics/temp.total")
    eq((st, r["type"], r["composite"]), (200, "composite", 'sum(s("temp", "*"))'), "GET its metadata")
    st, r = v.get_json("/v1/metrics/temp.total", {"start_time": B, "end_time": B + 120, "resolution": 60})
    eq((st, [p["value"] for p in r["measurements"][0]["series"]]), (200, [40, 70]), "GET with an interval evaluates it")
    st, _, _ = v.request("PUT", "/v1/metrics/temp.total", 'composite=max(s("temp", "*"))', FORM)
    eq(st, 204, "update the definition")
    st, r = v.get_json("/v1/metrics/temp.total", {"start_time": B, "end_time": B + 120, "resolution": 60})
    eq([p["value"] for p in r["measurements"][0]["series"]], [30, 50], "the new definition applies")

    # Measurements cannot be submitted to a composite metric (its values are computed): refused
    # like invalid measurements, the rest of the batch is stored.
    def stored(source):
        st, r = v.get_json("/v1/measurements/temp", {"start_time": B + 540, "end_time": B + 720, "resolution": 60,
                                                     "tags[source]": source})
        return [p["value"] for s in r.get("series", []) for p in s["measurements"]]

    st, text, _ = v.post_json("/v1/measurements", {"time": B + 600, "measurements": [
        {"name": "temp", "value": 1, "tags": {"source": "s3"}},
        {"name": "TEMP.Total", "value": 2, "tags": {"source": "s3"}},
        {"name": "temp", "value": 3, "tags": {"source": "s4"}}]})
    body = json.loads(text)
    eq(st, 400, "POST /v1/measurements naming a composite metric -> 400")
    eq(list(body["errors"]["params"]), ["measurements[1].name"], "the params error names the measurement")
    check("composite" in body["errors"]["params"]["measurements[1].name"][0], "and says why: %s" % text)
    eq(body["measurements"]["summary"], {"total": 3, "accepted": 0, "failed": 1, "filtered": 0},
       "summary of the batch: a 400 accepts nothing")
    eq((stored("s3"), stored("s4")), ([], []), "the other measurements of the refused batch are not stored")
    st, text, _ = v.post_json("/v1/measurements", {"name": "temp.total", "value": 5, "time": B + 660})
    eq((st, list(json.loads(text)["errors"]["params"])), (400, ["name"]), "a single measurement object -> 400 on name")
    st, text, _ = v.request("POST", "/v1/metrics", "measure_time=%d&source=s5&gauges[0][name]=temp.total&gauges[0][value]=1"
                            "&gauges[1][name]=temp&gauges[1][value]=7" % (B + 600), FORM)
    eq((st, list(json.loads(text)["errors"]["params"])), (400, ["gauges[0].name"]),
       "legacy POST /v1/metrics (form) naming a composite metric -> 400 on gauges[0].name")
    eq(stored("s5"), [], "nothing of the refused legacy batch is stored")
    st, text, _ = v.post_json("/v1/metrics", {"measure_time": B + 600, "source": "s6",
                                              "gauges": {"temp.total": {"value": 1}, "temp": {"value": 9}},
                                              "counters": [{"name": "Temp.Total", "value": 1}]})
    eq((st, sorted(json.loads(text)["errors"]["params"])), (400, ["counters[0].name", "gauges[temp.total].name"]),
       "legacy JSON (hashed by name, and counters) -> 400 naming each")
    eq(stored("s6"), [], "nothing of the refused legacy JSON batch is stored")
    st, r = v.get_json("/v1/metrics/temp.total")
    eq((st, r["type"]), (200, "composite"), "the composite metric is unchanged")
    st, text, _ = v.request("PUT", "/v1/metrics/bad.comp", 'type=composite&composite=sum(s("temp"', FORM)
    eq(st, 400, "malformed definition -> 400")
    check("position" in text, "with the position: " + text)
    eq(v.request("PUT", "/v1/metrics/bad.comp", "type=composite", FORM)[0], 400, "composite without definition -> 400")
    eq(v.request("PUT", "/v1/metrics/temp", 'composite=sum(s("a","*"))', FORM)[0], 400, "definition on a gauge -> 400")
    eq(v.request("DELETE", "/v1/metrics/temp.total")[0], 204, "delete a composite metric")
    st, _, _ = v.post_json("/v1/measurements", {"name": "temp.total", "value": 5, "time": B + 660})
    eq(st, 200, "once deleted, the name takes measurements again")
finally:
    v.cleanup()
finish()
