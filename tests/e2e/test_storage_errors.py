"""End to end: a corrupt data block in an SST file of a stopped server. After a restart, a query
that reads the block answers 5xx naming the storage error (never a 200 with fewer points) and
vigil_storage_errors_total moves; a query of another metric still answers 200 with all its data;
the process stays up.

Metric A (many series over several days) is written first, so its series have the lowest ids and
its raw samples fill the first data blocks of the raw column family's SST file; metric B is written
after it and lives in the last blocks. A clean stop flushes the memtables to SST files (the
engine's shutdown flush); idle_flush_ms = 0 keeps the maintenance thread from flushing or
compacting on its own, so each column family has exactly the files of that one flush. The SST
format is parsed (footer, metaindex, properties) to find the raw column family's file and its data
region: a block-based table writes its data blocks first, from offset 0, so bytes near the start
of the file are inside the first data block, away from the index, filter and footer that are read
at open."""
import json
import os
import re
import struct
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from harness import Vigil, args, check, eq, finish  # noqa: E402

A = args()
DAY = 86400
T0 = 1699920000  # a UTC day boundary
HOSTS_A = 300
DAYS_A = 6
B_SAMPLES = [(T0 + DAY + 600 * i, 1.5 * i) for i in range(48)]

# -- the SST format (RocksDB block-based table, format_version 2..5) ------------------------------

BLOCK_BASED_MAGIC = 0x88E241B785F4CFF7
FOOTER_SIZE = 53  # checksum type, two block handles padded to 41 bytes, format version, magic
BLOCK_TRAILER = 5  # compression type, checksum


def varint(buf, pos):
    shift = result = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, pos
        shift += 7


def read_block(data, offset, size):
    """The entries (key, value) of an uncompressed block (metaindex, properties)."""
    if data[offset + size] != 0:
        raise RuntimeError("meta block at %d is compressed" % offset)
    block = data[offset:offset + size]
    restarts = struct.unpack_from("<I", block, size - 4)[0] & 0x7FFFFFFF
    end = size - 4 - 4 * restarts
    pos, key, out = 0, b"", []
    while pos < end:
        shared, pos = varint(block, pos)
        non_shared, pos = varint(block, pos)
        vlen, pos = varint(block, pos)
        key = key[:shared] + block[pos:pos + non_shared]
        pos += non_shared
        out.append((key, block[pos:pos + vlen]))
        pos += vlen
    return out


