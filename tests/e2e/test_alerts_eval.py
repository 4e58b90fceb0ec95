"""End to end: alert conditions evaluated as samples arrive, notifications received by a real
local HTTP receiver. above/below with and without duration, summary functions, derivative with
detect_reset, tag and source wildcards, multi-condition AND per stream, inactive alerts, rearm,
manual clear, restart while firing, and the payloads of the webhook, Slack and PagerDuty services."""
import hashlib
import hmac
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Vigil, args, check, eq, finish  # noqa: E402
from receiver import Receiver  # noqa: E402

A = args()
rc = Receiver()
v = Vigil(A.vigil).start()
QUIET = 0.6  # how long to wait to be sure that nothing arrives


def service(title, typ, settings):
    st, body, _ = v.post_json("/v1/services", {"title": title, "type": typ, "settings": settings})
    eq(st, 201, "create service " + title)
    return int(json.loads(body)["id"])


def alert(name, conditions, services, **extra):
    body = {"name": name, "conditions": conditions, "services": services}
    body.update(extra)
    st, text, _ = v.post_json("/v1/alerts", body)
    eq(st, 201, "create alert " + name)
    return json.loads(text)["id"]


def send(metric, value, tags, t=None, **fields):
    m = {"name": metric, "tags": tags, "time": int(t if t is not None else time.time())}
    if fields:
        m.update(fields)
    else:
        m["value"] = value
    st, text, _ = v.post_json("/v1/measurements", {"measurements": [m]})
    if st not in (200, 202):
        check(False, "POST measurement -> %s %s" % (st, text))


def on(path):
    return rc.received(path)


def settle(path, n, what, timeout=5.0):
    got = rc.wait_for(n, path, timeout=timeout)
    eq(len(got), n, what)
    return got


def quiet(path, n, what):
    time.sleep(QUIET)
    eq(len(on(path)), n, what)


