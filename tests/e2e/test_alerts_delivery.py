"""End to end: durable notification delivery. A receiver answering 500 and then hanging past the
delivery timeout gets every notification once it recovers, exactly once per idempotency key and
trigger before resolve; ingestion is not slowed by the hanging receiver; kill -9 of the engine
during a backlog loses nothing; notifications that cannot be delivered are kept as failed and
visible through the API; TLS certificates are verified."""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Vigil, args, check, eq, finish  # noqa: E402
from receiver import Receiver  # noqa: E402

A = args()
rc = Receiver()
FAST = ["--set", "alerts.backoff_initial_ms=100", "--set", "alerts.backoff_max_ms=400",
        "--set", "alerts.delivery_timeout_ms=500", "--set", "alerts.max_attempts=200"]
v = Vigil(A.vigil, extra=FAST).start()
tmp = tempfile.mkdtemp(prefix="vigil-tls-")
tls_rc = None


def post(metric, value, host):
    t0 = time.time()
    st, text, _ = v.post_json("/v1/measurements", {"measurements": [
        {"name": metric, "value": value, "tags": {"host": host}, "time": int(time.time())}]})
    if st not in (200, 202):
        check(False, "POST -> %s %s" % (st, text))
    return time.time() - t0


def by_key(reqs):
    out = {}
    for r in reqs:
        out.setdefault(r["headers"].get("idempotency-key"), []).append(r)
    return out


try:
    st, body, _ = v.post_json("/v1/services", {"title": "flaky", "type": "webhook", "settings": {"url": rc.url("/f")}})
    svc = int(json.loads(body)["id"])
    st, body, _ = v.post_json("/v1/alerts", {"name": "flaky.alert", "rearm_seconds": 0, "services": [svc],
                                             "conditions": [{"type": "above", "metric_name": "m", "threshold": 10}]})
    eq(st, 201, "alert created")

    # -- receiver down (500), then hanging past the timeout, then back -------------------------
    rc.set(status=500)
    hosts = ["h%d" % i for i in range(8)]
    for h in hosts:
        post("m", 50, h)
    for h in hosts:
        post("m", 1, h)  # 16 notifications: 8 triggers, 8 resolves
    time.sleep(1.5)
    attempts_500 = len(rc.received("/f", ok_only=False))
    check(attempts_500 >= 4, "receiver answering 500 is retried (%d attempts so far)" % attempts_500)
    eq(len(rc.received("/f")), 0, "nothing delivered while the receiver answers 500")
    st, n = v.get_json("/v1/notifications", {"state": "pending"})
    eq(len(n["notifications"]), 16, "16 notifications pending in the outbox")
    tried = [x for x in n["notifications"] if x["attempts"] >= 1]
    check(len(tried) >= 1 and all("HTTP 500" in (x.get("last_error") or "") for x in tried),
          "the outbox shows attempts and the last error (%d of 16 tried)" % len(tried))

    rc.set(status=503, hang=1.2)  # longer than the 500 ms delivery timeout
    worst = max(post("other", i, "x") for i in range(20))
    check(worst < 0.5, "ingestion is not slowed by a hanging receiver (slowest POST %.3f s)" % worst)
    time.sleep(2.0)
    rc.set(status=200, hang=0)
    got = rc.wait_for(16, "/f", timeout=30)
    keys = by_key(got)
    eq(len(keys), 16, "after recovery all 16 notifications arrived")
    eq(sorted(len(x) for x in keys.values()), [1] * 16, "each idempotency key was accepted exactly once")
    order = {}
    for r in got:
        order.setdefault(r["body"]["stream"]["tags"]["host"], []).append(r["body"]["event"])
    eq(sorted(order), sorted(hosts), "every stream notified")
    check(all(o == ["trigger", "resolve"] for o in order.values()), "per stream: trigger before resolve")
    time.sleep(0.3)
    st, n = v.get_json("/v1/notifications")
    eq(len(n["notifications"]), 0, "the outbox is empty after delivery")

    # -- kill -9 during a backlog ---------------------------------------------------------------
    rc.set(status=500)
    before = len(rc.received("/f"))
    for i in range(10):
        post("m", 99, "k%d" % i)
    time.sleep(0.8)
    v.kill9()
    rc.set(status=200)
    v.start()
    got = rc.wait_for(before + 10, "/f", timeout=30)
    new = [r for r in got[before:]]
    eq(sorted(r["body"]["stream"]["tags"]["host"] for r in new), sorted("k%d" % i for i in range(10)),
       "kill -9 during the backlog: all 10 triggers delivered after the restart")
    eq(sorted(len(x) for x in by_key(new).values()), [1] * 10, "kill -9: once per idempotency key")

    # -- kept as failed, visible through the API --------------------------------------------------
    st, body, _ = v.post_json("/v1/services", {"title": "gone", "type": "webhook",
                                               "settings": {"url": rc.url("/reject")}})
    bad = int(json.loads(body)["id"])
    rc.path_status["/reject"] = 400
    st, body, _ = v.post_json("/v1/alerts", {"name": "rejected.alert", "rearm_seconds": 0, "services": [bad],
                                             "conditions": [{"type": "above", "metric_name": "r", "threshold": 0}]})
    rid = json.loads(body)["id"]
    post("r", 5, "z")
    deadline = time.time() + 10
    failed = []
    while time.time() < deadline and not failed:
        time.sleep(0.2)
        failed = v.get_json("/v1/notifications", {"state": "failed"})[1]["notifications"]
    eq(len(failed), 1, "a notification answered 400 is kept as failed")
    if failed:
        eq(failed[0]["alert"]["id"], rid, "failed notification: alert id")
        check("HTTP 400" in failed[0]["last_error"], "failed notification: last error shows the 400")
    st, h = v.get_json("/v1/alerts/%d/history" % rid)
    eq([e["event"] for e in h["events"]].count("delivery_failed"), 1, "history has a delivery_failed event")

    # -- TLS: a self-signed receiver is refused (certificates are verified) ------------------------
    cert, key = os.path.join(tmp, "c.pem"), os.path.join(tmp, "k.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
                    "-days", "1", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
    tls_rc = Receiver(tls_cert=(cert, key))
    st, body, _ = v.post_json("/v1/services", {"title": "tls", "type": "webhook", "settings": {"url": tls_rc.url("/t")}})
    tid = int(json.loads(body)["id"])
    st, _, _ = v.request("POST", "/v1/services/%d/test" % tid)
    eq(st, 202, "test notification queued for the https service")
    time.sleep(1.5)
    eq(len(tls_rc.received("/t", ok_only=False)), 0, "no request reaches a receiver whose certificate is not trusted")
    st, n = v.get_json("/v1/notifications")
    errs = [x["last_error"] for x in n["notifications"] if x["service"]["id"] == tid]
    check(errs and "certificate verify failed" in errs[0], "the error names the certificate failure: %r" % errs[:1])
finally:
    v.cleanup()
    rc.close()
    if tls_rc:
        tls_rc.close()
finish()
