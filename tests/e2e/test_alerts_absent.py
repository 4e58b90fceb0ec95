"""End to end: the `absent` condition. A stream that stops reporting for `duration` seconds (60,
the Librato minimum) fires within one second after the duration elapses, detected by the shard's
timer (no polling of the store); a stream never seen does not fire; the next sample clears."""
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
try:
    st, body, _ = v.post_json("/v1/services", {"title": "hook", "type": "webhook", "settings": {"url": rc.url("/a")}})
    svc = int(json.loads(body)["id"])
    st, body, _ = v.post_json("/v1/alerts", {
        "name": "heartbeat.missing", "rearm_seconds": 0, "services": [svc],
        "conditions": [{"type": "absent", "metric_name": "heartbeat", "source": "*", "duration": 60}]})
    eq(st, 201, "absent alert created")
    # Two streams report; one keeps reporting, the other stops.
    last = None
    for i in range(3):
        for host in ("alive", "dies"):
            v.post_json("/v1/measurements", {"measurements": [
                {"name": "heartbeat", "value": 1, "tags": {"host": host}, "time": int(time.time())}]})
        last = time.time()
        time.sleep(1)
    stop = last
    got = []
    while time.time() - stop < 75:
        v.post_json("/v1/measurements", {"measurements": [
            {"name": "heartbeat", "value": 1, "tags": {"host": "alive"}, "time": int(time.time())}]})
        got = rc.received("/a")
        if got:
            break
        time.sleep(0.05 if time.time() - stop > 58 else 1.0)
    eq(len(got), 1, "absent fired once")
    if got:
        delay = got[0]["t"] - stop
        check(60.0 <= delay <= 61.0, "absent fired within 1 s after the 60 s elapsed (after %.3f s)" % delay)
        eq(got[0]["body"]["stream"]["tags"], {"host": "dies"}, "absent: the silent stream fired")
        eq(got[0]["body"]["condition"]["type"], "absent", "absent: condition type")
    time.sleep(0.5)
    eq(len(rc.received("/a")), 1, "the stream still reporting did not fire")
    v.post_json("/v1/measurements", {"measurements": [
        {"name": "heartbeat", "value": 1, "tags": {"host": "dies"}, "time": int(time.time())}]})
    got = rc.wait_for(2, "/a", timeout=5)
    eq(len(got), 2, "a new sample clears the absent alert")
    if len(got) == 2:
        eq(got[1]["body"]["event"], "resolve", "resolve after the stream came back")
    # The receiver has the second request before the notifier has its answer and counts the
    # delivery: poll /metrics for a moment.
    deadline = time.time() + 5
    while True:
        m = v.request("GET", "/metrics")[1]
        counted = "vigil_alert_triggers_total 1" in m and "vigil_notifications_delivered_total 2" in m
        if counted or time.time() > deadline:
            break
        time.sleep(0.05)
    check(counted, "/metrics counts the trigger and the two deliveries")
finally:
    v.cleanup()
    rc.close()
finish()
