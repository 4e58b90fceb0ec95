"""End to end: the disk fills up. Vigil runs with its data directory on a small tmpfs (8 MiB, a real
file system that really runs out of space). Ingest goes on until writes are refused: they must be
answered 507 with Retry-After and a clear error, and counted in /metrics (storage.min_free_mb = 2
refuses them before RocksDB's log meets the full disk; a memtable flush that meets it is a
background error RocksDB recovers from once there is room for a write buffer, 64 MiB). Then the file system
grows (remount), and the very same requests are accepted again WITHOUT a restart. Every sample
acknowledged with a 2xx, before and after, is queryable exactly (count, sum, min, max per minute),
also after kill -9 and a restart.

Skipped (77) only when a tmpfs cannot be mounted here (not root, or no mount permission)."""
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Vigil, args, check, eq, finish, hdr  # noqa: E402
from kafka_util import compare_rollups, metrics  # noqa: E402

A = args()
root = tempfile.mkdtemp(prefix="vigil-diskfull-")
mnt = os.path.join(root, "data")
os.makedirs(mnt)
if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", mnt], capture_output=True).returncode != 0:
    print("skipped: cannot mount a tmpfs here (needs root)")
    shutil.rmtree(root, ignore_errors=True)
    sys.exit(77)

T0 = (int(time.time()) // 86400 - 1) * 86400  # yesterday, 00:00 UTC
HOSTS = ["h%02d" % i for i in range(50)]
rng = random.Random(7)
acked = []  # (host, time, value) of every acknowledged sample
v = Vigil(A.vigil, data_dir=mnt, extra=["--set", "storage.memtable_mb=16", "--set", "engine.idle_flush_ms=500",
                                        "--set", "storage.min_free_mb=2"])


def batch(i):
    out = []
    for k in range(5000):
        n = i * 5000 + k
        out.append((HOSTS[n % len(HOSTS)], T0 + n // len(HOSTS), round(rng.uniform(0, 1000), 3)))
    return out


def post(samples):
    body = {"measurements": [{"name": "disk", "value": val, "time": t, "tags": {"host": h}} for (h, t, val) in samples]}
    return v.post_json("/v1/measurements", body)


try:
    v.start()
    refused = None
    i = 0
    while i < 2000 and refused is None:
        s = batch(i)
        st, text, headers = post(s)
        if st in (200, 202):
            acked.extend(s)
            i += 1
        elif st in (503, 507):
            refused = (st, text, headers, s)
        else:
            check(False, "unexpected answer %s %s" % (st, text[:200]))
            break
    check(refused is not None, "writes were refused once the disk was full (after %d accepted batches)" % i)
    if refused:
        st, text, headers, pending = refused
        eq(st, 507, "a write on a full disk is answered 507 Insufficient Storage")
        check(hdr(headers, "Retry-After") is not None, "with Retry-After")
        check("insufficient storage" in text and "No space left" in text, "with a clear error (%s)" % text[:200])
        m = metrics(v)
        check(m.get("vigil_storage_no_space_writes_total", 0) >= 1, "counted: vigil_storage_no_space_writes_total")
        eq(m.get("vigil_storage_out_of_space"), 1.0, "vigil_storage_out_of_space = 1")
        st2, _, _ = post(pending)
        eq(st2, 507, "still full: still 507")
        st3, _ = v.get_json("/v1/measurements/disk", {"start_time": T0, "end_time": T0 + 86400, "resolution": 60})
        eq(st3, 200, "queries are answered while the disk is full")

        # -- space returns: no restart ----------------------------------------------------------------
        subprocess.run(["mount", "-o", "remount,size=160m", mnt], check=True)
        deadline = time.time() + 30
        while time.time() < deadline:
            st, text, _ = post(pending)
            if st in (200, 202):
                acked.extend(pending)
                i += 1
                break
            time.sleep(0.3)
        check(st in (200, 202), "once space returns the same request is accepted, without a restart (%s)" % st)
        for _ in range(5):
            s = batch(i)
            st, text, _ = post(s)
            eq(st in (200, 202), True, "ingest goes on (%s)" % st)
            if st in (200, 202):
                acked.extend(s)
            i += 1
        m = metrics(v)
        eq(m.get("vigil_storage_out_of_space"), 0.0, "vigil_storage_out_of_space back to 0")
        check(m.get("vigil_storage_resumes_total", 0) >= 1, "vigil_storage_resumes_total counts the resume")
    t1 = T0 + len(acked) // len(HOSTS) + 60
    bad = compare_rollups(v, "disk", acked, T0, t1, 60, check, what="before restart:")
    v.kill9()
    v.start()
    bad += compare_rollups(v, "disk", acked, T0, t1, 60, check, what="after kill -9 and restart:")
    eq(bad, 0, "every acknowledged sample (%d) is stored exactly, nothing else" % len(acked))
    eq(v.stop(), 0, "graceful stop exits 0")
except Exception:
    print(v.log()[-4000:])
    raise
finally:
    v.cleanup()
    subprocess.run(["umount", "-l", mnt])
    shutil.rmtree(root, ignore_errors=True)
finish()
