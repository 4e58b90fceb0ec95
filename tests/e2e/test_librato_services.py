"""The service types of Librato's list beyond webhook, Slack and PagerDuty, as alert migrations send
them: `mail` delivered through an SMTP server set in the config (a real local SMTP receiver,
Debian's python3-aiosmtpd), OpsGenie and VictorOps posting their documented payloads (to a real
local HTTP receiver), and the types of services that no longer exist (campfire, hipchat, flowdock)
stored and reported as undeliverable, never silently dropped."""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import Vigil, args, check, eq, finish  # noqa: E402
from receiver import Receiver  # noqa: E402

A = args()
HERE = os.path.dirname(os.path.abspath(__file__))


def smtp_python():
    """An interpreter that has aiosmtpd (Debian's package lives in the system Python)."""
    for py in (sys.executable, "/usr/bin/python3"):
        if subprocess.run([py, "-c", "import aiosmtpd"], capture_output=True).returncode == 0:
            return py
    raise SystemExit("python3-aiosmtpd is not installed (scripts/deps installs it)")


def start_smtp(out):
    proc = subprocess.Popen([smtp_python(), os.path.join(HERE, "smtp_receiver.py"), out], stdout=subprocess.PIPE)
    port = int(proc.stdout.readline())
    return proc, port


