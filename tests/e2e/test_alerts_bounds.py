"""End to end: bounds on what alerting keeps.

The outbox holds at most alerts.outbox_max notifications: with a receiver down and a bound of 3,
five triggers queue three notifications; the two others are not queued, with a clear trace (a
`notification_dropped` history event, vigil_notifications_dropped_total) while the state changes
themselves are stored, and a test notification is refused with 507. Once the receiver is back the
three are delivered and the outbox takes notifications again.

Idle per-stream state is released after alerts.idle_stream_s: streams that are not firing leave
memory and the store (vigil_alert_streams), a firing one stays, and a released stream that reports
again is evaluated as a new one (it triggers and is notified)."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Vigil, args, check, eq, finish  # noqa: E402
from kafka_util import metrics, wait_for  # noqa: E402
from receiver import Receiver  # noqa: E402

A = args()
rc = Receiver()
v = Vigil(A.vigil, extra=["--set", "alerts.outbox_max=3", "--set", "alerts.backoff_initial_ms=200",
                          "--set", "alerts.backoff_max_ms=400", "--set", "alerts.max_attempts=1000",
                          "--set", "alerts.idle_stream_s=2"])


def post(metric, value, host):
    st, text, _ = v.post_json("/v1/measurements", {"measurements": [
        {"name": metric, "value": value, "tags": {"host": host}, "time": int(time.time())}]})
    check(st in (200, 202), "POST %s=%s host=%s (%s)" % (metric, value, host, st))


def alert(name, metric, svc):
    st, body, _ = v.post_json("/v1/alerts", {"name": name, "rearm_seconds": 0, "services": [svc],
                                             "conditions": [{"type": "above", "metric_name": metric, "threshold": 10}]})
    eq(st, 201, "alert %s created" % name)
    return json.loads(body)["id"]


try:
    v.start()
    st, body, _ = v.post_json("/v1/services", {"title": "hook", "type": "webhook", "settings": {"url": rc.url("/hook")}})
    svc = int(json.loads(body)["id"])

    # -- the outbox bound ------------------------------------------------------------------------------
    aid = alert("q.high", "q", svc)
    rc.set(status=503)
    for i in range(5):
        post("q", 50, "h%d" % i)
    wait_for(lambda: metrics(v).get("vigil_notifications_dropped_total", 0) >= 2, 10, "two dropped")
    m = metrics(v)
    eq(int(m.get("vigil_outbox_records", -1)), 3, "the outbox holds 3 (alerts.outbox_max)")
    eq(int(m.get("vigil_notifications_dropped_total", -1)), 2, "2 notifications not queued, counted")
    eq(int(m.get("vigil_alert_triggers_total", -1)), 5, "all 5 state changes stored")
    st, s = v.get_json("/v1/alerts/%d/status" % aid)
    eq(sorted(x["state"] for x in s["streams"]), ["triggered"] * 5, "all 5 streams firing")
    st, h = v.get_json("/v1/alerts/%d/history" % aid)
    dropped = [e for e in h["events"] if e["event"] == "notification_dropped"]
    eq(len(dropped), 2, "history: 2 notification_dropped events")
    check(all("outbox is full" in e["error"] and "alerts.outbox_max = 3" in e["error"] for e in dropped),
          "the dropped events name the bound")
    st, text, _ = v.request("POST", "/v1/services/%d/test" % svc)
    eq(st, 507, "a test notification into a full outbox: 507")
    check("outbox is full" in text, "with a clear error (%s)" % text[:160])
    rc.set(status=200)
    got = rc.wait_for(3, "/hook", timeout=20)
    eq(len(got), 3, "the 3 queued notifications are delivered once the receiver is back")
    wait_for(lambda: metrics(v).get("vigil_outbox_records", -1) == 0, 10, "the outbox empty")
    st, text, _ = v.request("POST", "/v1/services/%d/test" % svc)
    eq(st, 202, "then a test notification is queued again")
    eq(len(rc.wait_for(4, "/hook", timeout=20)), 4, "and delivered")

    # -- idle per-stream state ---------------------------------------------------------------------------
    rid = alert("r.high", "r", svc)
    before = len(rc.received("/hook"))
    for i in range(20):
        post("r", 1, "quiet%d" % i)  # not firing
    post("r", 50, "hot")             # firing
    wait_for(lambda: metrics(v).get("vigil_alert_streams", 0) >= 26, 10, "26 streams held (5 q, 21 r)")
    wait_for(lambda: metrics(v).get("vigil_alert_streams_released_total", 0) >= 20, 15, "20 idle streams released")
    m = metrics(v)
    eq(int(m.get("vigil_alert_streams", -1)), 6, "held: the 5 firing q streams and the firing r stream")
    eq(int(m.get("vigil_alert_streams_released_total", -1)), 20, "the 20 quiet r streams released")
    # The evaluators release a released stream's series trackers on their own threads, a moment later.
    deadline = time.time() + 15
    while time.time() < deadline and m.get("vigil_alert_series_released_total", 0) < 20:
        time.sleep(0.2)
        m = metrics(v)
    check(m.get("vigil_alert_series_released_total", 0) >= 20, "their series' trackers released too (%d)"
          % m.get("vigil_alert_series_released_total", 0))
    st, s = v.get_json("/v1/alerts/%d/status" % rid)
    eq([(x["tags"]["host"], x["state"]) for x in s["streams"]], [("hot", "triggered")], "the firing stream stays")
    post("r", 70, "quiet3")  # a released stream reports again: a new stream, it fires
    got = rc.wait_for(before + 2, "/hook", timeout=20)
    hosts = [r["body"]["stream"]["tags"]["host"] for r in got[before:]]
    eq(sorted(hosts), ["hot", "quiet3"], "the released stream triggers and is notified like a new one")
    eq(v.stop(), 0, "graceful stop exits 0")
    v.start()  # the released states were deleted from the store too
    eq(int(metrics(v).get("vigil_alert_streams", -1)), 7, "after a restart: the 7 firing streams, no released one")
finally:
    v.cleanup()
    rc.close()
finish()
