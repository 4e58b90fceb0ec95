"""End to end: a failed write of an alert's state change. The first three writes of a batch that
holds alert state fail (storage.fault_injection, a fault-injection setting: a real RocksDB write
error cannot be produced on demand for one key family). The stream's state must not move without
its write: the transition is kept and applied again, and the trigger is delivered to a real local
HTTP receiver exactly once, followed by its resolve, exactly once too."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Vigil, args, check, eq, finish  # noqa: E402
from kafka_util import metrics  # noqa: E402
from receiver import Receiver  # noqa: E402

A = args()
rc = Receiver()
v = Vigil(A.vigil, extra=["--set", "storage.fault_injection=write:alertstate/:3",
                          "--set", "alerts.backoff_initial_ms=100", "--set", "alerts.delivery_timeout_ms=1000"])


def post(value, host="a"):
    st, text, _ = v.post_json("/v1/measurements", {"measurements": [
        {"name": "temp", "value": value, "tags": {"host": host}, "time": int(time.time())}]})
    check(st in (200, 202), "POST temp=%s accepted (%s)" % (value, st))


try:
    v.start()
    st, body, _ = v.post_json("/v1/services", {"title": "hook", "type": "webhook", "settings": {"url": rc.url("/hook")}})
    svc = int(json.loads(body)["id"])
    st, body, _ = v.post_json("/v1/alerts", {"name": "temp.high", "rearm_seconds": 0, "services": [svc],
                                             "conditions": [{"type": "above", "metric_name": "temp", "threshold": 10}]})
    eq(st, 201, "alert created")
    aid = json.loads(body)["id"]

    post(50)
    got = rc.wait_for(1, "/hook", timeout=20)
    eq(len(got), 1, "the trigger reached the receiver after the failed state writes")
    time.sleep(1.5)  # a second delivery, if any, would come now
    got = rc.received("/hook", ok_only=False)
    eq([r["body"]["event"] for r in got], ["trigger"], "the trigger was sent exactly once")
    m = metrics(v)
    eq(int(m.get("vigil_alert_state_persist_failures_total", -1)), 3, "three failed state writes counted")
    eq(int(m.get("vigil_alert_state_persist_retries_total", -1)), 1, "the kept transition was written by a retry")
    check(m.get('vigil_storage_errors_total{op="write"}', 0) >= 3, "the failed writes are storage errors in /metrics")
    eq(int(m.get("vigil_alert_unpersisted_transitions", -1)), 0, "nothing left to persist")
    st, s = v.get_json("/v1/alerts/%d/status" % aid)
    eq((st, s["status"], [x["state"] for x in s["streams"]]), (200, "triggered", ["triggered"]),
       "the alert's status shows the stream firing")
    st, h = v.get_json("/v1/alerts/%d/history" % aid)
    events = [e["event"] for e in h["events"]]
    eq(events.count("trigger"), 1, "history: one trigger event")
    eq(events.count("notify"), 1, "history: one delivery")

    post(1)  # clears: the fault is spent, the resolve goes out at once
    got = rc.wait_for(2, "/hook", timeout=20)
    time.sleep(1.0)
    got = rc.received("/hook", ok_only=False)
    eq([r["body"]["event"] for r in got], ["trigger", "resolve"], "then the resolve, once, after the trigger")
    keys = [r["headers"].get("idempotency-key") for r in got]
    eq(len(set(keys)), 2, "two notifications, two idempotency keys")

    # The state that was written is the state a restart finds: the stream is not firing any more.
    eq(v.stop(), 0, "graceful stop exits 0")
    v.start()
    st, s = v.get_json("/v1/alerts/%d/status" % aid)
    eq((st, s["status"], [x["state"] for x in s["streams"]]), (200, "ok", ["ok"]), "after a restart the stream is not firing")
    post(60)
    got = rc.wait_for(3, "/hook", timeout=20)
    eq([r["body"]["event"] for r in got], ["trigger", "resolve", "trigger"], "a new trigger after the restart, once")
finally:
    v.cleanup()
    rc.close()
finish()
