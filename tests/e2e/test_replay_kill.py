"""End to end: kill -9 during the replay of the ingest log at start.

The shards are told not to flush (a one-hour flush interval), so every acknowledged sample stays
in the ingest log (RocksDB's WAL) only; the process is killed with SIGKILL, and every later start
has the whole log to replay. The start is killed again and again in the middle of that replay
(at a quarter, half and three quarters of the time a full replay takes, and right after it), then
the engine starts normally: every acknowledged sample is there exactly once (count, sum, min and
max per minute and per day), and again after a graceful restart."""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import ADMIN_TOKEN, ADMIN_USER, Vigil, args, check, eq, finish  # noqa: E402
from kafka_util import compare_rollups  # noqa: E402

A = args()
T0 = (int(time.time()) // 86400 - 1) * 86400
HOSTS = ["h%02d" % i for i in range(50)]
NOFLUSH = ["--set", "engine.flush_interval_ms=3600000", "--set", "engine.flush_pending_samples=100000000",
           "--set", "engine.shards=2"]
v = Vigil(A.vigil, extra=NOFLUSH)
samples = []


def raw_start():
    """`vigil serve` on the data dir, without waiting; returns the process and its log offset."""
    log = open(v.log_path, "ab")
    offset = log.tell()
    env = dict(os.environ, VIGIL_ADMIN_USER=ADMIN_USER, VIGIL_ADMIN_TOKEN=ADMIN_TOKEN)
    p = subprocess.Popen([v.binary, "serve", "--data-dir", v.data_dir, "--listen", "127.0.0.1:0"] + NOFLUSH,
                         stdout=log, stderr=log, env=env)
    return p, offset


def wait_log(offset, pattern, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = re.search(pattern, v.log()[offset:])
        if m:
            return m
        time.sleep(0.005)
    raise RuntimeError("no %r in the log:\n%s" % (pattern, v.log()[offset:][-3000:]))


try:
    v.start()
    for i in range(80):
        batch = []
        for k in range(5000):
            n = i * 5000 + k
            batch.append((HOSTS[n % len(HOSTS)], T0 + n // len(HOSTS), float((n * 7919) % 100003) / 100))
        st, text, _ = v.post_json("/v1/measurements", {"measurements": [
            {"name": "replay", "value": val, "time": t, "tags": {"host": h}} for (h, t, val) in batch]})
        if st not in (200, 202):
            check(False, "POST -> %s %s" % (st, text[:200]))
            break
        samples.extend(batch)
    eq(len(samples), 400000, "400,000 samples acknowledged")
    v.kill9()

    # A full replay, to time it (the shards do not flush: the log stays whole).
    p, off = raw_start()
    m = wait_log(off, r"ingest log replayed in (\d+) ms")
    wait_log(off, r"listening on")
    p.kill()
    p.wait()
    replay_ms = max(int(m.group(1)), 1)
    print("# a full replay took %d ms" % replay_ms)

    killed_during = 0
    for frac in (0.25, 0.5, 0.75, 1.1):
        p, off = raw_start()
        wait_log(off, r"storage opened")
        time.sleep(replay_ms * frac / 1000.0)
        p.kill()
        p.wait()
        done = re.search(r"ingest log replayed", v.log()[off:]) is not None
        killed_during += 0 if done else 1
        print("# killed at %.2f of the replay: replay %s" % (frac, "finished" if done else "under way"))
    check(killed_during >= 2, "at least two starts were killed while the log was being replayed (%d)" % killed_during)

    # A normal start: everything acknowledged, exactly once.
    v.extra = []
    v.start()
    end = T0 + len(samples) // len(HOSTS) + 60
    bad = compare_rollups(v, "replay", samples, T0, end, 60, check, what="after the killed replays:")
    bad += compare_rollups(v, "replay", samples, T0, end, 86400, check, what="after the killed replays:")
    eq(v.stop(), 0, "graceful stop exits 0")
    v.start()
    bad += compare_rollups(v, "replay", samples, T0, end, 60, check, what="after a graceful restart:")
    eq(bad, 0, "every acknowledged sample stored once")
    eq(v.stop(), 0, "graceful stop exits 0")
except Exception:
    print(v.log()[-4000:])
    raise
finally:
    v.cleanup()
finish()
