"""Kafka and failed writes: every 4th ingest write of the engine fails (engine.fail_write_every, a
fault-injection setting: a real RocksDB write error cannot be produced on demand). Every message is
in the topic before the engine starts, so when a write fails the consumer already holds the
messages after that batch, parsed or buffered. It must drop them, seek back to the stored offsets
and write everything again: the final rollups must equal the reference exactly (nothing lost,
nothing counted twice)."""
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import Vigil, args, check, eq, finish  # noqa: E402
from kafka_util import Mock, compare_rollups, metrics, partition_offsets, produce, wait_for  # noqa: E402

A = args()
T0 = 1699920000
SPAN = 2 * 3600
PARTS = 3
HOSTS = ["h%02d" % i for i in range(24)]
N = 24_000

rng = random.Random(5)
samples = [(HOSTS[i % len(HOSTS)], T0 + rng.randrange(SPAN), round(rng.uniform(0, 1000), 2)) for i in range(N)]

# Per partition: single-measurement messages, then bodies of 100 measurements.
ends = {}
mock = Mock(A.vigil, partitions=PARTS)
for p in range(PARTS):
    ss = [s for s in samples if int(s[0][1:]) % PARTS == p]
    half = len(ss) // 2
    msgs = [json.dumps({"name": "cpu", "time": t, "value": val, "tags": {"host": h}}) for (h, t, val) in ss[:half]]
    rest = ss[half:]
    msgs += [json.dumps({"measurements": [{"name": "cpu", "time": t, "value": val, "tags": {"host": h}}
                                          for (h, t, val) in rest[i:i + 100]]}) for i in range(0, len(rest), 100)]
    produce(mock.bootstrap, "measurements", p, msgs)
    ends[p] = len(msgs)

v = Vigil(A.vigil, extra=["--kafka-bootstrap", mock.bootstrap, "--set", "kafka.batch_size=500",
                          "--set", "engine.fail_write_every=4"])
try:
    v.start()
    wait_for(lambda: partition_offsets(v) == ends, 300, "every partition's stored offset at its end")
    m = metrics(v)
    errors = m.get("vigil_kafka_ingest_errors_total", 0)
    check(errors >= 3, "writes failed and were retried (%d failed batches)" % errors)
    eq(int(m.get("vigil_kafka_dead_letters_total", -1)), 0, "no dead letters")
    eq(int(m.get("vigil_kafka_samples_total", 0)), N, "samples written once each (vigil_kafka_samples_total)")
    compare_rollups(v, "cpu", samples, T0, T0 + SPAN, 60, check, what="after failed writes: cpu")
    compare_rollups(v, "cpu", samples, T0, T0 + SPAN, 86400, check, what="after failed writes: cpu")
    eq(v.stop(), 0, "graceful stop exits 0")
except Exception:
    print(v.log()[-4000:])  # the engine's last lines, to see where it stopped
    raise
finally:
    v.cleanup()
    mock.stop()
finish()