def sst_properties(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack_from("<Q", data, len(data) - 8)[0]
    if magic != BLOCK_BASED_MAGIC:
        raise RuntimeError("%s: not a block-based table (magic %x)" % (path, magic))
    version = struct.unpack_from("<I", data, len(data) - 12)[0]
    if not 2 <= version <= 5:
        raise RuntimeError("%s: table format_version %d is not parsed here" % (path, version))
    footer = len(data) - FOOTER_SIZE
    meta_off, pos = varint(data, footer + 1)
    meta_size, pos = varint(data, pos)
    props = None
    for k, v in read_block(data, meta_off, meta_size):
        if k == b"rocksdb.properties":
            off, p = varint(v, 0)
            size, _ = varint(v, p)
            props = dict(read_block(data, off, size))
    if props is None:
        raise RuntimeError("%s: no properties block" % path)
    return props


def number(props, name):
    return varint(props[name], 0)[0]


# -- helpers -------------------------------------------------------------------------------------

def storage_errors(v):
    st, body, _ = v.request("GET", "/metrics")
    eq(st, 200, "/metrics answers 200")
    counts = dict(re.findall(r'^vigil_storage_errors_total\{op="([a-z_]+)"\} (\d+)$', body, re.M))
    return {op: int(n) for op, n in counts.items()}


def raw_points(v, name, start, end):
    """GET /v1/measurements at resolution 1: read from the raw samples."""
    return v.get_json("/v1/measurements/" + name, {"start_time": start, "end_time": end, "resolution": 1})


def main():
    conf_dir = tempfile.mkdtemp(prefix="vigil-e2e-conf-")
    conf = os.path.join(conf_dir, "vigil.toml")
    with open(conf, "w") as f:
        # The raw queries below (resolution 1 over 6 days of many series) are estimated at one point
        # a second per series, far over query.max_read_points: unlimited here, they must read.
        f.write("[engine]\nidle_flush_ms = 0\n[query]\nmax_read_points = 0\n")
    v = Vigil(A.vigil, extra=["--config", conf])
    try:
        v.start()
        # Irregular values, so the blocks do not compress to a handful.
        samples = [("h%03d" % h, T0 + d * DAY + 3600 * k, ((h * 7919 + d * 104729 + k * 31337) % 100003) / 7.0)
                   for h in range(HOSTS_A) for d in range(DAYS_A) for k in range(24)]
        statuses = set()
        for i in range(0, len(samples), 5000):
            st, text, _ = v.post_json("/v1/measurements", {"measurements": [
                {"name": "alpha", "time": t, "value": val, "tags": {"host": h}} for h, t, val in samples[i:i + 5000]]})
            statuses.add(st)
        eq(statuses, {200}, "metric A: %d samples of %d series accepted" % (len(samples), HOSTS_A))
        st, text, _ = v.post_json("/v1/measurements", {"measurements": [
            {"name": "beta", "time": t, "value": val, "tags": {"host": "b"}} for t, val in B_SAMPLES]})
        eq(st, 200, "metric B accepted")
        st, r = raw_points(v, "beta", T0, T0 + DAYS_A * DAY)
        before = [(m["time"], m["value"]) for m in r["series"][0]["measurements"]] if st == 200 and r["series"] else None
        eq(before, B_SAMPLES, "metric B reads back whole before the stop")
        eq(v.stop(), 0, "clean stop")

        # The raw column family's SST file, written by the shutdown flush.
        raw = []
        for name in sorted(os.listdir(v.data_dir)):
            if name.endswith(".sst"):
                props = sst_properties(os.path.join(v.data_dir, name))
                if props.get(b"rocksdb.column.family.name") == b"raw":
                    raw.append((name, props))
        eq(len(raw), 1, "the raw column family is in one SST file")
        if len(raw) != 1:
            return
        name, props = raw[0]
        blocks = number(props, b"rocksdb.num.data.blocks")
        data_size = number(props, b"rocksdb.data.size")
        check(blocks >= 8, "the raw SST file has many data blocks (%d, %d bytes)" % (blocks, data_size))
        check(number(props, b"rocksdb.num.entries") >= HOSTS_A * DAYS_A,
              "the raw SST file holds A's samples (%d entries)" % number(props, b"rocksdb.num.entries"))
        # Inside the first data block: it starts at offset 0 and is far longer than 64 bytes.
        lo, hi = 32, 64
        check(hi < data_size // blocks, "the corrupted bytes lie inside the first data block")
        path = os.path.join(v.data_dir, name)
        with open(path, "r+b") as f:
            f.seek(lo)
            chunk = f.read(hi - lo)
            f.seek(lo)
            f.write(bytes(b ^ 0xFF for b in chunk))

        v.start()
        st, r = v.get_json("/health")
        eq(st, 200, "restarted on the corrupt file (its footer and index are intact)")
        errors_before = storage_errors(v)
        eq(sorted(errors_before), ["compact", "flush", "get", "multi_get", "scan", "write"], "vigil_storage_errors_total has every op")
        eq(sum(errors_before.values()), 0, "no storage error before the query")

        st, r = raw_points(v, "alpha", T0, T0 + DAYS_A * DAY)
        check(500 <= st < 600, "a query of A that reads the corrupt block answers 5xx (got %s)" % st)
        messages = (r or {}).get("errors", {}).get("system", [])
        check(len(messages) == 1 and messages[0].startswith("storage error: corruption"),
              "the answer names the storage error: %s" % messages)
        errors_after = storage_errors(v)
        check(errors_after.get("scan", 0) > errors_before.get("scan", 0),
              "vigil_storage_errors_total{op=\"scan\"} moved: %s -> %s" % (errors_before, errors_after))
        st2, _ = raw_points(v, "alpha", T0, T0 + DAYS_A * DAY)
        eq(st2, st, "the same query fails the same way again")

        st, r = raw_points(v, "beta", T0, T0 + DAYS_A * DAY)
        eq(st, 200, "a query of B answers 200")
        after = [(m["time"], m["value"]) for m in r["series"][0]["measurements"]] if st == 200 and r["series"] else None
        eq(after, B_SAMPLES, "metric B answers all its data")

        # The store's memory gauges: the raw SST file is open (its index and filter held), and
        # the reads above went through the block cache.
        st, body, _ = v.request("GET", "/metrics")
        gauge = lambda name: sum(int(n) for n in re.findall(r'^%s(?:\{[^}]*\})? (\d+)$' % name, body, re.M))
        check(gauge("vigil_rocksdb_table_readers_bytes") > 0, "vigil_rocksdb_table_readers_bytes counts the open SST files")
        check(0 < gauge("vigil_rocksdb_block_cache_bytes") <= 256 << 20,
              "vigil_rocksdb_block_cache_bytes holds the blocks read, within storage.block_cache_mb (256)")
        eq((gauge("vigil_rocksdb_write_stopped"), gauge("vigil_rocksdb_delayed_write_rate")), (0, 0),
           "no write stall reported")

        st, r = v.get_json("/health")
        eq((st, r), (200, {"status": "ok"}), "/health answers 200 after the storage errors")
        check(v.proc.poll() is None, "the process is still running")
    finally:
        v.cleanup()
        os.remove(conf)
        os.rmdir(conf_dir)


main()
finish()
