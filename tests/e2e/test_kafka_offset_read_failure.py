"""Kafka and a failed read of the stored offsets. The engine consumes a first half of the messages
and stops; the second half is produced; the engine starts again with the first eight reads of a
stored offset failing (storage.fault_injection, a fault-injection setting: a real RocksDB read
error cannot be produced on demand for one key). A partition whose offset cannot be read must not
start from 0 (that would count its first half twice): it is retried, paused meanwhile, and resumes
at its stored offset. The final rollups must equal the reference exactly."""
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import Vigil, args, check, eq, finish  # noqa: E402
from kafka_util import GROUP_FLAGS, Mock, compare_rollups, metrics, partition_offsets, produce, wait_for  # noqa: E402

A = args()
T0 = 1699920000
SPAN = 3600
PARTS = 3
HOSTS = ["h%02d" % i for i in range(12)]
rng = random.Random(11)


def make(n):
    return [(HOSTS[i % len(HOSTS)], T0 + rng.randrange(SPAN), round(rng.uniform(0, 100), 2)) for i in range(n)]


def produce_all(samples, ends):
    for p in range(PARTS):
        msgs = [json.dumps({"name": "off", "time": t, "value": val, "tags": {"host": h}})
                for (h, t, val) in samples if int(h[1:]) % PARTS == p]
        produce(mock.bootstrap, "measurements", p, msgs)
        ends[p] = ends.get(p, 0) + len(msgs)


first, second = make(3000), make(3000)
ends = {}
mock = Mock(A.vigil, partitions=PARTS)
produce_all(first, ends)
v = Vigil(A.vigil, extra=["--kafka-bootstrap", mock.bootstrap] + GROUP_FLAGS)
try:
    v.start()
    wait_for(lambda: partition_offsets(v) == ends, 120, "the first half consumed")
    eq(v.stop(), 0, "graceful stop exits 0")
    produce_all(second, ends)

    v.extra = ["--kafka-bootstrap", mock.bootstrap, "--set", "storage.fault_injection=get:koff/:8"] + GROUP_FLAGS
    v.start()
    wait_for(lambda: partition_offsets(v) == ends, 120, "the second half consumed")
    m = metrics(v)
    eq(int(m.get("vigil_kafka_offset_read_errors_total", -1)), 8, "eight failed offset reads, counted")
    check(m.get('vigil_storage_errors_total{op="get"}', 0) >= 8, "and counted as storage errors")
    eq(int(m.get("vigil_kafka_partitions_offset_unknown", -1)), 0, "no partition left without its offset")
    check("paused: its stored offset cannot be read" in v.log(), "a partition waited, paused, for its offset")
    eq(int(m.get("vigil_kafka_samples_total", 0)), len(second),
       "only the second half consumed in this run (no partition restarted from 0)")
    compare_rollups(v, "off", first + second, T0, T0 + SPAN, 60, check, what="after failed offset reads: off")
    eq(v.stop(), 0, "graceful stop exits 0")
except Exception:
    print(v.log()[-4000:])
    raise
finally:
    v.cleanup()
    mock.stop()
finish()
