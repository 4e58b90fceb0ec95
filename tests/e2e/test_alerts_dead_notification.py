"""End to end: one dead notification does not block the others of its service, and failed
notifications are retained for alerts.failed_retention_s, listable with paging.

A real local HTTP receiver answers 500 to every notification about a stream `dead*` and 200 to
the rest. The dead trigger is retried with backoff (up to 50 attempts, about half a minute), yet
the notifications of the other streams of the same service are delivered at once, each stream in
order (trigger before resolve), and the dead stream's resolve waits behind its trigger. After a
restart with fewer attempts the dead ones fail; they are listed page by page through
GET /v1/notifications?state=failed, survive a restart, and are purged once their retention ends."""
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
rc.status_for = lambda path, body: 500 if isinstance(body, dict) and str(
    body.get("stream", {}).get("tags", {}).get("host", "")).startswith("dead") else None
COMMON = ["--set", "alerts.backoff_initial_ms=300", "--set", "alerts.backoff_max_ms=600",
          "--set", "alerts.delivery_timeout_ms=2000"]
v = Vigil(A.vigil, extra=COMMON + ["--set", "alerts.max_attempts=50"])


def post(value, host):
    st, text, _ = v.post_json("/v1/measurements", {"measurements": [
        {"name": "load", "value": value, "tags": {"host": host}, "time": int(time.time())}]})
    check(st in (200, 202), "POST load=%s host=%s (%s)" % (value, host, st))


def events(host, ok_only):
    return [r["body"]["event"] for r in rc.received("/hook", ok_only=ok_only)
            if r["body"]["stream"]["tags"]["host"] == host]


try:
    v.start()
    st, body, _ = v.post_json("/v1/services", {"title": "hook", "type": "webhook", "settings": {"url": rc.url("/hook")}})
    svc = int(json.loads(body)["id"])
    st, body, _ = v.post_json("/v1/alerts", {"name": "load.high", "rearm_seconds": 0, "services": [svc],
                                             "conditions": [{"type": "above", "metric_name": "load", "threshold": 10}]})
    eq(st, 201, "alert created")
    aid = json.loads(body)["id"]

    # -- the dead trigger first, then five live streams, triggers and resolves ---------------------
    post(50, "dead0")
    time.sleep(0.3)  # its first attempt has failed: it waits for its retry
    live = ["live%d" % i for i in range(5)]
    t0 = time.time()
    for h in live:
        post(50, h)
    for h in live:
        post(1, h)
    post(1, "dead0")  # the dead stream's resolve: behind its trigger
    got = rc.wait_for(10, "/hook", timeout=15)
    took = time.time() - t0
    eq(len(got), 10, "the 10 live notifications were delivered while the dead one is retried")
    check(took < 10, "the live ones did not wait for the dead one's attempts (%.1f s; its retries last ~25 s)" % took)
    for h in live:
        eq(events(h, True), ["trigger", "resolve"], "%s: trigger, then resolve, once each" % h)
    wait_for(lambda: len(events("dead0", False)) >= 3, 15, "the dead trigger retried")
    dead_attempts = events("dead0", False)
    check(len(dead_attempts) >= 3, "the dead trigger is retried meanwhile (%d attempts so far)" % len(dead_attempts))
    eq(set(dead_attempts), {"trigger"}, "the dead stream's resolve is not sent before its trigger")
    st, n = v.get_json("/v1/notifications", {"state": "pending"})
    eq(sorted(x["kind"] for x in n["notifications"]), ["resolve", "trigger"], "dead0's two notifications pending")

    # -- restart with 2 attempts: the dead ones fail; more dead streams ------------------------------
    eq(v.stop(), 0, "graceful stop exits 0")
    v.extra = COMMON + ["--set", "alerts.max_attempts=2", "--set", "alerts.failed_retention_s=3600"]
    v.start()
    for i in range(1, 5):
        post(50, "dead%d" % i)
    failed = wait_for(lambda: (lambda r: r if len(r) == 6 else None)(
        v.get_json("/v1/notifications", {"state": "failed", "length": 100})[1]["notifications"]), 30,
        "six failed notifications")
    eq(len(failed), 6, "6 failed: dead0's trigger and resolve, the triggers of dead1..dead4")
    check(all(isinstance(x.get("failed_at"), int) and x["failed_at"] > 0 for x in failed), "each shows failed_at")
    check(all("HTTP 500" in x["last_error"] for x in failed), "each shows the receiver's last answer")
    ids = [x["id"] for x in failed]
    eq(ids, sorted(ids), "listed in outbox order")
    st, p1 = v.get_json("/v1/notifications", {"state": "failed", "length": 4})
    st2, p2 = v.get_json("/v1/notifications", {"state": "failed", "length": 4, "offset": 4})
    eq((st, st2), (200, 200), "pages answered 200")
    eq((p1["query"]["found"], p1["query"]["length"], p1["query"]["offset"]), (6, 4, 0), "page 1: 4 of 6")
    eq((p2["query"]["found"], p2["query"]["length"], p2["query"]["offset"]), (6, 2, 4), "page 2: 2 of 6")
    eq([x["id"] for x in p1["notifications"] + p2["notifications"]], ids, "the two pages hold every failed one once")
    st, p3 = v.get_json("/v1/notifications", {"state": "failed", "length": 2, "sort": "desc"})
    eq([x["id"] for x in p3["notifications"]], ids[::-1][:2], "sort=desc: newest first")
    st, bad = v.get_json("/v1/notifications", {"state": "failed", "length": 0})
    eq(st, 400, "length=0 is refused")
    eq(int(metrics(v).get("vigil_outbox_failed_records", -1)), 6, "vigil_outbox_failed_records = 6")
    st, h = v.get_json("/v1/alerts/%d/history" % aid)
    eq([e["event"] for e in h["events"]].count("delivery_failed"), 6, "history: six delivery_failed events")

    # -- kept across a restart, purged once their retention ends ---------------------------------------
    eq(v.stop(), 0, "graceful stop exits 0")
    v.extra = COMMON + ["--set", "alerts.failed_retention_s=3600"]
    v.start()
    st, n = v.get_json("/v1/notifications", {"state": "failed"})
    eq(len(n["notifications"]), 6, "the failed notifications are kept across a restart")
    eq(v.stop(), 0, "graceful stop exits 0")
    time.sleep(1.0)
    v.extra = COMMON + ["--set", "alerts.failed_retention_s=1"]
    v.start()
    wait_for(lambda: metrics(v).get("vigil_notifications_purged_total", 0) == 6, 15, "six purged")
    st, n = v.get_json("/v1/notifications")
    eq(n["notifications"], [], "the outbox is empty once their retention (1 s) ended")
    eq(int(metrics(v).get("vigil_outbox_records", -1)), 0, "vigil_outbox_records = 0")
finally:
    v.cleanup()
    rc.close()
finish()
