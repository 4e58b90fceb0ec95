"""Bounds on growth on the real binary: limits.max_series (global) and limits.max_series_per_metric.
Over HTTP (Librato) a batch holding a new series beyond a limit is refused whole with a 400 naming
the limit (nothing of it stored, no metric created); over Kafka the message is dead-lettered with
its reason and the other messages are stored. Existing series keep accepting samples, refusals are
counted in vigil_series_refused_total{limit}, and the limits hold after a restart (the counts come
from the series index)."""
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Vigil, args, check, eq, finish  # noqa: E402
from kafka_util import Mock, consume_all, metrics, produce, wait_consumed  # noqa: E402

A = args()
NOW = int(time.time())
T0 = NOW - NOW % 60 - 3600
LIMITS = ["--set", "limits.max_series=6", "--set", "limits.max_series_per_metric=3"]


def m(name, src, value, t=T0):
    return {"name": name, "value": value, "time": t, "tags": {"source": src}}


def params_errors(r):
    return (r or {}).get("errors", {}).get("params", {})


def values(v, name, src):
    st, r = v.get_json("/v1/measurements/" + name, {"start_time": T0 - 60, "end_time": T0 + 600, "resolution": 60,
                                                     "summary_function": "count", "tags[source]": src})
    if st != 200:
        return st
    return [(p["time"], p["value"]) for s in r["series"] for p in s["measurements"]]


def refused(v, limit):
    return int(metrics(v).get('vigil_series_refused_total{limit="%s"}' % limit, -1))


