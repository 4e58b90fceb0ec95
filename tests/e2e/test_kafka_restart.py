"""Kafka restarts: a consumer killed with SIGKILL and restarted on the same data dir consumes again
within 10 s of its restart, 4 times in a row, against the broker of `vigil kafka-mock`
(librdkafka's mock cluster, its own process) while a producer keeps writing; afterwards the stored
rollups equal the reference exactly: exactly once across the kills.

The consumer joins as a static member (the default group.instance.id, checked in its log). A Kafka
broker gives a restarted static member its partitions back at once; the mock cluster ignores the
instance id and waits for the dead member's session to expire, often twice (about 2 x
session.timeout.ms: 10.5 to 11.9 s with the default 6 s, which real brokers do not let go lower).
The test runs with the session timeout of the other group tests (GROUP_FLAGS, 3 s), as one would
configure against the mock; docs/PERFORMANCE.md, "Kafka restarts"."""
import json
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Vigil, args, check, eq, finish  # noqa: E402
from kafka_util import GROUP_FLAGS, Mock, assigned_partitions, compare_rollups, metrics, partition_offsets, produce, wait_for  # noqa: E402

A = args()
T0 = 1699920000
PARTS = 3
HOSTS = ["h%d" % i for i in range(12)]
KILLS = 4
BOUND = 10.0  # seconds from the restart to the first message consumed: the requirement

mock = Mock(A.vigil, partitions=PARTS)
v = Vigil(A.vigil, extra=["--kafka-bootstrap", mock.bootstrap] + GROUP_FLAGS)
samples = []  # (host, t, value) of every produced message
produced = {p: 0 for p in range(PARTS)}
stop = threading.Event()


def producer():
    i = 0
    while not stop.is_set():
        for p in range(PARTS):
            msgs = []
            for _ in range(50):
                h = HOSTS[i % len(HOSTS)]
                t = T0 + i  # one sample per second of the day: every (host, t) is distinct
                val = float(i % 997)
                samples.append((h, t, val))
                msgs.append(json.dumps({"name": "restart", "time": t, "value": val, "tags": {"host": h}}))
                i += 1
            produce(mock.bootstrap, "measurements", p, msgs)
            produced[p] += len(msgs)
        time.sleep(0.2)


try:
    v.start()
    th = threading.Thread(target=producer)
    th.start()
    waits = []
    for k in range(KILLS):
        # This run owns every partition and has consumed: kill it mid-stream.
        wait_for(lambda: len(assigned_partitions(v)) == PARTS, 60, "partitions assigned")
        wait_for(lambda: metrics(v).get("vigil_kafka_messages_total", 0) > 0, 60, "messages consumed")
        time.sleep(0.5 + 0.4 * k)
        v.kill9()
        eq(v.proc.returncode, -signal.SIGKILL, "kill -9 #%d: died of SIGKILL" % (k + 1))
        restart = time.time()
        v.start()
        resumed = None
        while time.time() - restart < 30:
            if metrics(v).get("vigil_kafka_messages_total", 0) > 0:
                resumed = time.time() - restart
                break
            time.sleep(0.05)
        check(resumed is not None and resumed <= BOUND,
              "restart #%d consumes again %s after the restart (bound %.0f s)" % (
                  k + 1, "never (30 s)" if resumed is None else "%.2f s" % resumed, BOUND))
        if resumed is not None:
            waits.append(resumed)
    stop.set()
    th.join()
    print("resumed after: %s s" % ", ".join("%.2f" % w for w in waits))
    check("static member vigil-" in v.log(), "the consumer joined as a static member")

    wait_for(lambda: partition_offsets(v) == produced, 120, "every produced message consumed")
    span = len(samples) + 60
    compare_rollups(v, "restart", samples, T0, T0 + span, 60, check, what="after %d kills:" % KILLS)
    compare_rollups(v, "restart", samples, T0, T0 + span, 3600, check, what="after %d kills:" % KILLS)
    eq(v.stop(), 0, "graceful stop exits 0")
finally:
    stop.set()
    v.cleanup()
    mock.stop()
finish()
