#!/usr/bin/env python3
"""Alert latency benchmark: the time from a triggering sample POSTed to /v1/measurements, and from
a triggering sample produced to Kafka (the embedded broker, `serve --embedded-kafka`), to the
webhook notification received by a local HTTP receiver, p50 / p99 over N triggers per path, while
background writers keep up a load of LOAD samples/s on other series (over HTTP).

Each trigger is a new stream (tags host=tN) of a metric watched by an `above 0` alert, so every
POST fires exactly one notification. Latency is measured two ways: from the moment the POST is
sent, and from the moment its answer is received (the POST acknowledged), to the moment the webhook
request arrives at the receiver (one machine, one clock). Each Kafka trigger is produced by one
`kcat -P` run (linger.ms=0): latency from starting kcat (process start and broker connection
included), and from its exit (the broker acknowledged the message).

With --load-bin build/bench/http_load the background load comes from that C++ sender instead
(W1-style bodies of --batch measurements on keep-alive connections, each stamped with the current
second), and its CPU seconds are reported. With --kafka-producer build/bench/kafka_load the Kafka
triggers go through one long-lived librdkafka producer (linger.ms=0): latency from the produce
call and from its delivery report (the broker's acknowledgement), no process start included.
--json FILE writes every figure as one JSON object.

usage: bench_alerts.py --vigil build/vigil [--triggers 250] [--load 120000] [--warmup 3] [--paths http,kafka]
                       [--load-bin build/bench/http_load] [--kafka-producer build/bench/kafka_load] [--json FILE]
"""
import argparse
import http.client
import json
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "e2e"))
from receiver import Receiver  # noqa: E402


def start_vigil(binary, data_dir, kafka, extra_args=()):
    log = open(data_dir + ".log", "wb")
    extra = (["--embedded-kafka"] if kafka else []) + list(extra_args)
    p = subprocess.Popen([binary, "serve", "--data-dir", data_dir, "--listen", "127.0.0.1:0",
                          "--set", "auth.enabled=false"] + extra,
                         stdout=log, stderr=log)
    deadline = time.time() + 30
    while time.time() < deadline:
        with open(data_dir + ".log", "rb") as f:
            text = f.read().decode(errors="replace")
        if "listening on" in text and (not kafka or "bootstrap: " in text):
            port = int(text.rsplit("listening on ", 1)[1].split()[0].rsplit(":", 1)[1])
            boot = text.rsplit("bootstrap: ", 1)[1].split()[0] if kafka else None
            return p, port, boot
        time.sleep(0.05)
    raise RuntimeError("vigil did not start")


def load_worker(port, rate, batch, stop, counter, worker, series):
    """Posts pre-encoded batches of `batch` samples to reach `rate` samples/s."""
    now = int(time.time())
    bodies = []
    for b in range(8):
        ms = [{"name": "bench.load", "value": (i * 7 + b) % 1000, "time": now,
               "tags": {"host": "w%d-%d" % (worker, (b * batch + i) % series)}} for i in range(batch)]
        bodies.append(json.dumps({"measurements": ms}).encode())
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    sent = 0
    t0 = time.time()
    i = 0
    while not stop.is_set():
        conn.request("POST", "/v1/measurements", bodies[i % len(bodies)], {"Content-Type": "application/json"})
        r = conn.getresponse()
        r.read()
        if r.status not in (200, 202):
            print("load POST -> %d" % r.status, file=sys.stderr)
        i += 1
        sent += batch
        with counter.get_lock():
            counter.value += batch
        ahead = sent / rate - (time.time() - t0)
        if ahead > 0:
            time.sleep(ahead)


def proc_cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class TriggerProducer:
    """One librdkafka producer (kafka_load --triggers): a line in, "<sent> <acked> ok" out."""

    def __init__(self, binary, bootstrap):
        self.p = subprocess.Popen([binary, "--bootstrap", bootstrap, "--triggers"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True, bufsize=1)
        assert self.p.stdout.readline().strip() == "ready"

    def send(self, line):
        self.p.stdin.write(line.rstrip("\n") + "\n")
        self.p.stdin.flush()
        sent, acked, status = self.p.stdout.readline().split()
        if status != "ok":
            raise RuntimeError("trigger not delivered")
        return float(sent), float(acked)

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=30)


