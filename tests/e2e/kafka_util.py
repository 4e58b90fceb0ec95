"""Kafka helpers for the end-to-end tests: `vigil kafka-mock` in its own process, kcat for
producing and consuming, /metrics parsing, and waiting for the consumer to catch up."""
import json
import os
import re
import signal
import subprocess
import tempfile
import time

# Messages are separated by this byte when produced with kcat, so a message may hold newlines
# (line protocol with several lines).
DELIM = "\x1e"


class Mock:
    """`vigil kafka-mock` in its own process; `bootstrap` is read from its first stdout line."""

    def __init__(self, binary, partitions=4, topics="measurements"):
        self.proc = subprocess.Popen([binary, "kafka-mock", "--partitions", str(partitions), "--topics", topics],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        m = re.match(r"bootstrap: (\S+)", line)
        if not m:
            raise RuntimeError("kafka-mock printed %r" % line)
        self.bootstrap = m.group(1)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=30)


def produce(bootstrap, topic, partition, messages, headers=None):
    """Produces `messages` (strings) to one partition with kcat, in order."""
    fd, path = tempfile.mkstemp(prefix="vigil-kafka-", suffix=".msgs")
    with os.fdopen(fd, "w") as f:
        f.write(DELIM.join(messages))
    cmd = ["kcat", "-P", "-b", bootstrap, "-t", topic, "-p", str(partition), "-D", "\\x1e", "-l", path]
    for k, v in (headers or {}).items():
        cmd += ["-H", "%s=%s" % (k, v)]
    subprocess.run(cmd, check=True, timeout=600, stderr=subprocess.DEVNULL)
    os.remove(path)


def consume_all(bootstrap, topic):
    """Every message of `topic` as kcat's JSON envelope (dicts with headers, partition, offset)."""
    p = subprocess.run(["kcat", "-C", "-b", bootstrap, "-t", topic, "-e", "-J", "-q"],
                       capture_output=True, text=True, timeout=120)
    return [json.loads(l) for l in p.stdout.splitlines() if l.strip()]


def metrics(v):
    """/metrics as {name or name{labels}: value}."""
    st, body, _ = v.request("GET", "/metrics")
    out = {}
    for line in body.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        k, _, val = line.rpartition(" ")
        try:
            out[k] = float(val)
        except ValueError:
            pass
    return out


def wait_for(cond, timeout, what, interval=0.25):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = cond()
        if r:
            return r
        time.sleep(interval)
    raise RuntimeError("timed out waiting for " + what)


def wait_consumed(v, messages, timeout=300):
    """Waits until `v` has consumed `messages` messages (good and bad) in total."""
    return wait_for(lambda: metrics(v).get("vigil_kafka_messages_total", 0) >= messages, timeout,
                    "%d messages consumed" % messages)


def assigned_partitions(v, topic="measurements"):
    m = metrics(v)
    out = set()
    for k in m:
        r = re.match(r'vigil_kafka_partition_offset\{topic="%s",partition="(\d+)"\}' % re.escape(topic), k)
        if r:
            out.add(int(r.group(1)))
    return out


def partition_offsets(v, topic="measurements"):
    m = metrics(v)
    out = {}
    for k, val in m.items():
        r = re.match(r'vigil_kafka_partition_offset\{topic="%s",partition="(\d+)"\}' % re.escape(topic), k)
        if r:
            out[int(r.group(1))] = int(val)
    return out


# Fast group membership changes in tests: a killed member leaves the group within seconds.
GROUP_FLAGS = ["--set", "kafka.rdkafka.session.timeout.ms=3000", "--set", "kafka.rdkafka.heartbeat.interval.ms=300"]


def rollup_reference(samples, res):
    """{series_host: {bucket: {count,sum,min,max}}} from (host, t, value) samples."""
    out = {}
    for (h, t, v) in samples:
        b = out.setdefault(h, {}).setdefault(t // res * res, {"count": 0, "sum": 0.0, "min": v, "max": v})
        b["count"] += 1
        b["sum"] += v
        b["min"] = min(b["min"], v)
        b["max"] = max(b["max"], v)
    return out


def compare_rollups(v, metric, samples, start, end, res, check, hosts=None, what=""):
    """Queries `metric` at `res` for count, sum, min, max and compares every bucket of every
    series (tag host) with the reference computed from `samples`. Returns the number of
    mismatching buckets."""
    ref = rollup_reference(samples, res)
    if hosts is not None:
        ref = {h: b for h, b in ref.items() if h in hosts}
    bad = 0
    for fn in ("count", "sum", "min", "max"):
        st, body = v.get_json("/v1/measurements/" + metric, {
            "start_time": start, "end_time": end, "resolution": res, "summary_function": fn})
        if st != 200:
            check(False, "%s query %s -> %s %s" % (what, fn, st, body))
            return 1
        got = {}
        for s in body["series"]:
            got[s["tags"]["host"]] = {p["time"]: p["value"] for p in s["measurements"]}
        if hosts is not None:
            got = {h: b for h, b in got.items() if h in hosts}
        missing = sorted(set(ref) ^ set(got))
        mism = []
        for h in ref:
            g = got.get(h, {})
            for b, agg in ref[h].items():
                exp = agg[fn]
                if b not in g or abs(g[b] - exp) > 1e-6 * max(1.0, abs(exp)):
                    mism.append((h, b, g.get(b), exp))
            extra = set(g) - set(ref[h])
            mism += [(h, b, g[b], None) for b in extra]
        bad += len(mism) + len(missing)
        check(not mism and not missing, "%s %s@%ds: %d series, %d buckets equal the reference%s" % (
            what, fn, res, len(ref), sum(len(x) for x in ref.values()),
            "" if not mism and not missing else " (series diff %s, first mismatches %s)" % (missing[:3], mism[:3])))
    return bad
