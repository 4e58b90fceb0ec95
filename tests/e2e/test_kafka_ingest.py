"""Kafka end to end: 100,000 measurements over 40 series and 4 partitions, out of order within
each partition, as whole-body JSON (100 per message), single JSON objects (one per message) and
Influx line protocol (100 lines per message, with a content-type header), produced into
`vigil kafka-mock` with kcat. Every rollup (count, sum, min, max at 60 s and 3600 s) must equal the
reference computed from the same input; a restart must not count anything twice."""
import json
import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Vigil, args, check, eq, finish  # noqa: E402
from kafka_util import Mock, compare_rollups, metrics, produce, wait_consumed  # noqa: E402

A = args()
T0 = 1699920000  # a day boundary
SPAN = 6 * 3600
PARTS = 4
HOSTS = ["h%02d" % i for i in range(40)]
N = 100_000

rng = random.Random(7)
samples = []
for i in range(N):
    h = HOSTS[i % len(HOSTS)]
    samples.append((h, T0 + rng.randrange(SPAN), round(rng.uniform(-100, 100), 3)))


def part_of(host):
    return int(host[1:]) % PARTS


by_part = {p: [s for s in samples if part_of(s[0]) == p] for p in range(PARTS)}
for p in by_part:
    rng.shuffle(by_part[p])  # out of order within the partition

mock = Mock(A.vigil, partitions=PARTS)
v = Vigil(A.vigil, extra=["--kafka-bootstrap", mock.bootstrap])
messages = 0
try:
    v.start()
    t_start = time.time()
    for p, ss in by_part.items():
        n = len(ss)
        body, single, line = ss[:int(n * 0.7)], ss[int(n * 0.7):int(n * 0.8)], ss[int(n * 0.8):]
        msgs = []
        for i in range(0, len(body), 100):
            msgs.append(json.dumps({"tags": {"env": "test"}, "measurements": [
                {"name": "cpu", "time": t, "value": val, "tags": {"host": h}} for (h, t, val) in body[i:i + 100]]}))
        msgs += [json.dumps({"name": "cpu", "time": t, "value": val, "tags": {"host": h, "env": "test"}})
                 for (h, t, val) in single]
        produce(mock.bootstrap, "measurements", p, msgs)
        lp = ["\n".join("cpu,host=%s,env=test value=%r %d" % (h, val, t * 1_000_000_000) for (h, t, val) in line[i:i + 100])
              for i in range(0, len(line), 100)]
        produce(mock.bootstrap, "measurements", p, lp, headers={"content-type": "text/plain"})
        messages += len(msgs) + len(lp)
    print("produced %d measurements in %d messages" % (N, messages))
    wait_consumed(v, messages)
    took = time.time() - t_start
    m = metrics(v)
    eq(int(m["vigil_kafka_samples_total"]), N, "samples ingested from Kafka")
    eq(int(m["vigil_kafka_dead_letters_total"]), 0, "no dead letters")
    print("consumed in %.1f s" % took)
    compare_rollups(v, "cpu", samples, T0, T0 + SPAN, 60, check, what="cpu")
    compare_rollups(v, "cpu", samples, T0, T0 + SPAN, 3600, check, what="cpu")
    # Arrival order survives batches parsed on two threads: 3,000 samples of one series at one
    # time, one per message; the bucket's last value is the last one produced.
    order = [json.dumps({"name": "order", "time": T0 + 30, "value": i + 1, "tags": {"host": "x"}}) for i in range(3000)]
    produce(mock.bootstrap, "measurements", 0, order)
    messages += len(order)
    wait_consumed(v, messages)
    st, body = v.get_json("/v1/measurements/order", {"start_time": T0, "end_time": T0 + 59, "resolution": 60,
                                                     "summary_function": "all"})
    eq(st, 200, "order query")
    pts = body["series"][0]["measurements"] if st == 200 and body.get("series") else [{}]
    eq((pts[0].get("count"), pts[0].get("last"), pts[0].get("max")), (3000, 3000.0, 3000.0),
       "the bucket's last value is the last sample produced")
    check(int(metrics(v).get("vigil_kafka_split_batches_total", 0)) > 0, "some batches were parsed on two threads")
    # librdkafka's broker threads run at kafka.broker_thread_nice (10 by default), the consumer's own at 0.
    nices = {}
    for tid in os.listdir("/proc/%d/task" % v.proc.pid):
        try:
            name = open("/proc/%d/task/%s/comm" % (v.proc.pid, tid)).read().strip()
            fields = open("/proc/%d/task/%s/stat" % (v.proc.pid, tid)).read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        nices.setdefault(name, set()).add(int(fields[16]))  # field 19 of stat: nice
    brokers = {n: x for n, x in nices.items() if n.startswith("rdk:broker")}
    check(len(brokers) > 0 and all(x == {10} for x in brokers.values()),
          "librdkafka's broker threads run at nice 10 (%s)" % brokers)
    eq(nices.get("vk-parse"), {0}, "the parse thread runs at nice 0")
    # Single-measurement messages of known series name them by the series id learned from the
    # earlier ones; a metric deleted meanwhile takes those ids with it, and later messages must land
    # in its series created anew, not in the removed ones.
    def gone_count():
        st, body = v.get_json("/v1/measurements/gone", {"start_time": T0, "end_time": T0 + 3600, "resolution": 60,
                                                        "summary_function": "all"})
        if st != 200:
            return None
        return sum(pt.get("count", 0) for s in body.get("series", []) for pt in s.get("measurements", []))

    gone = [json.dumps({"name": "gone", "time": T0 + i, "value": i, "tags": {"host": "g%d" % (i % 4)}}) for i in range(400)]
    produce(mock.bootstrap, "measurements", 1, gone)
    messages += len(gone)
    wait_consumed(v, messages)
    eq(gone_count(), 400, "the samples of 'gone' before its deletion")
    st, _, _ = v.request("DELETE", "/v1/metrics/gone")
    eq(st, 204, "DELETE /v1/metrics/gone")
    again = [json.dumps({"name": "gone", "time": T0 + 600 + i, "value": i, "tags": {"host": "g%d" % (i % 4)}})
             for i in range(300)]
    produce(mock.bootstrap, "measurements", 1, again)
    messages += len(again)
    wait_consumed(v, messages)
    eq(gone_count(), 300, "after the deletion, the new samples of 'gone' are in its new series")
    st, _ = v.get_json("/v1/metrics/gone")
    eq(st, 200, "the deleted metric exists again")
    # A graceful restart resumes at the stored offsets: nothing is consumed twice.
    eq(v.stop(), 0, "graceful stop exits 0")
    v.start()
    time.sleep(8)  # time to join the group and be assigned
    m = metrics(v)
    eq(int(m.get("vigil_kafka_samples_total", -1)), 0, "after restart nothing is re-consumed")
    compare_rollups(v, "cpu", samples, T0, T0 + SPAN, 86400, check, what="after restart: cpu")
    eq(v.stop(), 0, "graceful stop exits 0")
finally:
    v.cleanup()
    mock.stop()
finish()
