"""Kafka dead letters: malformed and invalid messages mixed into good data (bad JSON, an invalid
metric name, a non-numeric line protocol field, an empty message, JSON forced to line protocol by
the content-type header, samples older than kafka.max_sample_age_s, measurements of a composite
metric in JSON and in line protocol). The good data is exact; each
bad message is on the dead-letter topic once, with its reason, source topic, partition and
offset; /metrics counts them by reason; and no partition stalls behind them."""
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Vigil, args, check, eq, finish  # noqa: E402
from kafka_util import Mock, compare_rollups, consume_all, metrics, produce, wait_consumed  # noqa: E402

A = args()
NOW = int(time.time())
T0 = NOW // 3600 * 3600 - 3 * 3600  # within max_sample_age_s
SPAN = 3 * 3600
PARTS = 2
HOSTS = ["h%d" % i for i in range(6)]
rng = random.Random(5)

BAD = [  # (message, reason kind)
    ('{"name": "cpu", "value": ', "bad_json"),
    ('{"name": "bad name!", "value": 1, "tags": {"host": "h0"}}', "invalid_measurement"),
    ('cpu,host=h1 value="text" %d' % (T0 * 10**9), "invalid_measurement"),
    ('{"name": "cpu", "value": 1, "time": %d, "tags": {"host": "h2"}}' % (NOW - 30 * 86400), "too_old"),
    ("# nothing but a comment", "bad_line_protocol"),
    # cpu.sum is a composite metric (created before producing): computed, never stored.
    ('{"name": "CPU.sum", "value": 1, "time": %d, "tags": {"host": "h4"}}' % T0, "invalid_measurement"),
    ("cpu,host=h5 sum=2 %d" % (T0 * 10**9), "invalid_measurement"),
]
# JSON sent with content-type text/plain is parsed as line protocol, and fails there.
FORCED = ('{"name": "cpu", "value": 2, "tags": {"host": "h3"}}', "invalid_measurement")

samples = []
plan = {p: [] for p in range(PARTS)}  # partition -> [(message, reason or None)]
for i in range(3000):
    h = HOSTS[i % len(HOSTS)]
    s = (h, T0 + rng.randrange(SPAN), round(rng.uniform(-5, 5), 2))
    samples.append(s)
    plan[int(h[1:]) % PARTS].append((json.dumps({"name": "cpu", "time": s[1], "value": s[2], "tags": {"host": h}}), None))
for (msg, reason) in BAD * 3:
    p = rng.randrange(PARTS)
    plan[p].insert(rng.randrange(len(plan[p]) + 1), (msg, reason))

mock = Mock(A.vigil, partitions=PARTS)
v = Vigil(A.vigil, extra=["--kafka-bootstrap", mock.bootstrap, "--set", "kafka.max_sample_age_s=604800"])
try:
    v.start()
    st, _, _ = v.request("PUT", "/v1/metrics/cpu.sum", 'type=composite&composite=sum(s("cpu", "*"))',
                         "application/x-www-form-urlencoded")
    eq(st, 201, "the composite metric cpu.sum exists before the messages")
    expected_dead = []  # (partition, offset, reason kind)
    total = 0
    for p in range(PARTS):
        produce(mock.bootstrap, "measurements", p, [m for (m, _) in plan[p]])
        expected_dead += [(p, off, r) for off, (_, r) in enumerate(plan[p]) if r]
        total += len(plan[p])
    # The header override goes last on partition 0.
    produce(mock.bootstrap, "measurements", 0, [FORCED[0]], headers={"content-type": "text/plain"})
    expected_dead.append((0, len(plan[0]), FORCED[1]))
    total += 1
    wait_consumed(v, total, timeout=180)
    m = metrics(v)
    eq(int(m["vigil_kafka_samples_total"]), len(samples), "every good sample ingested")
    eq(int(m["vigil_kafka_dead_letters_total"]), len(expected_dead), "dead letters produced")
    for kind in ("bad_json", "invalid_measurement", "too_old", "bad_line_protocol"):
        eq(int(m['vigil_kafka_bad_messages_total{reason="%s"}' % kind]),
           sum(1 for (_, _, r) in expected_dead if r == kind), "bad messages counted for reason " + kind)
    compare_rollups(v, "cpu", samples, T0, T0 + SPAN, 60, check, what="good data")

    time.sleep(1)
    dlq = consume_all(mock.bootstrap, "measurements.dlq")
    got = []
    for d in dlq:
        h = d.get("headers") or []
        hd = dict(zip(h[0::2], h[1::2])) if isinstance(h, list) else h
        got.append((int(hd.get("source_partition", -1)), int(hd.get("source_offset", -1)),
                    hd.get("reason", "").split(":")[0], hd.get("source_topic"), d.get("payload")))
    eq(len(got), len(expected_dead), "messages on the dead-letter topic")
    eq(sorted((p, o, r) for (p, o, r, _, _) in got), sorted(expected_dead),
       "each bad message dead-lettered once with its reason, partition and offset")
    check(all(t == "measurements" for (_, _, _, t, _) in got), "source_topic header on every dead letter")
    # Within each dead-letter partition, a source partition's dead letters keep their order (a
    # batch parsed in two parts on two threads still dead-letters in message order).
    order = {}
    for d, (p, o, _, _, _) in sorted(zip(dlq, got), key=lambda x: (x[0].get("partition", 0), x[0].get("offset", 0))):
        order.setdefault((d.get("partition", 0), p), []).append(o)
    check(all(offs == sorted(offs) for offs in order.values()),
          "dead letters in source order within each dead-letter partition (%d runs)" % len(order))
    payloads = {(p, o): pl for (p, o, _, _, pl) in got}
    want = {(p, o): plan[p][o][0] if o < len(plan[p]) else FORCED[0] for (p, o, _) in expected_dead}
    check(all((payloads.get(k) or "") == (want[k] or "") for k in want), "dead letters carry the original value")
    reasons = [hd for d in dlq for hd in [dict(zip((d.get("headers") or [])[0::2], (d.get("headers") or [])[1::2]))]]
    print("example reasons:", sorted({r.get("reason") for r in reasons})[:4])
    comp = [r.get("reason", "") for r in reasons if "composite metric" in r.get("reason", "")]
    eq(len(comp), 2 * 3, "the composite metric's messages are dead-lettered for being composite (%r)" % comp[:1])
    eq(v.stop(), 0, "graceful stop exits 0")
finally:
    v.cleanup()
    mock.stop()
finish()
