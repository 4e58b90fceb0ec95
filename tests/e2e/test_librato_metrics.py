"""End to end: metric create/update/delete by name, batch update and delete by names and by
wildcard pattern, large batches as jobs (202 + /v1/jobs/:id), data really deleted, restarts."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Vigil, args, check, eq, finish, hdr  # noqa: E402

A = args()
T0 = 1700000040
FORM = "application/x-www-form-urlencoded"


def ingest(v, name, value, t, host="a"):
    st, text, _ = v.post_json("/v1/measurements", {"measurements": [
        {"name": name, "value": value, "time": t, "tags": {"host": host}}]})
    return st


def points(v, name):
    st, r = v.get_json("/v1/measurements/" + name, {"start_time": T0 - 3600, "end_time": T0 + 7200, "resolution": 60})
    if st != 200:
        return st, None
    return st, sorted((m["time"], m["value"]) for s in r["series"] for m in s["measurements"])


def wait_job(v, loc):
    for _ in range(200):
        st, j = v.get_json(loc)
        if st != 200 or j["state"] in ("complete", "failed"):
            return st, j
        time.sleep(0.05)
    return st, j


v = Vigil(A.vigil, extra=["--set", "api.job_threshold=2"])
try:
    v.start()
    # -- PUT /v1/metrics/:name creates ------------------------------------------------------------
    st, text, h = v.request("PUT", "/v1/metrics/queue_len", "type=gauge&description=Length of app queue&display_name=num. elements",
                            FORM, headers={"User-Agent": "e2e-client/1.0"})
    eq(st, 201, "PUT /v1/metrics/:name creates -> 201")
    eq(hdr(h, "Location"), "/v1/metrics/queue_len", "Location of the new metric")
    m = json.loads(text)
    eq((m["name"], m["type"], m["description"], m["display_name"], m["period"]),
       ("queue_len", "gauge", "Length of app queue", "num. elements", None), "created metric body")
    eq(m["attributes"].get("created_by_ua"), "e2e-client/1.0", "created_by_ua from the User-Agent")
    st, r = v.get_json("/v1/metrics/queue_len")
    eq((st, r["display_name"]), (200, "num. elements"), "GET shows the created metric")
    # -- PUT /v1/metrics/:name updates ------------------------------------------------------------
    st, text, _ = v.request("PUT", "/v1/metrics/QUEUE_LEN", "display_name=Queue&attributes[display_min]=0&period=60", FORM)
    eq((st, text), (204, ""), "PUT on an existing metric (any case) -> 204, no body")
    st, r = v.get_json("/v1/metrics/queue_len")
    eq((r["display_name"], r["period"], r["attributes"].get("display_min"), r["attributes"].get("created_by_ua")),
       ("Queue", 60, 0, "e2e-client/1.0"), "update applied, attributes merged, display_min a number")
    st, text, _ = v.request("PUT", "/v1/metrics/queue_len", json.dumps({"period": None, "attributes": {"display_min": None, "color": "#ff0000"}}),
                            "application/json")
    eq(st, 204, "JSON update")
    st, r = v.get_json("/v1/metrics/queue_len")
    eq((r["period"], "display_min" in r["attributes"], r["attributes"].get("color")), (None, False, "#ff0000"),
       "null clears period and removes an attribute")
    st, text, _ = v.request("PUT", "/v1/metrics/hits", json.dumps({"type": "counter", "period": 30}), "application/json")
    eq((st, json.loads(text)["type"], json.loads(text)["period"]), (201, "counter", 30), "JSON create of a counter")
    # errors
    st, text, _ = v.request("PUT", "/v1/metrics/untyped", "display_name=x", FORM)
    eq(st, 400, "create without type -> 400")
    check("type" in json.loads(text)["errors"]["params"], "error names type")
    st, _, _ = v.request("PUT", "/v1/metrics/bogus", "type=histogram", FORM)
    eq(st, 400, "unknown type -> 400")
    st, _, _ = v.request("PUT", "/v1/metrics/comp", "type=composite&composite=s(\"cpu\",\"*\"", FORM)
    eq(st, 400, "composite metric with a malformed definition -> 400")
    st, _, _ = v.request("PUT", "/v1/metrics/bad%20name!", "type=gauge", FORM)
    eq(st, 400, "invalid metric name -> 400")
    st, _, _ = v.request("PUT", "/v1/metrics/hits", "type=gauge", FORM)
    eq(st, 400, "changing the type -> 400")
    st, text, _ = v.request("PUT", "/v1/metrics/hits", "period=-5", FORM)
    eq(st, 400, "negative period -> 400")
    st, text, _ = v.request("PUT", "/v1/metrics/hits", "attributes[display_min]=low", FORM)
    eq(st, 400, "non-numeric display_min -> 400")
    st, _, _ = v.request("PUT", "/v1/metrics/hits", "period=5", "text/plain")
    eq(st, 415, "other content type -> 415")
    st, _, h = v.request("PATCH", "/v1/metrics/hits")
    eq((st, hdr(h, "Allow")), (405, "GET, PUT, DELETE"), "PATCH /v1/metrics/:name -> 405")

    # -- DELETE /v1/metrics/:name removes metadata and data ---------------------------------------
    eq(ingest(v, "doomed", 5, T0), 200, "ingest doomed")
    eq(ingest(v, "doomed", 7, T0 + 60, "b"), 200, "ingest doomed, second series")
    eq(ingest(v, "survivor", 1, T0), 200, "ingest survivor")
    eq(points(v, "doomed"), (200, [(T0 - T0 % 60, 5), (T0 + 60 - T0 % 60, 7)]), "doomed has data")
    st, text, _ = v.request("DELETE", "/v1/metrics/Doomed")
    eq((st, text), (204, ""), "DELETE /v1/metrics/:name -> 204")
    st, _ = v.get_json("/v1/metrics/doomed")
    eq(st, 404, "deleted metric -> 404")
    eq(points(v, "doomed")[0], 404, "deleted metric's measurements -> 404")
    st, r = v.get_json("/v1/metrics")
    check("doomed" not in [x["name"] for x in r["metrics"]], "deleted metric not listed")
    eq(points(v, "survivor"), (200, [(T0 - T0 % 60, 1)]), "other metrics keep their data")
    eq(ingest(v, "doomed", 9, T0 + 120), 200, "submit to the deleted name")
    eq(points(v, "doomed"), (200, [(T0 + 120 - T0 % 60, 9)]), "re-created metric has only the new data")
    st, _, _ = v.request("DELETE", "/v1/metrics/never_was")
    eq(st, 404, "DELETE an unknown metric -> 404")

    # -- PUT /v1/metrics batch ------------------------------------------------------------------------
    for n in ("cpu.a.90", "cpu.b.90", "cpu.c.95"):
        ingest(v, n, 1, T0)
    st, text, _ = v.request("PUT", "/v1/metrics", "names=cpu.a.90&names=CPU.B.90&period=60&display_min=0", FORM)
    eq((st, text), (204, ""), "PUT /v1/metrics with names -> 204")
    for n, want in (("cpu.a.90", 60), ("cpu.b.90", 60), ("cpu.c.95", None)):
        st, r = v.get_json("/v1/metrics/" + n)
        eq((r["period"], r["attributes"].get("display_min")), (want, 0 if want else None), "batch update of " + n)
    st, _, _ = v.request("PUT", "/v1/metrics", json.dumps({"names": ["*.90"], "display_units_short": "ms"}), "application/json")
    eq(st, 204, "PUT /v1/metrics with a wildcard pattern (JSON)")
    got = [v.get_json("/v1/metrics/" + n)[1]["attributes"].get("display_units_short") for n in ("cpu.a.90", "cpu.b.90", "cpu.c.95")]
    eq(got, ["ms", "ms", None], "pattern *.90 updated exactly the .90 metrics")
    st, text, h = v.request("PUT", "/v1/metrics", "names=cpu*&description=CPU", FORM)
    eq(st, 202, "batch over the job threshold -> 202")
    loc = hdr(h, "Location") or ""
    check(loc.startswith("/v1/jobs/"), "202 Location points to the job: " + loc)
    st, j = wait_job(v, loc)
    eq((st, j.get("state"), j.get("progress")), (200, "complete", 100.0), "the job completes")
    got = [v.get_json("/v1/metrics/" + n)[1]["description"] for n in ("cpu.a.90", "cpu.b.90", "cpu.c.95")]
    eq(got, ["CPU"] * 3, "the job updated every matched metric")
    update_job = loc
    st, text, _ = v.request("PUT", "/v1/metrics", "period=60", FORM)
    eq(st, 400, "PUT /v1/metrics without names -> 400")
    check("names" in json.loads(text)["errors"]["params"], "error names the names param")
    st, _, _ = v.request("PUT", "/v1/metrics", "names=cpu.a.90&period=abc", FORM)
    eq(st, 400, "PUT /v1/metrics with an invalid property -> 400")

    # -- DELETE /v1/metrics batch -------------------------------------------------------------------
    st, _, _ = v.request("DELETE", "/v1/metrics", json.dumps({"names": ["cpu.c.95", "no.such"]}), "application/json")
    eq(st, 204, "DELETE /v1/metrics with names (unknown names skipped) -> 204")
    eq(v.get_json("/v1/metrics/cpu.c.95")[0], 404, "cpu.c.95 deleted")
    st, _, _ = v.request("DELETE", "/v1/metrics", "names%5B%5D=cpu.a.90", FORM)
    eq(st, 204, "DELETE with form names[]")
    eq(v.get_json("/v1/metrics/cpu.a.90")[0], 404, "cpu.a.90 deleted")
    eq(v.get_json("/v1/metrics/cpu.b.90")[0], 200, "cpu.b.90 kept")
    for i in range(4):
        ingest(v, "del.%d.x" % i, i, T0)
    st, _, h = v.request("DELETE", "/v1/metrics", "names=del.*.x", FORM)
    eq(st, 202, "large pattern delete -> 202")
    st, j = wait_job(v, hdr(h, "Location") or "/v1/jobs/0")
    eq(j.get("state"), "complete", "delete job completes")
    st, r = v.get_json("/v1/metrics", {"name": "del."})
    eq(r["metrics"], [], "pattern delete removed the metrics")
    eq(points(v, "del.1.x")[0], 404, "and their measurements")
    st, _, _ = v.request("DELETE", "/v1/metrics?names=cpu.b.90")
    eq(st, 204, "DELETE /v1/metrics with names in the query string")
    st, _, _ = v.request("DELETE", "/v1/metrics", "", FORM)
    eq(st, 400, "DELETE /v1/metrics without names -> 400")

    # -- jobs ------------------------------------------------------------------------------------------
    eq(v.get_json("/v1/jobs/999999")[0], 404, "unknown job -> 404")
    eq(v.get_json("/v1/jobs/abc")[0], 404, "non-numeric job id -> 404")
    st, _, _ = v.request("DELETE", update_job)
    eq(st, 405, "DELETE a job -> 405")
    eq(v.stop(), 0, "stops")
    v.start()
    st, j = v.get_json(update_job)
    eq((st, j.get("state")), (200, "complete"), "jobs survive a restart")
    eq(points(v, "doomed"), (200, [(T0 + 120 - T0 % 60, 9)]), "deleted data stays deleted after a restart")
    eq(v.get_json("/v1/metrics/del.2.x")[0], 404, "deleted metrics stay deleted after a restart")
finally:
    v.cleanup()
finish()
