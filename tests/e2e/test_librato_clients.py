"""What the official Librato clients (librato-metrics for Ruby, python-librato) rely on, one
function per behaviour: the request a client sends, the answer, and the stored state.
  - annotation streams: `events` is an object keyed by source name;
  - `exclude` on batch metric updates and deletes (synchronous and as a job);
  - type conflicts: a gauge under a counter's name (or the reverse) is a 400 naming it;
  - a 4xx stores nothing: a partly invalid batch is refused whole, and its resend counts once;
  - metric properties given on measurements are used when the metric is created;
  - spaces may share a name;
  - charts keep what clients send, stream ids included;
  - from the route audit: absolute links.next.href, tag negation and absence, sources searched
    by display name, source_lag, alerts?version=1, subject.chart.sources in snapshots."""
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Vigil, args, check, eq, finish, hdr  # noqa: E402

A = args()
T0 = (int(time.time()) // 3600 - 2) * 3600
FORM = "application/x-www-form-urlencoded"


def metric_names(v):
    st, r = v.get_json("/v1/metrics", {"length": 100})
    return sorted(m["name"] for m in r["metrics"])


def sums(v, name, start=T0, end=None):
    st, r = v.get_json("/v1/measurements/" + name, {"start_time": start, "end_time": end or start + 600,
                                                     "resolution": 60, "summary_function": "sum"})
    if st != 200:
        return st
    return [(m["time"], m["value"]) for s in r["series"] for m in s["measurements"]]


def wait_job(v, loc):
    deadline = time.time() + 30
    while time.time() < deadline:
        st, r = v.get_json(loc)
        if r.get("state") in ("complete", "failed"):
            return r
        time.sleep(0.1)
    return {}


def annotation_events_keyed_by_source(v):
    for body in ({"title": "Deployed v91", "start_time": T0},
                 {"title": "Chef run", "source": "box1", "start_time": T0 + 10},
                 {"title": "Chef again", "source": "box1", "start_time": T0 + 20}):
        eq(v.post_json("/v1/annotations/api-deploys", body)[0], 201, "annotation %s" % body["title"])
    # python-librato: stream.events[source]; the Ruby client: annos["events"]["unassigned"].
    st, r = v.get_json("/v1/annotations/api-deploys", {"start_time": T0 - 1, "end_time": T0 + 60})
    eq(st, 200, "GET a stream with a time interval")
    events = r.get("events")
    check(isinstance(events, dict), "events is an object keyed by source name: %r" % (events,))
    events = events if isinstance(events, dict) else {}
    eq(sorted(events), ["box1", "unassigned"], "one key per source, 'unassigned' without one")
    eq([e["title"] for e in events.get("unassigned", [])], ["Deployed v91"], "events['unassigned']")
    eq([e["title"] for e in events.get("box1", [])], ["Chef run", "Chef again"], "events['box1'] by start time")
    st, r = v.get_json("/v1/annotations/api-deploys", {"start_time": T0 + 15, "end_time": T0 + 60})
    eq({k: [e["title"] for e in x] for k, x in r["events"].items()}, {"box1": ["Chef again"]},
       "the time interval selects the events, still keyed by source")


def exclude_on_batch_metric_routes(v):
    for n in ("foo", "foobar", "foobaz", "fox", "other"):
        eq(v.post_json("/v1/measurements", {"measurements": [{"name": n, "value": 1, "time": T0}]})[0], 200, n)
    # delete_metrics names: 'fo*', exclude: ['foobar']
    st, _, _ = v.request("DELETE", "/v1/metrics", json.dumps({"names": "fo*", "exclude": ["foobar"]}),
                         "application/json")
    eq(st, 204, "DELETE /v1/metrics with a wildcard and exclude")
    eq(metric_names(v), ["foobar", "other"], "the excluded metric survives the wildcard delete")
    eq(sums(v, "foobar"), [(T0, 1)], "the excluded metric keeps its data")
    for n in ("foo1", "foo2", "foo3", "foo4"):
        v.post_json("/v1/measurements", {"measurements": [{"name": n, "value": 1, "time": T0}]})
    # PUT with an exclude given as one name with a wildcard
    st, _, _ = v.request("PUT", "/v1/metrics", json.dumps({"names": ["foo*"], "exclude": "foo?",
                                                           "display_name": "Foos"}), "application/json")
    eq(st, 204, "PUT /v1/metrics with exclude as one pattern")
    shown = {m["name"]: m.get("display_name") for m in v.get_json("/v1/metrics", {"length": 100})[1]["metrics"]}
    eq({n: shown.get(n) for n in ("foobar", "foo1", "foo4")}, {"foobar": "Foos", "foo1": None, "foo4": None},
       "PUT updates the selection less the excluded names")
    eq(v.request("DELETE", "/v1/metrics", json.dumps({"names": ["foo*"], "exclude": 5}), "application/json")[0],
       400, "exclude that is not names -> 400")
    eq(len(metric_names(v)), 6, "the refused delete deleted nothing")


def exclude_in_the_job_path(v2):
    for n in ("a1", "a2", "a3", "a4", "keep1", "keep2"):
        v2.post_json("/v1/measurements", {"measurements": [{"name": n, "value": 1, "time": T0}]})
    st, _, h = v2.request("DELETE", "/v1/metrics?names%5B%5D=*&exclude%5B%5D=keep*")
    eq(st, 202, "a delete over the job threshold runs as a job")
    loc = hdr(h, "Location") or ""
    eq(wait_job(v2, loc).get("state"), "complete", "the job completes")
    eq(metric_names(v2), ["keep1", "keep2"], "the job honours exclude (query-string form)")


def type_conflicts_are_refused(v):
    st, _, _ = v.post_json("/v1/metrics", {"counters": [{"name": "hits", "value": 10, "measure_time": T0}]})
    eq(st, 200, "a counter is created")
    st, body, _ = v.post_json("/v1/measurements", {"measurements": [{"name": "hits", "value": 1, "time": T0 + 60}]})
    eq(st, 400, "a gauge under the counter's name -> 400")
    check(re.search(r"'hits' is a counter, but was submitted as different type",
                    " ".join(json.loads(body)["errors"]["params"].get("type", []))) is not None,
          "params.type names the measurement in Librato's words (the statsd backend parses them): " + body)
    st, body, _ = v.post_json("/v1/metrics", {"gauges": [{"name": "hits", "value": 1, "measure_time": T0 + 60}]})
    eq(st, 400, "a legacy gauge under the counter's name -> 400")
    eq(sums(v, "hits"), [(T0, 10)], "nothing of the conflicting submissions was stored")
    st, _, _ = v.post_json("/v1/metrics", {"counters": [{"name": "hits", "value": 15, "measure_time": T0 + 60}]})
    eq(st, 200, "the next correct submission succeeds")
    eq(sums(v, "hits"), [(T0, 10), (T0 + 60, 15)], "and is stored")
    # The reverse, and within one batch.
    v.post_json("/v1/measurements", {"measurements": [{"name": "temp", "value": 20, "time": T0}]})
    st, body, _ = v.post_json("/v1/metrics", {"counters": [{"name": "temp", "value": 1, "measure_time": T0}]})
    eq(st, 400, "a counter under a gauge's name -> 400")
    st, body, _ = v.post_json("/v1/metrics", {"gauges": [{"name": "fresh", "value": 1, "measure_time": T0}],
                                              "counters": [{"name": "fresh", "value": 1, "measure_time": T0}]})
    eq(st, 400, "one new metric as gauge and counter in one batch -> 400")
    eq(v.get_json("/v1/metrics/fresh")[0], 404, "and the metric was not created")
    st, body, _ = v.post_json("/v1/metrics", {"gauges": [{"name": "g1", "value": 1, "type": "counter"}]})
    eq(st, 400, "a legacy type that contradicts its section -> 400")
    check("type" in json.loads(body)["errors"]["params"].get("gauges[0].type", [""])[0] or
          "gauges[0].type" in body, "the error names gauges[0].type: " + body)


def a_4xx_stores_nothing(v):
    batch = {"measurements": [{"name": "jobs", "value": 1, "time": T0, "tags": {"q": "a"}},
                              {"name": "jobs", "value": 2, "time": T0, "tags": {"q": "b"}},
                              {"name": "jobs", "value": "NaN?", "time": T0, "tags": {"q": "c"}}]}
    st, body, _ = v.post_json("/v1/measurements", batch)
    eq(st, 400, "partly invalid batch -> 400")
    r = json.loads(body)
    check("measurements[2].value" in r["errors"]["params"], "the bad item is named: " + body)
    eq(r["measurements"]["summary"]["accepted"], 0, "the summary says nothing was accepted")
    eq(v.get_json("/v1/measurements/jobs", {"start_time": T0, "resolution": 60})[0], 404, "nothing stored")
    # The Ruby client's queue resends after fixing; each value counts once.
    batch["measurements"][2]["value"] = 3
    eq(v.post_json("/v1/measurements", batch)[0], 200, "the corrected batch")
    st, r = v.get_json("/v1/measurements/jobs", {"start_time": T0, "end_time": T0 + 60, "resolution": 60,
                                                 "summary_function": "sum", "group_by": "*", "group_by_function": "sum"})
    eq([m["value"] for s in r["series"] for m in s["measurements"]], [6], "each value counted once: 1 + 2 + 3")
    # The legacy format, JSON and form.
    st, _, _ = v.post_json("/v1/metrics", {"gauges": [{"name": "lg", "value": 1, "measure_time": T0},
                                                      {"name": "lg", "value": "x", "measure_time": T0}]})
    eq(st, 400, "legacy batch with a bad gauge -> 400")
    st, _, _ = v.request("POST", "/v1/metrics", "gauges[0][name]=lg&gauges[0][value]=1&gauges[1][name]=lg!"
                         "&gauges[1][value]=2", FORM)
    eq(st, 400, "legacy form batch with a bad name -> 400")
    eq(v.get_json("/v1/metrics/lg")[0], 404, "nothing of either legacy batch stored")


def metric_properties_in_submissions(v):
    st, _, _ = v.post_json("/v1/measurements", {"measurements": [
        {"name": "cpu.user", "value": 1, "time": T0},
        {"name": "cpu.user", "value": 2, "time": T0 + 60, "display_name": "CPU user", "description": "user time",
         "period": 60, "attributes": {"display_units_short": "%"}}]})
    eq(st, 200, "measurements with metric properties")
    st, m = v.get_json("/v1/metrics/cpu.user")
    eq((m.get("display_name"), m.get("description"), m.get("period")), ("CPU user", "user time", 60),
       "properties of the batch's second measurement are used when the metric is created")
    eq(m.get("attributes", {}).get("display_units_short"), "%", "attributes from the submission")
    check(m.get("attributes", {}).get("created_by_ua", "").startswith("Python-urllib"),
          "created_by_ua is the POST's User-Agent: %r" % m.get("attributes"))
    st, _, _ = v.post_json("/v1/measurements", {"measurements": [
        {"name": "cpu.user", "value": 3, "time": T0 + 120, "description": "changed"}]})
    eq(st, 200, "a later submission with a description")
    eq(v.get_json("/v1/metrics/cpu.user")[1].get("description"), "user time",
       "properties do not update an existing metric")
    # python-librato: submit(name, value, description=...) posts the legacy format.
    st, _, _ = v.post_json("/v1/metrics", {"gauges": [{"name": "py.gauge", "value": 5, "description": "from python",
                                                       "display_name": "Py", "type": "gauge"}]})
    eq(st, 200, "legacy gauge with description")
    st, m = v.get_json("/v1/metrics/py.gauge")
    eq((m.get("description"), m.get("display_name")), ("from python", "Py"), "the description is read back")
    st, _, _ = v.request("POST", "/v1/metrics", "counters[0][name]=py.count&counters[0][value]=1"
                         "&counters[0][description]=form%20counter", FORM)
    eq(st, 200, "legacy form counter with description")
    eq(v.get_json("/v1/metrics/py.count")[1].get("description"), "form counter", "form description read back")
    st, body, _ = v.post_json("/v1/measurements", {"measurements": [{"name": "x.y", "value": 1, "description": 5}]})
    eq(st, 400, "a description that is not a string -> 400")
    check("measurements[0].description" in body, "named: " + body)


def spaces_may_share_a_name(v):
    ids = []
    for _ in range(3):
        st, text, _ = v.post_json("/v1/spaces", {"name": "my space"})
        eq(st, 201, "POST /v1/spaces 'my space'")
        ids.append(json.loads(text).get("id"))
    eq(len(set(ids)), 3, "three spaces of one name, three ids")
    st, r = v.get_json("/v1/spaces", {"name": "my space"})
    eq(sorted(s["id"] for s in r["spaces"]), sorted(ids), "found by name, all of them")


def charts_keep_what_clients_send(v):
    st, text, _ = v.post_json("/v1/spaces", {"name": "charts"})
    sid = json.loads(text)["id"]
    body = {"name": "CPU", "type": "line", "use_last_value": True, "use_log_yaxis": True, "split_axis": False,
            "label": "percent", "min": 0, "max": 100, "related_space": sid,
            "streams": [{"metric": "cpu.user", "source": "*"}, {"metric": "jobs", "tags": [{"name": "q", "values": ["*"]}]}]}
    st, text, _ = v.post_json("/v1/spaces/%d/charts" % sid, body)
    eq(st, 201, "chart with display options")
    chart = json.loads(text)
    st, got = v.get_json("/v1/spaces/%d/charts/%d" % (sid, chart["id"]))
    eq({k: got.get(k) for k in ("use_last_value", "use_log_yaxis", "split_axis", "label", "min", "max", "related_space")},
       {"use_last_value": True, "use_log_yaxis": True, "split_axis": False, "label": "percent", "min": 0, "max": 100,
        "related_space": sid}, "the chart's options round-trip")
    ids = [s["id"] for s in got["streams"]]
    # The Ruby client reads the chart, edits it and PUTs it back with its stream ids.
    got["streams"][0]["color"] = "#ff0000"
    got["use_last_value"] = False
    st, text, _ = v.request("PUT", "/v1/spaces/%d/charts/%d" % (sid, chart["id"]),
                            json.dumps({"streams": got["streams"], "use_last_value": False}), "application/json")
    eq(st, 200, "PUT the chart back")
    st, again = v.get_json("/v1/spaces/%d/charts/%d" % (sid, chart["id"]))
    eq([s["id"] for s in again["streams"]], ids, "stream ids survive a PUT that sends them")
    eq((again["streams"][0].get("color"), again["use_last_value"], again["use_log_yaxis"]), ("#ff0000", False, True),
       "the PUT applied its change and kept the rest")
    st, text, _ = v.request("PUT", "/v1/spaces/%d/charts/%d" % (sid, chart["id"]),
                            json.dumps({"streams": [{"metric": "cpu.user", "id": 999999}]}), "application/json")
    check(json.loads(text)["streams"][0]["id"] not in ids + [999999], "a stream with a foreign id gets a new one")
    eq(v.request("PUT", "/v1/spaces/%d/charts/%d" % (sid, chart["id"]), json.dumps({"split_axis": "maybe"}),
                 "application/json")[0], 400, "split_axis that is not a boolean -> 400")


def route_audit(v3):
    # links.next.href is absolute (v3 answers at most 3 points a page).
    v3.post_json("/v1/measurements", {"measurements": [{"name": "pg", "value": i, "time": T0 + 60 * i} for i in range(5)]})
    st, r = v3.get_json("/v1/measurements/pg", {"start_time": T0, "end_time": T0 + 600, "resolution": 60})
    href = r["links"][0]["href"] if r.get("links") else ""
    eq(href.split("/v1/")[0], "http://127.0.0.1:%d" % v3.port, "links.next.href is an absolute URL: " + href)
    path = href[len("http://127.0.0.1:%d" % v3.port):]
    st, _, _ = v3.request("GET", path)
    eq(st, 200, "the next page's URL answers")
    # tags[host]=!value and the presence form !host.
    v3.post_json("/v1/measurements", {"measurements": [
        {"name": "neg", "value": 1, "time": T0, "tags": {"host": "a", "region": "x"}},
        {"name": "neg", "value": 2, "time": T0, "tags": {"host": "b"}},
        {"name": "neg", "value": 3, "time": T0, "tags": {"region": "y"}}]})

    def values(extra):
        q = {"start_time": T0, "end_time": T0 + 60, "resolution": 60}
        q.update(extra)
        st, r = v3.get_json("/v1/measurements/neg", q)
        return sorted(m["value"] for s in r.get("series", []) for m in s["measurements"]) if st == 200 else st
    eq(values({"tags[host]": "!a"}), [2], "tags[host]=!a: streams with host set, other than a")
    eq(values({"tags[!host]": ""}), [3], "tags[!host]: streams without a host tag")
    eq(values({"tags[!host]": "", "tags[region]": "*"}), [3], "absence ANDed with another tag")
    # GET /v1/sources?name= matches display names too.
    v3.post_json("/v1/metrics", {"gauges": [{"name": "src", "value": 1, "source": "db-7"}]})
    eq(v3.request("PUT", "/v1/sources/db-7", json.dumps({"display_name": "Primary Database"}),
                  "application/json")[0], 204, "a source's display name")
    st, r = v3.get_json("/v1/sources", {"name": "primary"})
    eq([x["name"] for x in r["sources"]], ["db-7"], "sources?name= matches the display name")
    # source_lag is stored and returned.
    eq(v3.request("PUT", "/v1/metrics/src", json.dumps({"source_lag": 300}), "application/json")[0], 204, "PUT source_lag")
    eq(v3.get_json("/v1/metrics/src")[1].get("source_lag"), 300, "source_lag returned")
    eq(v3.get_json("/v1/metrics/pg")[1].get("source_lag", "absent"), None, "source_lag is null when unset")
    eq(v3.request("PUT", "/v1/metrics/src", json.dumps({"source_lag": -1}), "application/json")[0], 400,
       "a negative source_lag -> 400")
    # GET /v1/alerts?version=1: no legacy alerts, an empty list.
    v3.post_json("/v1/alerts", {"name": "a2", "conditions": [{"type": "above", "threshold": 1, "metric_name": "pg"}]})
    st, r = v3.get_json("/v1/alerts", {"version": 1})
    eq((st, r.get("alerts"), r.get("query", {}).get("found")), (200, [], 0), "alerts?version=1 -> an empty list")
    eq(len(v3.get_json("/v1/alerts", {"version": 2})[1]["alerts"]), 1, "alerts?version=2 lists the alert")
    # subject.chart.sources in snapshots.
    st, text, _ = v3.post_json("/v1/spaces", {"name": "snap"})
    sid = json.loads(text)["id"]
    st, text, _ = v3.post_json("/v1/spaces/%d/charts" % sid, {"name": "c", "streams": [{"metric": "src", "source": "%"}]})
    cid = json.loads(text)["id"]
    st, text, _ = v3.post_json("/v1/snapshots", {"subject": {"chart": {"id": cid, "sources": ["db-7"], "type": "line"}},
                                                 "duration": 3600})
    eq(st, 202, "snapshot with subject.chart.sources")
    eq(json.loads(text)["subject"]["chart"]["sources"], ["db-7"], "the snapshot's subject names the source sent")
    st, text, _ = v3.post_json("/v1/snapshots", {"subject": {"chart": {"id": cid, "sources": [1]}}})
    eq(st, 400, "subject.chart.sources that is not a list of one pattern -> 400")


def main():
    v = Vigil(A.vigil).start()
    v2 = Vigil(A.vigil, extra=["--set", "api.job_threshold=2"]).start()
    v3 = Vigil(A.vigil, extra=["--set", "query.max_points=3"]).start()
    try:
        annotation_events_keyed_by_source(v)
        exclude_on_batch_metric_routes(v)
        exclude_in_the_job_path(v2)
        type_conflicts_are_refused(v)
        a_4xx_stores_nothing(v)
        metric_properties_in_submissions(v)
        spaces_may_share_a_name(v)
        charts_keep_what_clients_send(v)
        route_audit(v3)
        # Everything acknowledged is still there after kill -9.
        v.kill9()
        v.start()
        eq(sums(v, "hits"), [(T0, 10), (T0 + 60, 15)], "the counter after kill -9")
        eq(v.get_json("/v1/metrics/cpu.user")[1].get("description"), "user time", "metric properties after kill -9")
    finally:
        v.cleanup()
        v2.cleanup()
        v3.cleanup()
    finish()


main()
