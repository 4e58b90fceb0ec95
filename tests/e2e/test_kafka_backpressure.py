"""Kafka backpressure: 1,000,000 messages wait in the topic and the apply stage is slowed down on
purpose (engine.apply_delay_us, a fault-injection setting). The consumer must pause its
partitions when the backlog of accepted-but-unapplied samples passes kafka.pause_high_water and
resume under kafka.resume_low_water, so the backlog and the resident memory stay bounded while it
keeps making progress."""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Vigil, args, check, eq, finish  # noqa: E402
from kafka_util import Mock, metrics, produce  # noqa: E402

A = args()
MESSAGES = 1_000_000
# The mock cluster keeps about 5 MB per partition: 16 partitions hold all 1,000,000 messages.
PARTS = 16
HIGH, LOW = 20_000, 5_000
BATCH = 2_000
# Resident memory bound of the engine under test. The test build runs under ASan, whose shadow
# memory roughly doubles RSS (an idle engine is ~130 MB there); its quarantine of freed memory
# (256 MB by default) is reduced to 32 MB so that it does not hide the engine's own figure. The
# store's own memory is bounded by settings: block cache 32 MB, memtables 64 MB; the consumer's
# buffer of fetched messages by kafka.prefetch_mb (32 here); librdkafka's own queue by
# queued.max.messages.kbytes (8 MiB per partition, 16 partitions; the buffer drains it). Under ASan the
# engine peaks at 510-570 MB here from run to run (549 and 570 MB in two runs on 2 cores); the Release build peaks at ~184 MB (docs/PERFORMANCE.md). An
# unbounded consumer would hold the whole topic (1,000,000 parsed samples in the shard queues,
# checked below by the backlog bound) and grow through the run (checked by the flat last third).
RSS_BOUND_MB = 640
OBSERVE_S = 45
T0 = 1699920000

mock = Mock(A.vigil, partitions=PARTS)
v = Vigil(A.vigil, extra=["--kafka-bootstrap", mock.bootstrap, "--shards", "2",
                          "--set", "engine.apply_delay_us=100000",
                          "--set", "storage.block_cache_mb=32", "--set", "storage.memtable_mb=64",
                          "--set", "kafka.pause_high_water=%d" % HIGH, "--set", "kafka.resume_low_water=%d" % LOW,
                          "--set", "kafka.batch_size=%d" % BATCH, "--set", "kafka.timestamp_precision=s",
                          "--set", "kafka.prefetch_mb=32"],
          env={"ASAN_OPTIONS": (os.environ.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=32").lstrip(":")})


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0


try:
    t = time.time()
    for p in range(PARTS):
        produce(mock.bootstrap, "measurements", p,
                ["cpu,host=h%02d value=%d %d" % (i % 50, i % 1000, T0 + i % 86400) for i in range(p, MESSAGES, PARTS)])
    print("produced %d messages in %.1f s" % (MESSAGES, time.time() - t))
    v.start()
    max_rss = max_queue = 0
    t = time.time()
    samples_seen = []
    rss_trace = []
    while time.time() - t < OBSERVE_S:
        rss_trace.append(rss_mb(v.proc.pid))
        max_rss = max(max_rss, rss_trace[-1])
        m = metrics(v)
        max_queue = max(max_queue, int(m.get("vigil_shard_queue_samples", 0)))
        samples_seen.append(int(m.get("vigil_kafka_samples_total", 0)))
        time.sleep(0.5)
    m = metrics(v)
    consumed = int(m.get("vigil_kafka_samples_total", 0))
    lag = sum(int(val) for k, val in m.items() if k.startswith("vigil_kafka_partition_lag{"))
    eq(consumed + lag, MESSAGES, "consumed + still waiting in the topic = every message produced")
    print("in %d s: consumed %d of %d messages, max queue %d samples, max RSS %.0f MB, pauses %d" % (
        OBSERVE_S, consumed, MESSAGES, max_queue, max_rss, m.get("vigil_kafka_pauses_total", 0)))
    print("RSS every 5 s (MB):", [round(x) for x in rss_trace[::10]])
    third = len(rss_trace) // 3
    check(max(rss_trace[2 * third:]) <= max(rss_trace[:2 * third]) * 1.15 + 20,
          "RSS flat in the last third of the run (no growth with the backlog)")
    check(consumed > 50_000, "the consumer makes progress while throttled (%d samples)" % consumed)
    check(consumed < MESSAGES, "the apply stage is the bottleneck (messages still waiting in the topic)")
    check(m.get("vigil_kafka_pauses_total", 0) >= 1, "partitions were paused for backpressure")
    # One consumed batch can land on top of the high-water mark before the pause takes effect,
    # plus what librdkafka had already fetched for the paused partitions.
    check(max_queue <= HIGH + 2 * BATCH,
          "backlog bounded: max %d samples <= %d" % (max_queue, HIGH + 2 * BATCH))
    check(max_rss < RSS_BOUND_MB, "resident memory bounded: max %.0f MB < %d MB" % (max_rss, RSS_BOUND_MB))
    eq(v.stop(timeout=120), 0, "graceful stop exits 0 with a backlog")
finally:
    v.cleanup()
    mock.stop()
finish()
