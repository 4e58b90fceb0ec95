"""`vigil serve --embedded-kafka`: the in-process mock broker prints its bootstrap address, and
scripts/produce (kcat) feeds it: example messages in all three formats, then generated line
protocol; the counts and sums queried over HTTP match what was sent."""
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Vigil, args, check, eq, finish  # noqa: E402
from kafka_util import metrics, wait_for  # noqa: E402

A = args()
PRODUCE = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "produce")
v = Vigil(A.vigil, extra=["--embedded-kafka"])
try:
    v.start()
    m = wait_for(lambda: re.search(r"^bootstrap: (\S+)$", v.log(), re.M), 30, "bootstrap line")
    bootstrap = m.group(1)
    # The printed address is the embedded broker's: a loopback host:port that accepts connections.
    host, _, port = bootstrap.rpartition(":")
    listening = False
    if host == "127.0.0.1" and port.isdigit():
        try:
            socket.create_connection((host, int(port)), timeout=5).close()
            listening = True
        except OSError:
            pass
    check(listening, "serve --embedded-kafka prints bootstrap: %s, a loopback address that accepts connections"
          % bootstrap)
    subprocess.run(["bash", PRODUCE, "-b", bootstrap], check=True, timeout=60)
    subprocess.run(["bash", PRODUCE, "-b", bootstrap, "-n", "2000", "-s", "8", "-f", "line", "-m", "100"],
                   check=True, timeout=60)
    wait_for(lambda: metrics(v).get("vigil_kafka_samples_total", 0) >= 2004, 120, "samples consumed")
    eq(int(metrics(v)["vigil_kafka_samples_total"]), 2004, "samples from the example and generated messages")
    now = int(time.time())
    st, body = v.get_json("/v1/measurements/demo.cpu", {"start_time": now - 7200, "end_time": now + 60,
                                                        "resolution": 86400, "summary_function": "count"})
    eq(st, 200, "query demo.cpu")
    counts = {s["tags"].get("host"): sum(p["value"] for p in s["measurements"]) for s in body["series"]}
    eq(sum(counts.values()), 2003, "demo.cpu samples (3 examples of which one is demo.latency)")
    eq(counts.get("web-1"), 1, "example JSON object")
    eq(counts.get("web-2"), 1, "example JSON body")
    eq(counts.get("web-3"), 1, "example line protocol")
    eq(sorted(h for h in counts if h.startswith("host-")), ["host-%d" % i for i in range(8)], "generated series")
    eq(v.stop(), 0, "graceful stop exits 0")
finally:
    v.cleanup()
finish()