def pct(xs, p):
    xs = sorted(xs)
    k = max(0, min(len(xs) - 1, int(round(p / 100.0 * len(xs) + 0.5)) - 1))
    return xs[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vigil", required=True)
    ap.add_argument("--triggers", type=int, default=250)
    ap.add_argument("--load", type=int, default=120000, help="background samples/s")
    ap.add_argument("--writers", type=int, default=3)
    ap.add_argument("--batch", type=int, default=5000)
    ap.add_argument("--series", type=int, default=10000, help="background series per writer")
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--paths", default="http,kafka")
    ap.add_argument("--set", action="append", default=[], help="vigil setting KEY=VALUE (repeatable)")
    ap.add_argument("--load-bin", help="C++ background sender (build/bench/http_load) instead of Python writers")
    ap.add_argument("--kafka-producer", help="kafka_load binary: Kafka triggers through one librdkafka producer")
    ap.add_argument("--json", help="write the figures to this file as one JSON object")
    a = ap.parse_args()
    paths = [x for x in a.paths.split(",") if x]

    data = tempfile.mkdtemp(prefix="vigil-bench-alerts-")
    rc = Receiver()
    extra = [x for kv in a.set for x in ("--set", kv)]
    proc, port, boot = start_vigil(a.vigil, data, "kafka" in paths, extra)
    loader = None
    try:
        api = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

        def call(method, path, body=None):
            api.request(method, path, json.dumps(body) if body is not None else None,
                        {"Content-Type": "application/json"})
            r = api.getresponse()
            return r.status, r.read()

        st, body = call("POST", "/v1/services", {"title": "bench", "type": "webhook",
                                                 "settings": {"url": rc.url("/bench")}})
        sid = int(json.loads(body)["id"])
        st, _ = call("POST", "/v1/alerts", {"name": "bench.latency", "rearm_seconds": 0, "services": [sid],
                                            "conditions": [{"type": "above", "metric_name": "bench.trigger",
                                                            "threshold": 0}]})
        assert st == 201, st

        stop = mp.Event()
        counter = mp.Value("q", 0)
        per = a.load / a.writers
        workers = []
        if a.load_bin:
            loader = subprocess.Popen([a.load_bin, "--port", str(port), "--rate", str(a.load), "--connections",
                                       str(a.writers), "--series", str(a.writers * a.series), "--batch", str(a.batch),
                                       "--rounds", "0", "--metric", "bench.load"],
                                      stdout=subprocess.PIPE, text=True)
        else:
            workers = [mp.Process(target=load_worker, args=(port, per, a.batch, stop, counter, w, a.series))
                       for w in range(a.writers)]
        for w in workers:
            w.start()
        time.sleep(a.warmup)
        c0, t0 = counter.value, time.time()
        vcpu0 = proc_cpu_s(proc.pid)

        results = {}
        n = 0
        producer = None
        if "kafka" in paths:
            # The consumer group needs a few seconds to get its partitions assigned.
            warm = '{"name":"bench.warm","value":1}\n'
            if a.kafka_producer:
                producer = TriggerProducer(a.kafka_producer, boot)
                producer.send(warm)
            else:
                subprocess.run(["kcat", "-P", "-b", boot, "-t", "measurements"], input=warm.encode(), check=True)
            time.sleep(4.0)
        for path in paths:
            from_send, from_ack = [], []
            for i in range(a.triggers):
                host = "%s%d" % (path, i)
                m = {"name": "bench.trigger", "value": 1, "time": int(time.time()), "tags": {"host": host}}
                if path == "http":
                    body = json.dumps({"measurements": [m]})
                    ts = time.time()
                    api.request("POST", "/v1/measurements", body, {"Content-Type": "application/json"})
                    r = api.getresponse()
                    r.read()
                    ta = time.time()
                elif producer:
                    ts, ta = producer.send(json.dumps(m))
                else:
                    # One kcat per trigger: it exits once the broker acknowledged the message.
                    line = (json.dumps(m) + "\n").encode()
                    ts = time.time()
                    subprocess.run(["kcat", "-P", "-b", boot, "-t", "measurements", "-X", "linger.ms=0"],
                                   input=line, check=True)
                    ta = time.time()
                got = rc.wait_for(n + 1, "/bench", timeout=30)
                if len(got) < n + 1:
                    print("%s trigger %d: no webhook within 30 s" % (path, i), file=sys.stderr)
                    break
                n += 1
                tr = [g for g in got if g["body"]["stream"]["tags"]["host"] == host]
                tr = tr[0]["t"] if tr else got[-1]["t"]
                from_send.append((tr - ts) * 1000)
                if ta is not None:
                    from_ack.append((tr - ta) * 1000)
                time.sleep(0.01)
            results[path] = (from_send, from_ack)
        elapsed = time.time() - t0
        vigil_cpu = proc_cpu_s(proc.pid) - vcpu0
        if producer:
            producer.close()
        rate = (counter.value - c0) / elapsed
        load_stats = None
        stop.set()
        for w in workers:
            w.join()
        if loader:
            loader.terminate()
            out, _ = loader.communicate(timeout=60)
            load_stats = json.loads(out.strip().splitlines()[-1])
            # The sender is paced from its start: its average over its whole run (warm-up included).
            rate = load_stats["rate"]

        sender = "C++ http_load, %.1f CPU s in %.1f s" % (load_stats["cpu_s"], load_stats["elapsed_s"]) \
            if load_stats else "Python writers"
        print("alert latency, sample -> webhook received; background load %.0f samples/s over HTTP on %d series "
              "(%d writers, %d samples per request; %s); vigil %.1f CPU s during the triggers"
              % (rate, a.writers * a.series, a.writers, a.batch, sender, vigil_cpu))
        report = dict(load_rate=rate, load_series=a.writers * a.series, load_writers=a.writers, load_batch=a.batch,
                      load_stats=load_stats, vigil_cpu_s=vigil_cpu, trigger_phase_s=elapsed, paths={})
        for path, (from_send, from_ack) in results.items():
            if not from_send:
                continue
            report["paths"][path] = dict(
                n=len(from_send), send_p50_ms=pct(from_send, 50), send_p99_ms=pct(from_send, 99),
                send_max_ms=max(from_send), ack_p50_ms=pct(from_ack, 50) if from_ack else None,
                ack_p99_ms=pct(from_ack, 99) if from_ack else None, ack_max_ms=max(from_ack) if from_ack else None,
                producer="kafka_load" if (path == "kafka" and producer) else ("kcat" if path == "kafka" else "http"))
            what = "POST /v1/measurements sent" if path == "http" else (
                "produce call" if producer else "kcat started")
            print("  %-5s %d triggers, from %s: p50 %.2f ms  p99 %.2f ms  max %.2f ms"
                  % (path, len(from_send), what, pct(from_send, 50), pct(from_send, 99), max(from_send)))
            if from_ack:
                ack = "POST acknowledged" if path == "http" else (
                    "delivery report (broker ack)" if producer else "message acknowledged by the broker (kcat exit)")
                print("  %-5s %d triggers, from %s: p50 %.2f ms  p99 %.2f ms  max %.2f ms"
                      % (path, len(from_ack), ack, pct(from_ack, 50), pct(from_ack, 99), max(from_ack)))
        if a.json:
            with open(a.json, "w") as f:
                json.dump(report, f)
    finally:
        if loader and loader.poll() is None:
            loader.kill()
            loader.wait()
        proc.terminate()
        proc.wait(timeout=120)
        rc.close()
        shutil.rmtree(data, ignore_errors=True)
        try:
            os.remove(data + ".log")
        except OSError:
            pass


if __name__ == "__main__":
    main()
