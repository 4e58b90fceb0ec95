"""Two `vigil serve` processes in one consumer group split the partitions of the topic. Each
answers exactly for the series of the partitions it owns. When one is killed with SIGKILL, its
partitions move to the other, which rebuilds them from the topic: it then answers exactly for
every series. When the killed one comes back, the partitions are split again and each owner's
series are exact (its stored offsets resume its own state)."""
import json
import os
import random
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Vigil, args, check, eq, finish  # noqa: E402
from kafka_util import (GROUP_FLAGS, Mock, assigned_partitions, compare_rollups, metrics,  # noqa: E402
                        partition_offsets, produce, wait_for)

A = args()
T0 = 1699920000
SPAN = 2 * 3600
PARTS = 4
HOSTS = ["h%02d" % i for i in range(24)]
rng = random.Random(3)
samples = [(HOSTS[i % len(HOSTS)], T0 + rng.randrange(SPAN), round(rng.uniform(0, 100), 2)) for i in range(24000)]
rng.shuffle(samples)
half = len(samples) // 2
ends = {p: 0 for p in range(PARTS)}


def part_of(h):
    return int(h[1:]) % PARTS


def hosts_of(parts):
    return {h for h in HOSTS if part_of(h) in parts}


def send(batch):
    for p in range(PARTS):
        ss = [s for s in batch if part_of(s[0]) == p]
        msgs = [json.dumps({"name": "cpu", "time": t, "value": v, "tags": {"host": h}}) for (h, t, v) in ss[:1000]]
        rest = ss[1000:]
        msgs += [json.dumps({"measurements": [{"name": "cpu", "time": t, "value": v, "tags": {"host": h}}
                                              for (h, t, v) in rest[i:i + 50]]}) for i in range(0, len(rest), 50)]
        produce(mock.bootstrap, "measurements", p, msgs)
        ends[p] += len(msgs)


def caught_up(v, parts):
    offs = partition_offsets(v)
    return all(offs.get(p) == ends[p] for p in parts)


def is_split(pa, pb):
    """Both own partitions, none twice, and every partition has an owner."""
    return bool(pa and pb and not (pa & pb) and (pa | pb) == set(range(PARTS)))


def split_ok(a, b):
    return is_split(assigned_partitions(a), assigned_partitions(b))


mock = Mock(A.vigil, partitions=PARTS)
a = Vigil(A.vigil, extra=["--kafka-bootstrap", mock.bootstrap] + GROUP_FLAGS)
b = Vigil(A.vigil, extra=["--kafka-bootstrap", mock.bootstrap] + GROUP_FLAGS)
try:
    a.start()
    b.start()
    wait_for(lambda: split_ok(a, b), 90, "the group to split the partitions")
    pa, pb = assigned_partitions(a), assigned_partitions(b)
    print("A owns %s, B owns %s" % (sorted(pa), sorted(pb)))
    check(is_split(pa, pb), "two processes split the %d partitions: A %s, B %s" % (PARTS, sorted(pa), sorted(pb)))
    send(samples[:half])
    wait_for(lambda: caught_up(a, pa) and caught_up(b, pb), 120, "both caught up")
    compare_rollups(a, "cpu", samples[:half], T0, T0 + SPAN, 60, check, hosts=hosts_of(pa), what="A, its series")
    compare_rollups(b, "cpu", samples[:half], T0, T0 + SPAN, 60, check, hosts=hosts_of(pb), what="B, its series")

    a.kill9()
    send(samples[half:])
    wait_for(lambda: assigned_partitions(b) == set(range(PARTS)) and caught_up(b, range(PARTS)), 120,
             "B to take over every partition")
    # A died of the SIGKILL (it did not leave the group), and B now reports every partition as its own.
    owned, gauge = assigned_partitions(b), metrics(b).get("vigil_kafka_assigned_partitions")
    check(a.proc.returncode == -signal.SIGKILL and owned == set(range(PARTS)) and gauge == PARTS,
          "after kill -9 of A (exit %s), B owns every partition: %s (gauge %s)" % (a.proc.returncode, sorted(owned),
                                                                                  gauge))
    compare_rollups(b, "cpu", samples, T0, T0 + SPAN, 60, check, what="B after A died, every series")
    compare_rollups(b, "cpu", samples, T0, T0 + SPAN, 86400, check, what="B after A died, every series")

    a.start()
    wait_for(lambda: split_ok(a, b), 90, "the group to split the partitions again")
    pa, pb = assigned_partitions(a), assigned_partitions(b)
    print("after A's restart: A owns %s, B owns %s" % (sorted(pa), sorted(pb)))
    wait_for(lambda: caught_up(a, pa) and caught_up(b, pb), 120, "both caught up")
    compare_rollups(a, "cpu", samples, T0, T0 + SPAN, 60, check, hosts=hosts_of(pa), what="restarted A, its series")
    compare_rollups(b, "cpu", samples, T0, T0 + SPAN, 60, check, hosts=hosts_of(pb), what="B, its series")
    eq(a.stop(), 0, "A stops gracefully")
    eq(b.stop(), 0, "B stops gracefully")
finally:
    a.cleanup()
    b.cleanup()
    mock.stop()
finish()
