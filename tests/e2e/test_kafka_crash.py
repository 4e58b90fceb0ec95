"""Kafka exactly-once under kill -9: `vigil kafka-mock` runs in its own process; while a producer
thread writes 60,000 measurements (half one per message, half 100 per message) in small chunks,
the engine is killed with SIGKILL at random moments 6 times and restarted on the same data dir.
The final rollups must equal the reference exactly: nothing lost, nothing counted twice."""
import json
import os
import random
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Vigil, args, check, eq, finish  # noqa: E402
from kafka_util import GROUP_FLAGS, Mock, assigned_partitions, compare_rollups, metrics, produce, wait_for  # noqa: E402

A = args()
T0 = 1699920000
SPAN = 4 * 3600
PARTS = 3
HOSTS = ["h%02d" % i for i in range(30)]
N = 60_000
KILLS = 6

rng = random.Random(11)
samples = [(HOSTS[i % len(HOSTS)], T0 + rng.randrange(SPAN), round(rng.uniform(0, 1000), 2)) for i in range(N)]
rng.shuffle(samples)

# Chunks of messages per partition: alternately single objects and 100-measurement bodies.
chunks = []  # (partition, [messages])
by_part = {p: [s for s in samples if int(s[0][1:]) % PARTS == p] for p in range(PARTS)}
total_msgs = 0
for p, ss in by_part.items():
    for c in range(0, len(ss), 1000):
        part = ss[c:c + 1000]
        if (c // 1000) % 2 == 0:
            msgs = [json.dumps({"name": "cpu", "time": t, "value": val, "tags": {"host": h}}) for (h, t, val) in part]
        else:
            msgs = [json.dumps({"measurements": [{"name": "cpu", "time": t, "value": val, "tags": {"host": h}}
                                                 for (h, t, val) in part[i:i + 100]]}) for i in range(0, len(part), 100)]
        chunks.append((p, msgs))
        total_msgs += len(msgs)
rng.shuffle(chunks)

mock = Mock(A.vigil, partitions=PARTS)
data_dir = None
v = Vigil(A.vigil, extra=["--kafka-bootstrap", mock.bootstrap, "--set", "kafka.batch_size=500"] + GROUP_FLAGS)
done = threading.Event()


def producer():
    for p, msgs in chunks:
        produce(mock.bootstrap, "measurements", p, msgs)
        time.sleep(1.0)
    done.set()


try:
    v.start()
    th = threading.Thread(target=producer)
    th.start()
    kills = 0
    # Kills that interrupted consumption: the process died of SIGKILL while the producer was still
    # producing, after this run had consumed messages (a kill before the first batch tests only
    # a restart).
    mid_stream = 0
    while kills < KILLS:
        # Kill while consuming: once this run owns every partition, at a random moment.
        wait_for(lambda: len(assigned_partitions(v)) == PARTS, 60, "partitions assigned")
        time.sleep(rng.uniform(0.1, 2.5))
        consumed = metrics(v).get("vigil_kafka_messages_total", 0)
        producing = not done.is_set()
        v.kill9()
        kills += 1
        if v.proc.returncode == -signal.SIGKILL and producing and consumed > 0:
            mid_stream += 1
        print("kill -9 #%d after %d messages consumed by this run (exit %s, producer done: %s)" % (
            kills, consumed, v.proc.returncode, not producing))
        v.start()
    check(not done.is_set(), "the kills happened while the producer was still producing")
    th.join()
    check(mid_stream >= KILLS - 1, "engine killed with SIGKILL while producing and consuming: %d of %d kills" % (
        mid_stream, KILLS))

    # Wait until every partition's stored offset reaches its end.
    ends = {p: sum(len(m) for (pp, m) in chunks if pp == p) for p in range(PARTS)}

    def caught_up():
        m = metrics(v)
        offs = {p: int(m.get('vigil_kafka_partition_offset{topic="measurements",partition="%d"}' % p, -1))
                for p in range(PARTS)}
        return offs == ends

    wait_for(caught_up, 300, "all partitions consumed")
    compare_rollups(v, "cpu", samples, T0, T0 + SPAN, 60, check, what="after %d kills: cpu" % kills)
    compare_rollups(v, "cpu", samples, T0, T0 + SPAN, 86400, check, what="after %d kills: cpu" % kills)
    # And once more after a graceful restart.
    eq(v.stop(), 0, "graceful stop exits 0")
    v.start()
    time.sleep(8)
    compare_rollups(v, "cpu", samples, T0, T0 + SPAN, 3600, check, what="after a graceful restart: cpu")
    eq(v.stop(), 0, "graceful stop exits 0")
finally:
    done.set()
    v.cleanup()
    mock.stop()
finish()
