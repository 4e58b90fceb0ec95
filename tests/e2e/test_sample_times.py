"""One window of sample times on the real binary, ingest and query alike: 0 to 253402300799
(1970-01-01 to 9999-12-31T23:59:59Z). Over HTTP a measurement outside it is a 400 naming `time`
that stores nothing of its batch (JSON v1, legacy JSON and legacy form); the window's last second
is stored and read back. Queries take start_time and end_time within the same window and refuse
the int64 extremes with a 400 naming the parameter. Over Kafka a message with a time outside the
window is dead-lettered as an invalid measurement (both the single-measurement scan and a batch
message), a line protocol time that overflows is refused, and the other messages are stored."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Vigil, args, check, eq, finish  # noqa: E402
from kafka_util import Mock, consume_all, metrics, produce, wait_consumed  # noqa: E402

A = args()
LAST = 253402300799  # 9999-12-31T23:59:59Z
FIRST = 0


def m(name, value, t, src="a"):
    return {"name": name, "value": value, "time": t, "tags": {"source": src}}


def points(v, name, start, end, res=60):
    st, r = v.get_json("/v1/measurements/" + name, {"start_time": start, "end_time": end, "resolution": res,
                                                     "summary_function": "sum"})
    if st != 200:
        return st
    return sorted((p["time"], p["value"]) for s in r["series"] for p in s["measurements"])


def errors_of(text):
    try:
        return json.loads(text).get("errors", {}).get("params", {})
    except ValueError:
        return {}


mock = Mock(A.vigil, partitions=1)
v = Vigil(A.vigil, extra=["--kafka-bootstrap", mock.bootstrap])
try:
    v.start()
    # -- HTTP ingest ---------------------------------------------------------------------------------
    st, text, _ = v.post_json("/v1/measurements", {"measurements": [m("far", 7, LAST), m("far", 3, FIRST)]})
    eq(st, 200, "the window's last second and its first are accepted: %s" % text)
    for bad in (LAST + 1, -1, 2 ** 62, 9223372036854775807):
        st, text, _ = v.post_json("/v1/measurements", {"measurements": [m("far", 1, LAST - 60), m("far", 1, bad)]})
        eq(st, 400, "time %d -> 400" % bad)
        check("253402300799" in text and any("time" in k for k in errors_of(text)),
              "the error names the time and the window (%d): %s" % (bad, text))
    st, text, _ = v.post_json("/v1/measurements", {"time": LAST + 1, "measurements": [{"name": "far", "value": 1,
                                                                                         "tags": {"source": "a"}}]})
    eq(st, 400, "a top-level time outside the window -> 400")
    st, text, _ = v.post_json("/v1/metrics", {"measure_time": LAST + 1, "gauges": [{"name": "far", "value": 1,
                                                                                     "source": "a"}]})
    eq(st, 400, "legacy JSON with measure_time outside the window -> 400")
    st, text, _ = v.post_form("/v1/metrics", [("measure_time", str(LAST + 1)), ("gauges[0][name]", "far"),
                                              ("gauges[0][value]", "1"), ("gauges[0][source]", "a")])
    eq(st, 400, "legacy form with measure_time outside the window -> 400")
    eq(points(v, "far", LAST - 86400, LAST), [(LAST - LAST % 60, 7)],
       "only the accepted sample of the window's last minute is stored (no refused batch left anything)")
    eq(points(v, "far", FIRST, 3600), [(0, 3)], "the sample at time 0 is stored")

    # -- queries -------------------------------------------------------------------------------------
    eq(points(v, "far", LAST - 59, LAST, res=1), [(LAST, 7)], "the last second read at resolution 1")
    for start, end, name in ((LAST - 60, LAST + 1, "end_time"), (-1, 60, "start_time"),
                             (-9223372036854775808, LAST, "start_time"), (0, 9223372036854775807, "end_time")):
        st, r = v.get_json("/v1/measurements/far", {"start_time": start, "end_time": end, "resolution": 60})
        eq(st, 400, "a query from %d to %d -> 400" % (start, end))
        check(name in (r or {}).get("errors", {}).get("params", {}), "it names %s: %s" % (name, r))

    # -- Kafka ---------------------------------------------------------------------------------------
    msgs = [json.dumps(m("kfar", 5, LAST)),                                   # stored
            json.dumps(m("kfar", 1, LAST + 1)),                               # single measurement: refused
            json.dumps({"measurements": [m("kfar", 1, LAST - 60), m("kfar", 1, -5)]}),  # batch: refused whole
            "kfar,source=a value=1 99999999999999999999",                      # line protocol: overflow
            json.dumps(m("kfar", 2, LAST - 120))]                             # stored
    produce(mock.bootstrap, "measurements", 0, msgs)
    wait_consumed(v, len(msgs), timeout=120)
    mt = metrics(v)
    eq(int(mt["vigil_kafka_samples_total"]), 2, "the two good messages stored")
    bad = {k: int(x) for k, x in mt.items() if k.startswith("vigil_kafka_bad_messages_total")}
    eq(sum(bad.values()), 3, "three bad messages counted: %s" % bad)
    eq(bad.get('vigil_kafka_bad_messages_total{reason="invalid_measurement"}'), 3,
       "each as an invalid measurement (the line protocol's time included): %s" % bad)
    eq(points(v, "kfar", LAST - 3600, LAST), [(LAST - LAST % 60 - 120, 2), (LAST - LAST % 60, 5)],
       "Kafka: the window's last second and the other good sample stored, nothing of the refused batch")
    dlq = []
    for _ in range(40):
        dlq = consume_all(mock.bootstrap, "measurements.dlq")
        if len(dlq) >= 3:
            break
        time.sleep(0.25)
    got = []
    for d in dlq:
        h = d.get("headers") or []
        hd = dict(zip(h[0::2], h[1::2])) if isinstance(h, list) else h
        got.append((int(hd.get("source_offset", -1)), hd.get("reason", "")))
    got.sort()
    check(len(got) == 3 and all("time" in r for _, r in got), "each reason names the time: %r" % got)
    got = [o for o, _ in got]
    eq(got, [1, 2, 3], "the three refused messages on the dead-letter topic, by offset")
    eq(v.stop(), 0, "graceful stop")
finally:
    v.cleanup()
    mock.stop()
finish()