try:
    secret = "s3cr3t"
    hook = service("hook", "webhook", {"url": rc.url("/hook"), "secret": secret, "headers": {"X-Team": "ops"}})
    now = int(time.time())

    # -- above without duration: the first sample beyond fires; the first one back clears ------
    a1 = alert("cpu.high", [{"type": "above", "metric_name": "cpu", "threshold": 90}], [hook],
               attributes={"runbook_url": "https://runbooks.example/cpu"})
    send("cpu", 50, {"host": "a"})
    quiet("/hook", 0, "above: 50 < 90 does not fire")
    send("cpu", 95.5, {"host": "a"})
    got = settle("/hook", 1, "above: 95.5 > 90 fires once")
    trig = got[0]
    send("cpu", 97, {"host": "a"})
    quiet("/hook", 1, "above: a second sample beyond while firing sends nothing")
    send("cpu", 90, {"host": "a"})
    got = settle("/hook", 2, "above: 90 (not above) clears with a resolve")
    res = got[1]

    # webhook payload, field by field
    b = trig["body"]
    eq(b["event"], "trigger", "webhook: event trigger")
    eq(b["state"], "firing", "webhook: state firing")
    eq(b["alert"]["id"], a1, "webhook: alert id")
    eq(b["alert"]["name"], "cpu.high", "webhook: alert name")
    eq(b["alert"]["runbook_url"], "https://runbooks.example/cpu", "webhook: alert runbook_url")
    eq(b["runbook_url"], "https://runbooks.example/cpu", "webhook: runbook_url")
    eq(b["condition"]["type"], "above", "webhook: condition type")
    eq(b["condition"]["metric_name"], "cpu", "webhook: condition metric")
    eq(b["threshold"], 90, "webhook: threshold")
    eq(b["value"], 95.5, "webhook: value")
    eq(b["stream"]["tags"], {"host": "a"}, "webhook: stream tags")
    check(abs(b["triggered_at"] - now) <= 5, "webhook: triggered_at is now")
    eq(b["resolved_at"], None, "webhook: resolved_at null on trigger")
    eq(trig["headers"].get("idempotency-key"), b["idempotency_key"], "webhook: Idempotency-Key header = body key")
    sig = "sha256=" + hmac.new(secret.encode(), trig["raw"], hashlib.sha256).hexdigest()
    eq(trig["headers"].get("x-vigil-signature"), sig, "webhook: X-Vigil-Signature is HMAC-SHA256 of the body")
    eq(trig["headers"].get("x-team"), "ops", "webhook: extra header from settings")
    eq(trig["headers"].get("content-type"), "application/json", "webhook: JSON content type")
    r = res["body"]
    eq(r["event"], "resolve", "webhook: resolve event")
    eq(r["state"], "resolved", "webhook: state resolved")
    eq(r["value"], 90, "webhook: resolve carries the clearing value")
    check(r["resolved_at"] is not None, "webhook: resolved_at set")
    check(r["idempotency_key"] != b["idempotency_key"], "webhook: trigger and resolve have different keys")

    st, s = v.get_json("/v1/alerts/%d/status" % a1)
    eq(s["status"], "ok", "status ok after the clear")
    st, h = v.get_json("/v1/alerts/%d/history" % a1)
    kinds = [e["event"] for e in h["events"]]
    eq(kinds.count("trigger"), 1, "history: one trigger")
    eq(kinds.count("clear"), 1, "history: one clear")
    eq(kinds.count("notify"), 2, "history: two notify events")
    eq([e["values"] for e in h["events"] if e["event"] == "trigger"], [[95.5]], "history: trigger value")

    # -- below with duration 60: fires only when the run of samples below covers 60 s -------------
    base = now - 200
    a2 = alert("disk.low", [{"type": "below", "metric_name": "disk_free", "threshold": 10, "duration": 60}], [hook],
               rearm_seconds=0)
    p2 = "/hook"
    n0 = len(on(p2))
    for dt, val in [(0, 5), (20, 4), (40, 3)]:
        send("disk_free", val, {"host": "a"}, base + dt)
    quiet(p2, n0, "below/duration: 40 s of samples below does not fire")
    send("disk_free", 50, {"host": "a"}, base + 50)
    send("disk_free", 2, {"host": "a"}, base + 70)
    send("disk_free", 2, {"host": "a"}, base + 120)
    quiet(p2, n0, "below/duration: a sample above restarts the window (70..120 covers 50 s)")
    send("disk_free", 1, {"host": "a"}, base + 130)
    got = settle(p2, n0 + 1, "below/duration: fires at the sample that covers 60 s (70..130)")
    eq(got[-1]["body"]["alert"]["id"], a2, "below/duration: trigger is for disk.low")
    eq(got[-1]["body"]["value"], 1, "below/duration: value of the covering sample")
    send("disk_free", 11, {"host": "a"}, base + 140)
    got = settle(p2, n0 + 2, "below/duration: one sample back above clears")
    eq(got[-1]["body"]["event"], "resolve", "below/duration: resolve")

    # -- per stream, summary function max on aggregated samples, source wildcard ----------------
    lat = service("lat-hook", "webhook", {"url": rc.url("/lat")})
    alert("latency.max", [{"type": "above", "metric_name": "latency", "threshold": 100, "summary_function": "max",
                           "source": "prod-*"}], [lat])
    send("latency", None, {"source": "prod-1"}, count=3, sum=150, min=20, max=120)
    got = settle("/lat", 1, "max: an aggregate whose max is 120 fires (mean 50)")
    eq(got[0]["body"]["stream"]["tags"], {"source": "prod-1"}, "per stream: the firing stream is prod-1")
    eq(got[0]["body"]["value"], 120, "max: value is the max")
    send("latency", 500, {"source": "staging-1"})
    quiet("/lat", 1, "source wildcard prod-* ignores staging-1")
    send("latency", 300, {"source": "prod-2"})
    got = settle("/lat", 2, "per stream: prod-2 fires on its own")
    eq(got[1]["body"]["stream"]["tags"], {"source": "prod-2"}, "per stream: second trigger is prod-2")
    send("latency", 10, {"source": "prod-1"})
    got = settle("/lat", 3, "per stream: prod-1 clears alone")
    eq((got[2]["body"]["event"], got[2]["body"]["stream"]["tags"]["source"]), ("resolve", "prod-1"),
       "per stream: the resolve is prod-1's")
    st, s = v.get_json("/v1/alerts/%d/status" % got[0]["body"]["alert"]["id"])
    eq(s["status"], "triggered", "status: still triggered (prod-2 fires)")

    # -- multi-condition AND per stream, tag filter -----------------------------------------------
    mc = service("mc-hook", "webhook", {"url": rc.url("/mc")})
    alert("web.overload", [
        {"type": "above", "metric_name": "web.cpu", "threshold": 80, "tags": [{"name": "role", "values": ["web*"]}]},
        {"type": "below", "metric_name": "web.free_mem", "threshold": 100},
    ], [mc])
    send("web.cpu", 85, {"host": "w1", "role": "web"})
    quiet("/mc", 0, "AND: one condition alone does not fire")
    send("web.free_mem", 50, {"host": "w2", "role": "web"})
    quiet("/mc", 0, "AND: conditions met on different streams do not fire")
    send("web.free_mem", 50, {"host": "w1", "role": "web"})
    got = settle("/mc", 1, "AND: both conditions on stream w1 fire")
    eq(got[0]["body"]["stream"]["tags"], {"host": "w1", "role": "web"}, "AND: stream w1")
    eq([c["value"] for c in got[0]["body"]["conditions"]], [85, 50], "AND: the value of each condition")
    send("web.cpu", 99, {"host": "db1", "role": "db"})
    send("web.free_mem", 1, {"host": "db1", "role": "db"})
    quiet("/mc", 1, "AND: tag filter role=web* excludes role=db")
    send("web.free_mem", 500, {"host": "w1", "role": "web"})
    got = settle("/mc", 2, "AND: one condition failing clears")
    eq(got[1]["body"]["event"], "resolve", "AND: resolve")

    # -- derivative with detect_reset on a counter ------------------------------------------------
    dv = service("dv-hook", "webhook", {"url": rc.url("/dv")})
    alert("req.rate", [{"type": "above", "metric_name": "requests", "threshold": 100,
                        "summary_function": "derivative", "detect_reset": True}], [dv])
    tnow = int(time.time())
    for i, val in enumerate([1000, 1050, 1100]):
        st, _, _ = v.post_json("/v1/metrics", {"source": "c1", "measure_time": tnow - 10 + i,
                                               "counters": [{"name": "requests", "value": val}]})
    quiet("/dv", 0, "derivative: deltas of 50 do not fire")
    v.post_json("/v1/metrics", {"source": "c1", "measure_time": tnow - 6, "counters": [{"name": "requests", "value": 5}]})
    quiet("/dv", 0, "detect_reset: a counter reset (1100 -> 5) counts as 0, not -1095")
    v.post_json("/v1/metrics", {"source": "c1", "measure_time": tnow - 5, "counters": [{"name": "requests", "value": 300}]})
    got = settle("/dv", 1, "derivative: a delta of 295 fires")
    eq(got[0]["body"]["value"], 295, "derivative: value is the delta")

    # -- inactive alerts stay silent; rearm suppresses repeats ------------------------------------
    ia = service("ia-hook", "webhook", {"url": rc.url("/ia")})
    alert("inactive.one", [{"type": "above", "metric_name": "temp", "threshold": 1}], [ia], active=False)
    send("temp", 100, {"host": "x"})
    quiet("/ia", 0, "inactive alert never fires")

    ra = service("ra-hook", "webhook", {"url": rc.url("/ra")})
    arm = alert("rearm.one", [{"type": "above", "metric_name": "pressure", "threshold": 10}], [ra], rearm_seconds=600)
    send("pressure", 20, {"host": "x"})
    settle("/ra", 1, "rearm: first trigger notified")
    send("pressure", 5, {"host": "x"})
    settle("/ra", 2, "rearm: clear notified")
    send("pressure", 20, {"host": "x"})
    quiet("/ra", 2, "rearm: a second trigger within rearm_seconds is not notified")
    st, s = v.get_json("/v1/alerts/%d/status" % arm)
    eq(s["status"], "triggered", "rearm: the alert is still shown as triggered")
    st, h = v.get_json("/v1/alerts/%d/history" % arm)
    trig_events = [e for e in h["events"] if e["event"] == "trigger"]
    eq([e["notify"] for e in trig_events], [True, False], "rearm: history shows the suppressed trigger")
    send("pressure", 5, {"host": "x"})
    quiet("/ra", 2, "rearm: the clear of a suppressed trigger sends no resolve")

    # -- manual clear, then fire again --------------------------------------------------------------
    mcl = service("clear-hook", "webhook", {"url": rc.url("/clr")})
    ca = alert("clear.me", [{"type": "above", "metric_name": "queue", "threshold": 10}], [mcl], rearm_seconds=0)
    send("queue", 50, {"host": "q"})
    settle("/clr", 1, "clear: trigger")
    st, _, _ = v.request("POST", "/v1/alerts/%d/clear" % ca)
    eq(st, 204, "POST /v1/alerts/:id/clear -> 204")
    got = settle("/clr", 2, "clear: a resolve is sent")
    eq(got[1]["body"]["event"], "resolve", "clear: resolve event")
    eq(got[1]["body"]["reason"], "cleared by hand", "clear: reason")
    st, s = v.get_json("/v1/alerts/%d/status" % ca)
    eq(s["status"], "ok", "clear: status ok")
    send("queue", 60, {"host": "q"})
    settle("/clr", 3, "clear: the condition still met fires again on the next sample")

    # -- Slack and PagerDuty payloads ---------------------------------------------------------------
    slack = service("slack", "slack", {"url": rc.url("/slack")})
    pd = service("pd", "pagerduty", {"routing_key": "R0UT1NGKEY", "url": rc.url("/pd")})
    alert("svc.payloads", [{"type": "above", "metric_name": "errors", "threshold": 3, "summary_function": "max"}],
          [slack, pd], attributes={"runbook_url": "https://rb.example/errors"}, rearm_seconds=0)
    send("errors", 7, {"host": "api-1"})
    s_t = settle("/slack", 1, "slack: trigger")[0]["body"]
    p_t = settle("/pd", 1, "pagerduty: trigger")[0]["body"]
    send("errors", 1, {"host": "api-1"})
    s_r = settle("/slack", 2, "slack: resolve")[1]["body"]
    p_r = settle("/pd", 2, "pagerduty: resolve")[1]["body"]
    check("svc.payloads" in s_t["text"] and "api-1" in s_t["text"], "slack: text names alert and stream")
    check("7" in s_t["text"], "slack: text has the value")
    eq(s_t["blocks"][0]["type"], "header", "slack: header block")
    check("svc.payloads" in s_t["blocks"][0]["text"]["text"], "slack: header names the alert")
    fields = " ".join(f["text"] for f in s_t["blocks"][1]["fields"])
    check("host=api-1" in fields and "7 (threshold 3)" in fields, "slack: fields show stream and value vs threshold")
    check(any("<https://rb.example/errors|Runbook>" in json.dumps(bl) for bl in s_t["blocks"]), "slack: runbook link")
    check(s_r["text"].startswith(":white_check_mark: Resolved"), "slack: resolved text says so")
    check(s_r["blocks"][0]["text"]["text"].startswith("Resolved"), "slack: resolved header says so")
    eq(p_t["routing_key"], "R0UT1NGKEY", "pagerduty: routing_key")
    eq(p_t["event_action"], "trigger", "pagerduty: event_action trigger")
    eq(p_r["event_action"], "resolve", "pagerduty: event_action resolve")
    check(p_t["dedup_key"] and p_t["dedup_key"] == p_r["dedup_key"], "pagerduty: dedup_key stable trigger->resolve")
    check("svc.payloads" in p_t["payload"]["summary"] and "api-1" in p_t["payload"]["summary"],
          "pagerduty: payload.summary")
    eq(p_t["payload"]["source"], "host=api-1", "pagerduty: payload.source is the stream")
    eq(p_t["payload"]["severity"], "critical", "pagerduty: payload.severity")
    eq(p_t["payload"]["custom_details"]["value"], 7, "pagerduty: custom_details.value")
    eq(p_t["payload"]["custom_details"]["threshold"], 3, "pagerduty: custom_details.threshold")
    eq(p_t["payload"]["custom_details"]["stream"], {"host": "api-1"}, "pagerduty: custom_details.stream")
    eq(p_t["links"][0]["href"], "https://rb.example/errors", "pagerduty: runbook link")
    send("errors", 9, {"host": "api-2"})
    p2 = settle("/pd", 3, "pagerduty: another stream triggers")[2]["body"]
    check(p2["dedup_key"] != p_t["dedup_key"], "pagerduty: dedup_key differs per stream")

    # test notification
    st, text, _ = v.request("POST", "/v1/services/%d/test" % slack)
    eq(st, 202, "POST /v1/services/:id/test -> 202")
    got = settle("/slack", 4, "test notification arrives (after the api-2 trigger)")
    check(got and "Test notification" in got[-1]["body"]["text"], "test notification says it is a test")

    # -- restart while firing: no second trigger; the later clear sends a resolve -----------------
    rs = service("restart-hook", "webhook", {"url": rc.url("/rs")})
    ra_id = alert("restart.one", [{"type": "above", "metric_name": "load", "threshold": 5}], [rs], rearm_seconds=0)
    send("load", 9, {"host": "r"})
    settle("/rs", 1, "restart: trigger before the restart")
    eq(v.stop(), 0, "graceful stop")
    v.start()
    st, s = v.get_json("/v1/alerts/%d/status" % ra_id)
    eq(s["status"], "triggered", "restart: still firing after the restart")
    send("load", 10, {"host": "r"})
    quiet("/rs", 1, "restart: a sample still beyond sends no second trigger")
    v.kill9()
    v.start()
    send("load", 11, {"host": "r"})
    quiet("/rs", 1, "restart: after kill -9 still no second trigger")
    send("load", 1, {"host": "r"})
    got = settle("/rs", 2, "restart: the clear sends a resolve")
    eq(got[1]["body"]["event"], "resolve", "restart: resolve")
finally:
    v.cleanup()
    rc.close()
finish()