mock = Mock(A.vigil, partitions=1)
data = None
v = Vigil(A.vigil, extra=LIMITS + ["--kafka-bootstrap", mock.bootstrap])
try:
    v.start()
    data = v.data_dir
    st, text, _ = v.post_json("/v1/measurements", {"measurements": [m("cpu", "h%d" % i, i) for i in range(3)]})
    eq(st, 200, "three series of cpu: at limits.max_series_per_metric=3")

    st, text, _ = v.post_json("/v1/measurements", {"measurements": [m("cpu", "h0", 10, T0 + 60), m("cpu", "h3", 3)]})
    eq(st, 400, "a batch with a 4th series of cpu -> 400")
    r = json.loads(text)
    errs = " ".join(params_errors(r).get("series", []))
    check("limits.max_series_per_metric (3" in errs and "'cpu'" in errs and "source=h3" in errs,
          "the error names the limit, its setting, the metric and the series: %s" % text)
    eq(r.get("measurements", {}).get("summary", {}).get("accepted"), 0, "the summary says nothing was accepted")
    eq(values(v, "cpu", "h0"), [(T0, 1)], "nothing of the refused batch stored (h0 has its one sample)")
    eq(values(v, "cpu", "h3"), [], "and no series h3")

    st, text, _ = v.post_json("/v1/measurements", {"measurements": [m("cpu", "h0", 10, T0 + 60)]})
    eq(st, 200, "an existing series keeps accepting samples")
    eq(values(v, "cpu", "h0"), [(T0, 1), (T0 + 60, 1)], "its sample stored")

    st, text, _ = v.post_json("/v1/measurements", {"measurements": [m("mem", "h%d" % i, i) for i in range(3)]})
    eq(st, 200, "three series of mem: 6 in all, at limits.max_series=6")
    st, text, _ = v.post_json("/v1/measurements", {"measurements": [m("disk", "h0", 1)]})
    eq(st, 400, "a 7th series (a new metric) -> 400")
    check("limits.max_series (6" in text, "the error names the global limit: %s" % text)
    st, _, _ = v.request("GET", "/v1/metrics/disk")
    eq(st, 404, "the refused batch created no metric")
    # The legacy form route reports the same way.
    st, text, _ = v.post_form("/v1/metrics", [("gauges[0][name]", "swap"), ("gauges[0][value]", "1"),
                                              ("gauges[0][source]", "h9")])
    eq(st, 400, "legacy POST /v1/metrics with a new series beyond the limit -> 400")
    check("limits.max_series (6" in text, "named there too: %s" % text)
    eq(refused(v, "per_metric"), 1, "vigil_series_refused_total{limit=per_metric}")
    eq(refused(v, "global"), 2, "vigil_series_refused_total{limit=global}")

    # Kafka: the message with a new series is dead-lettered whole (with the good measurement it
    # carries); the others are stored.
    msgs = [json.dumps(m("cpu", "h1", 5, T0 + 60)),
            json.dumps({"measurements": [m("cpu", "h2", 6, T0 + 60), m("cpu", "h7", 7, T0 + 60)]}),
            json.dumps(m("mem", "h1", 8, T0 + 60)),
            json.dumps(m("net", "h0", 9, T0 + 60))]
    produce(mock.bootstrap, "measurements", 0, msgs)
    wait_consumed(v, len(msgs), timeout=120)
    mt = metrics(v)
    eq(int(mt.get('vigil_kafka_bad_messages_total{reason="series_limit"}', -1)), 2,
       "two messages refused for a series limit, counted as bad messages")
    eq(int(mt["vigil_kafka_samples_total"]), 2, "the two good messages stored")
    eq(values(v, "cpu", "h1"), [(T0, 1), (T0 + 60, 1)], "cpu h1's sample from Kafka")
    eq(values(v, "mem", "h1"), [(T0, 1), (T0 + 60, 1)], "mem h1's sample from Kafka")
    eq(values(v, "cpu", "h2"), [(T0, 1)], "the refused message stored nothing, not even its known series")
    st, _, _ = v.request("GET", "/v1/metrics/net")
    eq(st, 404, "the refused message of a new metric created no metric")
    time.sleep(1)
    dlq = consume_all(mock.bootstrap, "measurements.dlq")
    got = []
    for d in dlq:
        h = d.get("headers") or []
        hd = dict(zip(h[0::2], h[1::2])) if isinstance(h, list) else h
        got.append((int(hd.get("source_offset", -1)), hd.get("reason", "")))
    got.sort()
    eq([o for o, _ in got], [1, 3], "the two messages on the dead-letter topic, by offset")
    check(len(got) == 2 and got[0][1].startswith("series_limit: 'cpu' source=h7: a new series beyond "
                                                 "limits.max_series_per_metric (3"), "the reason names the limit: %r" % got)
    check(len(got) == 2 and "limits.max_series (6" in got[1][1], "the global limit for a new metric: %r" % got)
    eq(refused(v, "per_metric"), 2, "Kafka refusals counted (per_metric)")
    eq(refused(v, "global"), 3, "Kafka refusals counted (global)")
    eq(v.stop(), 0, "graceful stop")

    # After a restart the limits hold: the series are counted from the index.
    v2 = Vigil(A.vigil, data_dir=data, extra=LIMITS)
    try:
        v2.start()
        st, text, _ = v2.post_json("/v1/measurements", {"measurements": [m("cpu", "h4", 1)]})
        eq(st, 400, "after a restart cpu still has its 3 series -> 400")
        check("limits.max_series_per_metric (3" in text, "named: %s" % text)
        st, text, _ = v2.post_json("/v1/measurements", {"measurements": [m("cpu", "h0", 3, T0 + 120)]})
        eq(st, 200, "an existing series after the restart")
        eq(values(v2, "cpu", "h0"), [(T0, 1), (T0 + 60, 1), (T0 + 120, 1)], "stored")
        eq(v2.stop(), 0, "graceful stop")
    finally:
        v2.cleanup()
    # Raised limits admit new series.
    v3 = Vigil(A.vigil, data_dir=data, extra=["--set", "limits.max_series_per_metric=4"])
    try:
        v3.start()
        st, text, _ = v3.post_json("/v1/measurements", {"measurements": [m("cpu", "h4", 1)]})
        eq(st, 200, "limits.max_series_per_metric=4 admits a 4th series of cpu")
        eq(v3.stop(), 0, "graceful stop")
    finally:
        v3.cleanup()
finally:
    v.cleanup()
    if data:
        import shutil
        shutil.rmtree(data, ignore_errors=True)
    mock.stop()
finish()
