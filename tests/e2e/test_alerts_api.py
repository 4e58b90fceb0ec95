"""End to end: the Librato Alerts and Services API. Routes, status codes, Location headers, payload
shapes, validation errors, JSON and form-encoded (bracket notation) bodies, name search and
pagination, the firing/cleared summary, alert-service associations, and persistence across a
restart."""
import json
import os
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from harness import Vigil, args, check, eq, finish  # noqa: E402

A = args()
v = Vigil(A.vigil).start()


def js(resp):
    st, body, headers = resp
    return st, (json.loads(body) if body else None), headers


def params_of(body):
    return sorted(body.get("errors", {}).get("params", {}).keys()) if body else []


try:
    # -- services -----------------------------------------------------------------------------
    st, s1, h = js(v.post_json("/v1/services", {"title": "Notify Ops Room", "type": "slack",
                                                "settings": {"url": "https://hooks.slack.com/services/T/B/X"}}))
    eq(st, 201, "POST /v1/services (JSON) -> 201")
    eq(h.get("Location"), "/v1/services/%s" % s1["id"], "service Location header")
    check(isinstance(s1["id"], str), "service id is a string, as in the seed")
    eq((s1["type"], s1["title"], s1["settings"]["url"]), ("slack", "Notify Ops Room", "********"),
       "service body: type, title, settings")
    st, s2, h = js(v.post_form("/v1/services", [("title", "Pager"), ("type", "pagerduty"),
                                                ("settings[routing_key]", "abc123")]))
    eq(st, 201, "POST /v1/services (form, bracket notation) -> 201")
    eq(s2["settings"], {"routing_key": "********"}, "form settings[routing_key] parsed (and shown masked)")
    st, s3, _ = js(v.post_json("/v1/services", {"title": "Hook", "type": "webhook",
                                                "settings": {"url": "http://127.0.0.1:9/h", "secret": "x"}}))
    eq(st, 201, "webhook service created")
    st, err, _ = js(v.post_json("/v1/services", {"title": "x", "type": "carrier-pigeon", "settings": {}}))
    eq(st, 400, "unsupported service type -> 400")
    eq(params_of(err), ["type"], "error names type")
    st, err, _ = js(v.post_json("/v1/services", {"type": "webhook", "settings": {"url": "nope"}}))
    eq(params_of(err), ["settings.url", "title"], "missing title and bad url -> params errors")
    st, got = v.get_json("/v1/services/%s" % s2["id"])
    eq((st, got["title"]), (200, "Pager"), "GET /v1/services/:id")
    st, _, _ = v.request("PUT", "/v1/services/%s" % s1["id"], "title=Notify+Ops+Chatroom",
                         "application/x-www-form-urlencoded")
    eq(st, 204, "PUT /v1/services/:id (form) -> 204")
    st, got = v.get_json("/v1/services/%s" % s1["id"])
    eq(got["title"], "Notify Ops Chatroom", "service title updated")
    eq(got["settings"]["url"], "********", "settings kept when not given (the Slack URL is a secret: masked)")
    st, lst = v.get_json("/v1/services")
    eq(lst["query"], {"found": 3, "length": 3, "offset": 0, "total": 3}, "GET /v1/services query block")
    eq([x["title"] for x in lst["services"]], ["Hook", "Notify Ops Chatroom", "Pager"], "services ordered by title")
    st, lst = v.get_json("/v1/services", {"offset": 1, "length": 1})
    eq([x["title"] for x in lst["services"]], ["Notify Ops Chatroom"], "services pagination offset/length")
    st, _ = v.get_json("/v1/services/999")
    eq(st, 404, "unknown service -> 404")

    # -- alerts: create --------------------------------------------------------------------------
    body = {"name": "production.web.frontend.response_time", "version": 2,
            "conditions": [{"type": "above", "threshold": 200, "metric_name": "web.nginx.response_time"}],
            "services": [int(s1["id"])], "attributes": {"runbook_url": "http://myco.com/runbooks/response_time"}}
    st, a1, h = js(v.post_json("/v1/alerts", body))
    eq(st, 201, "POST /v1/alerts -> 201")
    eq(h.get("Location"), "/v1/alerts/%d" % a1["id"], "alert Location header")
    eq(a1["name"], body["name"], "alert name")
    eq(a1["conditions"][0]["type"], "above", "condition type")
    eq(a1["conditions"][0]["threshold"], 200, "condition threshold")
    eq(a1["conditions"][0]["metric_name"], "web.nginx.response_time", "condition metric")
    check(isinstance(a1["conditions"][0]["id"], int), "conditions have ids")
    eq(a1["services"], [{"id": int(s1["id"]), "title": "Notify Ops Chatroom", "name": "slack", "type": "slack"}],
       "services expanded as in the seed")
    eq(a1["attributes"], {"runbook_url": "http://myco.com/runbooks/response_time"}, "attributes")
    eq((a1["active"], a1["version"], a1["rearm_seconds"]), (True, 2, 600), "defaults: active, version 2, rearm 600")

    form = [("name", "production.db.cpu"), ("description", "DB CPU"),
            ("conditions[0][type]", "above"), ("conditions[0][metric_name]", "db.cpu"),
            ("conditions[0][threshold]", "90"), ("conditions[0][duration]", "300"),
            ("conditions[0][summary_function]", "max"), ("conditions[0][source]", "db-*"),
            ("services[]", s2["id"]), ("rearm_seconds", "120"), ("active", "false")]
    st, a2, _ = js(v.post_form("/v1/alerts", form))
    eq(st, 201, "POST /v1/alerts form-encoded -> 201")
    c = a2["conditions"][0]
    eq((c["threshold"], c["duration"], c["summary_function"], c["source"]), (90, 300, "max", "db-*"),
       "form condition fields")
    eq((a2["rearm_seconds"], a2["active"], a2["description"]), (120, False, "DB CPU"), "form scalar fields")

    st, err, _ = js(v.post_json("/v1/alerts", dict(body)))
    eq(st, 422, "duplicate name -> 422")
    eq(params_of(err), ["name"], "duplicate error names the name")
    bad = {"name": "bad name!", "rearm_seconds": 90, "version": 1,
           "conditions": [{"type": "above", "metric_name": "x"},
                          {"type": "absent", "metric_name": "y", "duration": 30},
                          {"type": "below", "metric_name": "z", "threshold": 1, "summary_function": "p99"}]}
    st, err, _ = js(v.post_json("/v1/alerts", bad))
    eq(st, 400, "invalid alert -> 400")
    eq(params_of(err), ["conditions[0].threshold", "conditions[1].duration", "conditions[2].summary_function",
                        "name", "rearm_seconds", "version"], "each problem reported")
    st, err, _ = js(v.post_json("/v1/alerts", {"name": "svc.missing", "services": [999], "conditions": []}))
    eq((st, params_of(err)), (400, ["services"]), "unknown service id -> 400")
    st, err, _ = js(v.request("POST", "/v1/alerts", "{", "application/json"))
    eq(st, 400, "malformed JSON -> 400")

    # -- alerts: read, list, search, paginate ----------------------------------------------------
    st, got = v.get_json("/v1/alerts/%d" % a1["id"])
    eq((st, got["name"]), (200, body["name"]), "GET /v1/alerts/:id")
    st, got = v.get_json("/v1/alerts/" + urllib.parse.quote(body["name"]))
    eq((st, got["id"]), (200, a1["id"]), "GET /v1/alerts/:name")
    st, _ = v.get_json("/v1/alerts/424242")
    eq(st, 404, "unknown alert -> 404")
    for i in range(3):
        v.post_json("/v1/alerts", {"name": "staging.q%d" % i,
                                   "conditions": [{"type": "below", "metric_name": "q", "threshold": i}]})
    st, lst = v.get_json("/v1/alerts", {"name": "PRODUCTION"})
    eq(sorted(x["name"] for x in lst["alerts"]), ["production.db.cpu", body["name"]],
       "name search is a case-insensitive substring")
    eq(lst["query"], {"found": 2, "length": 2, "offset": 0, "total": 5}, "query block of a search")
    st, lst = v.get_json("/v1/alerts", {"offset": 1, "length": 2})
    eq((len(lst["alerts"]), lst["query"]["found"], lst["query"]["offset"]), (2, 5, 1), "alert pagination")
    st, err = v.get_json("/v1/alerts", {"orderby": "name"})
    eq(st, 400, "orderby other than updated_at -> 400")

    # -- update ------------------------------------------------------------------------------------
    st, _, _ = v.request("PUT", "/v1/alerts/%d" % a1["id"], json.dumps({"description": "A new description"}),
                         "application/json")
    eq(st, 400, "PUT without conditions -> 400")
    upd = {"name": body["name"], "description": "A new description", "active": True,
           "conditions": [{"type": "absent", "metric_name": "service.alive", "source": "*", "duration": 900}]}
    st, _, _ = v.request("PUT", "/v1/alerts/%d" % a1["id"], json.dumps(upd), "application/json")
    eq(st, 204, "PUT /v1/alerts/:id -> 204")
    st, got = v.get_json("/v1/alerts/%d" % a1["id"])
    eq((got["description"], got["conditions"][0]["type"], got["conditions"][0]["duration"]),
       ("A new description", "absent", 900), "update applied")
    eq(got["attributes"], {"runbook_url": "http://myco.com/runbooks/response_time"}, "attributes kept when absent")
    eq(len(got["services"]), 1, "services kept when absent")
    st, _, _ = v.request("PUT", "/v1/alerts/%d" % a2["id"], json.dumps({"name": body["name"], "conditions": []}),
                         "application/json")
    eq(st, 422, "renaming onto an existing name -> 422")

    # -- services on alerts -------------------------------------------------------------------------
    st, _, h = v.post_form("/v1/alerts/%d/services" % a1["id"], [("service", s3["id"])])
    eq(st, 201, "POST /v1/alerts/:id/services -> 201")
    eq(h.get("Location"), "/v1/alerts/%d/services/%s" % (a1["id"], s3["id"]), "association Location")
    st, got = v.get_json("/v1/alerts/%d" % a1["id"])
    eq(sorted(x["id"] for x in got["services"]), sorted([int(s1["id"]), int(s3["id"])]), "service added")
    st, _, _ = v.request("DELETE", "/v1/alerts/%d/services/%s" % (a1["id"], s1["id"]))
    eq(st, 204, "DELETE /v1/alerts/:id/services/:id -> 204")
    st, _, _ = v.request("DELETE", "/v1/alerts/%d/services/%s" % (a1["id"], s1["id"]))
    eq(st, 404, "removing it again -> 404")
    st, _, _ = v.request("DELETE", "/v1/services/%s" % s3["id"])
    eq(st, 204, "DELETE /v1/services/:id -> 204")
    st, got = v.get_json("/v1/alerts/%d" % a1["id"])
    eq(got["services"], [], "a deleted service is removed from alerts")

    # -- status ---------------------------------------------------------------------------------------
    st, s = v.get_json("/v1/alerts/%d/status" % a2["id"])
    eq(s, {"alert": {"id": a2["id"]}, "status": "ok", "streams": []}, "GET /v1/alerts/:id/status (ok)")
    st, fire, _ = js(v.post_json("/v1/alerts", {"name": "now.firing",
                                               "conditions": [{"type": "above", "metric_name": "f", "threshold": 1}]}))
    v.post_json("/v1/measurements", {"measurements": [{"name": "f", "value": 5, "time": int(time.time())}]})
    deadline = time.time() + 5
    while time.time() < deadline:
        st, s = v.get_json("/v1/alerts/%d/status" % fire["id"])
        if s["status"] == "triggered":
            break
        time.sleep(0.05)
    eq(s["status"], "triggered", "GET /v1/alerts/:id/status (triggered)")
    eq(s["streams"][0]["tags"], {"source": "unassigned"}, "status lists the firing stream")
    st, summary = v.get_json("/v1/alerts/status")
    eq([x["id"] for x in summary["firing"]], [fire["id"]], "GET /v1/alerts/status lists the firing alert")
    check(abs(summary["firing"][0]["triggered_at"] - time.time()) < 10, "triggered_at is epoch seconds")
    st, _, _ = v.request("POST", "/v1/alerts/%d/clear" % fire["id"])
    eq(st, 204, "POST /v1/alerts/:id/clear -> 204")
    st, summary = v.get_json("/v1/alerts/status")
    eq(([x["id"] for x in summary["firing"]], [x["id"] for x in summary["cleared"]]), ([], [fire["id"]]),
       "after the clear the alert is listed as cleared")

    # -- persistence, delete ----------------------------------------------------------------------------
    eq(v.stop(), 0, "graceful stop")
    v.start()
    st, got = v.get_json("/v1/alerts/%d" % a2["id"])
    eq((st, got["name"], got["conditions"][0]["source"]), (200, "production.db.cpu", "db-*"), "alerts survive a restart")
    st, lst = v.get_json("/v1/services")
    eq(lst["query"]["total"], 2, "services survive a restart")
    st, _, _ = v.request("DELETE", "/v1/alerts/%d" % a2["id"])
    eq(st, 204, "DELETE /v1/alerts/:id -> 204")
    st, _ = v.get_json("/v1/alerts/%d" % a2["id"])
    eq(st, 404, "deleted alert -> 404")
    st, a3, _ = js(v.post_json("/v1/alerts", {"name": "new.after.restart", "conditions": []}))
    check(a3["id"] > fire["id"], "ids keep increasing after a restart")
    st, _, _ = v.request("PATCH", "/v1/alerts/%d" % a3["id"])
    eq(st, 405, "unsupported method -> 405")
finally:
    v.cleanup()
finish()