def mails(out, n, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        files = sorted(glob.glob(os.path.join(out, "[0-9]*.json")))
        if len(files) >= n:
            return [json.load(open(f)) for f in files]
        time.sleep(0.05)
    return [json.load(open(f)) for f in sorted(glob.glob(os.path.join(out, "[0-9]*.json")))]


def notifications(v, service_id):
    st, r = v.get_json("/v1/notifications")
    return [n for n in r["notifications"] if str(n["service"]["id"]) == str(service_id)]


def wait_state(v, service_id, state, n=1, timeout=15):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = [x for x in notifications(v, service_id) if x["state"] == state]
        if len(got) >= n:
            return got
        time.sleep(0.05)
    return [x for x in notifications(v, service_id) if x["state"] == state]


def service(v, body):
    st, text, _ = v.post_json("/v1/services", body)
    return st, (json.loads(text) if text else {})


def main():
    out = tempfile.mkdtemp(prefix="vigil-smtp-")
    smtp, port = start_smtp(out)
    rc = Receiver()
    v = Vigil(A.vigil, extra=["--set", "alerts.smtp_url=smtp://127.0.0.1:%d" % port,
                              "--set", "alerts.smtp_from=alerts@vigil.example",
                              "--set", "alerts.backoff_initial_ms=100", "--set", "alerts.backoff_max_ms=200",
                              "--set", "alerts.max_attempts=3"]).start()
    bare = None
    try:
        # -- mail ---------------------------------------------------------------------------------
        st, mail = service(v, {"title": "Email ops team", "type": "mail",
                               "settings": {"addresses": "george@example.com,fred@example.com"}})
        eq((st, mail.get("type"), mail.get("status")), (201, "mail", "deliverable"), "mail service (the seed's example)")
        eq(service(v, {"title": "m", "type": "mail", "settings": {"addresses": "not an address"}})[0], 400,
           "mail without valid addresses -> 400")
        eq(service(v, {"title": "m", "type": "mail", "settings": {}})[0], 400, "mail without addresses -> 400")
        st, body, _ = v.post_json("/v1/alerts", {"name": "disk.full", "rearm_seconds": 0, "services": [int(mail["id"])],
                                                 "description": "The disk is filling up.",
                                                 "conditions": [{"type": "above", "metric_name": "disk", "threshold": 90}]})
        eq(st, 201, "an alert notifying the mail service")
        now = int(time.time())
        v.post_json("/v1/measurements", {"measurements": [{"name": "disk", "value": 97, "time": now,
                                                           "tags": {"host": "db-1"}}]})
        got = mails(out, 1)
        eq(len(got), 1, "the trigger is delivered as one e-mail")
        m = got[0] if got else {"to": [], "data": "", "from": ""}
        eq((m["from"], sorted(m["to"])), ("alerts@vigil.example", ["fred@example.com", "george@example.com"]),
           "envelope: the configured sender, every address of the service")
        check("Subject: [Vigil] Alert triggered: disk.full on host=db-1" in m["data"], "subject names alert and stream")
        check("Value: 97 (threshold 90)" in m["data"] and "The disk is filling up." in m["data"],
              "the body carries the value, the threshold and the alert's description")
        deadline = time.time() + 10
        while notifications(v, mail["id"]) and time.time() < deadline:
            time.sleep(0.05)
        eq(notifications(v, mail["id"]), [], "the delivered mail left the outbox (nothing pending or failed)")
        v.post_json("/v1/measurements", {"measurements": [{"name": "disk", "value": 40, "time": now + 60,
                                                           "tags": {"host": "db-1"}}]})
        got = mails(out, 2)
        check(len(got) == 2 and "Subject: [Vigil] Resolved: disk.full on host=db-1" in got[-1]["data"],
              "the resolve is a second e-mail")
        # A recipient the server refuses (550) is a final failure, kept in the outbox with the reply.
        st, bad = service(v, {"title": "bad", "type": "mail", "settings": {"addresses": ["reject@example.com"]}})
        eq(v.request("POST", "/v1/services/%s/test" % bad["id"])[0] // 100, 2, "test notification to a refusing server")
        failed = wait_state(v, bad["id"], "failed")
        check(len(failed) == 1 and "550" in (failed[0].get("last_error") or ""),
              "a refused recipient fails the notification with the server's reply: %r" % failed)

        # -- OpsGenie and VictorOps -------------------------------------------------------------------
        st, og = service(v, {"title": "OpsGenie", "type": "opsgenie",
                             "settings": {"api_key": "og-key-1", "url": rc.url("/og")}})
        eq(st, 201, "opsgenie service")
        eq(service(v, {"title": "o", "type": "opsgenie", "settings": {}})[0], 400, "opsgenie without api_key -> 400")
        st, vo = service(v, {"title": "VictorOps", "type": "victorops",
                             "settings": {"api_key": "vo-key", "routing_key": "ops", "url": rc.url("/vo")}})
        eq(st, 201, "victorops service")
        eq(service(v, {"title": "o", "type": "victorops", "settings": {"api_key": "k"}})[0], 400,
           "victorops without routing_key -> 400")
        st, body, _ = v.post_json("/v1/alerts", {"name": "queue.depth", "rearm_seconds": 0,
                                                 "services": [int(og["id"]), int(vo["id"])],
                                                 "conditions": [{"type": "above", "metric_name": "queue", "threshold": 5}]})
        eq(st, 201, "an alert on both")
        v.post_json("/v1/measurements", {"measurements": [{"name": "queue", "value": 9, "time": now,
                                                           "tags": {"host": "mq-1"}}]})
        rc.wait_for(1, "/og/v2/alerts")
        rc.wait_for(1, "/vo/integrations/generic/20131114/alert/vo-key/ops")
        v.post_json("/v1/measurements", {"measurements": [{"name": "queue", "value": 1, "time": now + 60,
                                                           "tags": {"host": "mq-1"}}]})
        og_create = rc.received("/og/v2/alerts")
        check(len(og_create) == 1, "OpsGenie: one create request")
        if og_create:
            r = og_create[0]
            eq(r["headers"].get("authorization"), "GenieKey og-key-1", "OpsGenie: GenieKey authorization")
            b = r["body"]
            check(b.get("message", "").startswith("queue.depth on host=mq-1") and len(b["message"]) <= 130,
                  "OpsGenie: message (at most 130 characters)")
            check(b.get("alias", "").startswith("vigil-alert-") and b.get("source") == "Vigil" and b.get("priority") == "P1",
                  "OpsGenie: alias, source, priority")
            eq(b.get("details", {}).get("value"), "9", "OpsGenie: details carry the value")
            closes = rc.wait_for(1, "/og/v2/alerts/%s/close?identifierType=alias" % b.get("alias"))
            eq(len(closes), 1, "OpsGenie: the resolve closes the alert by its alias")
        vo_path = "/vo/integrations/generic/20131114/alert/vo-key/ops"
        vo_reqs = rc.wait_for(2, vo_path)
        eq([r["body"].get("message_type") for r in vo_reqs], ["CRITICAL", "RECOVERY"],
           "VictorOps: CRITICAL then RECOVERY on the REST endpoint of api_key and routing_key")
        if len(vo_reqs) == 2:
            eq(vo_reqs[0]["body"]["entity_id"], vo_reqs[1]["body"]["entity_id"], "VictorOps: one entity_id per stream")
            eq(vo_reqs[0]["body"].get("monitoring_tool"), "Vigil", "VictorOps: monitoring_tool")

        # -- services that no longer exist --------------------------------------------------------------
        st, camp = service(v, {"title": "Notify Ops Room", "type": "campfire",
                               "settings": {"token": "1234567890ABCDEF", "room": "Ops", "subdomain": "acme"}})
        eq((st, camp.get("status"), camp.get("settings", {}).get("room")), (201, "undeliverable", "Ops"),
           "campfire (the seed's example) is stored, reported undeliverable, its settings kept")
        for t in ("hipchat", "flowdock"):
            st, s = service(v, {"title": t, "type": t, "settings": {}})
            eq((st, s.get("status")), (201, "undeliverable"), "%s is stored as undeliverable" % t)
        eq(service(v, {"title": "x", "type": "carrier-pigeon", "settings": {}})[0], 400, "an unknown type -> 400")
        st, body, _ = v.post_json("/v1/alerts", {"name": "legacy.room", "rearm_seconds": 0, "services": [int(camp["id"])],
                                                 "conditions": [{"type": "above", "metric_name": "legacy", "threshold": 1}]})
        eq(st, 201, "an alert migrated with its campfire service")
        v.post_json("/v1/measurements", {"measurements": [{"name": "legacy", "value": 5, "time": now}]})
        failed = wait_state(v, camp["id"], "failed")
        check(len(failed) == 1 and "undeliverable" in (failed[0].get("last_error") or ""),
              "its notification is kept as failed and says undeliverable, never dropped: %r" % failed)
        eq(v.get_json("/v1/services/%s" % camp["id"])[1].get("status"), "undeliverable", "GET shows the status")

        # -- secrets are write-only ---------------------------------------------------------------------
        st, hook = service(v, {"title": "signed", "type": "webhook",
                               "settings": {"url": rc.url("/signed"), "secret": "hmac-secret-1",
                                            "headers": {"Authorization": "Bearer hdr-token-1"}}})
        eq((hook["settings"]["secret"], hook["settings"]["headers"]["Authorization"], hook["settings"]["url"]),
           ("********", "********", rc.url("/signed")), "webhook secret and header values are shown masked")
        st, text, _ = v.request("POST", "/v1/api_tokens", json.dumps({"name": "viewer", "role": "viewer"}),
                                "application/json")
        viewer = ("test@example.com", json.loads(text)["token"])
        st, seen = v.get_json("/v1/services/%s" % hook["id"], auth=viewer)
        check("hmac-secret-1" not in json.dumps(seen) and "hdr-token-1" not in json.dumps(seen),
              "a viewer sees no secret")
        st, lst = v.get_json("/v1/services")
        check("hmac-secret-1" not in json.dumps(lst) and "george" in json.dumps(lst), "nor does the service list")
        # The client sends back what it read, with a new title: the secrets stay and still sign.
        back = {"title": "signed again", "settings": hook["settings"]}
        eq(v.request("PUT", "/v1/services/%s" % hook["id"], json.dumps(back), "application/json")[0], 204,
           "PUT the masked settings back")
        eq(v.request("POST", "/v1/services/%s/test" % hook["id"])[0] // 100, 2, "test notification")
        got = rc.wait_for(1, "/signed")
        if got:
            import hashlib
            import hmac
            want = "sha256=" + hmac.new(b"hmac-secret-1", got[0]["raw"], hashlib.sha256).hexdigest()
            eq((got[0]["headers"].get("x-vigil-signature"), got[0]["headers"].get("authorization")),
               (want, "Bearer hdr-token-1"), "the stored secret still signs and the header is sent")
        else:
            check(False, "the signed webhook was delivered")
        check("hmac-secret-1" not in v.log() and "hdr-token-1" not in v.log(), "no secret in the log")

        # -- egress policy -----------------------------------------------------------------------------
        for url in ("http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/h", "http://[fd00:ec2::254]/",
                    "http://100.100.100.200/"):
            st, text, _ = v.post_json("/v1/services", {"title": "md", "type": "webhook", "settings": {"url": url}})
            check(st == 400 and "settings.url" in text and "refused" in text,
                  "a webhook to %s is refused: %s %s" % (url, st, text))
        eq(service(v, {"title": "pd", "type": "pagerduty", "settings": {"routing_key": "k",
                                                                         "url": "http://169.254.169.254/"}})[0],
           400, "any service type with a metadata url is refused")

        # -- without an SMTP server, mail is undeliverable and says why; private targets refused --------
        bare = Vigil(A.vigil, extra=["--set", "alerts.allow_private_targets=false"]).start()
        st, text, _ = bare.post_json("/v1/services", {"title": "local", "type": "webhook",
                                                      "settings": {"url": "http://localhost:%d/h" % rc.port}})
        eq(st, 201, "a webhook to a host name is accepted at creation (judged at delivery)")
        lid = json.loads(text)["id"]
        bare.request("POST", "/v1/services/%s/test" % lid)
        failed = wait_state(bare, lid, "failed")
        check(len(failed) == 1 and "egress refused" in (failed[0].get("last_error") or "") and
              "127.0.0.1" in failed[0]["last_error"],
              "allow_private_targets=false: the name resolving to loopback is refused at delivery, not retried: %r"
              % failed)
        eq(failed[0]["attempts"] if failed else None, 1, "a refused target is not retried")
        eq(len(rc.received("/h", ok_only=False)), 0, "nothing reached the receiver")
        st, text, _ = bare.post_json("/v1/services", {"title": "m", "type": "mail", "settings": {"addresses": "a@b.c"}})
        sid = json.loads(text)["id"]
        bare.request("POST", "/v1/services/%s/test" % sid)
        failed = wait_state(bare, sid, "failed")
        check(len(failed) == 1 and "alerts.smtp_url" in (failed[0].get("last_error") or ""),
              "no SMTP server configured: the failure names alerts.smtp_url: %r" % failed)
        # The setting is validated like every other.
        p = subprocess.run([A.vigil, "serve", "--data-dir", tempfile.mkdtemp(prefix="vigil-e2e-"), "--listen",
                            "127.0.0.1:0", "--set", "alerts.smtp_url=http://mail"], capture_output=True, text=True,
                           timeout=30)
        check(p.returncode == 2 and "alerts.smtp_url" in (p.stdout + p.stderr), "a bad smtp_url is refused at start")
    finally:
        v.cleanup()
        if bare:
            bare.cleanup()
        rc.close()
        smtp.kill()
        smtp.wait()
        shutil.rmtree(out, ignore_errors=True)
    finish()


main()
