"""The HTTP front's limits, over raw sockets against the real binary: credentials are checked on
the request head (401 before any body byte is sent), a declared body over server.max_body_mb is a
413 before it is read, a chunked one is cut at the limit and stores nothing, the connection cap
(503, then room again once a connection closes), failed accepts back off instead of spinning
(EMFILE under a low descriptor limit), the header and body timeouts, requests per connection, the
in-flight bound (503 + Retry-After at once) and ingest backpressure (503 + Retry-After, nothing
stored, never admitted past the bound). Every refusal is counted on /metrics."""
import http.client
import json
import os
import shutil
import socket
import stat
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ADMIN_TOKEN, ADMIN_USER, Vigil, args, basic, check, eq, finish  # noqa: E402

A = args()
T0 = (int(time.time()) // 60 - 30) * 60
AUTH = basic(ADMIN_USER, ADMIN_TOKEN)
WRONG = basic(ADMIN_USER, "not-the-token")


def metric(v, name, reason=None):
    st, text, _ = v.request("GET", "/metrics")
    key = '%s{reason="%s"}' % (name, reason) if reason else name
    for line in text.splitlines():
        if line.startswith(key + " "):
            return int(float(line.split()[-1]))
    return None


def connect(v, timeout=10):
    return socket.create_connection(("127.0.0.1", v.port), timeout=timeout)


def read_answer(s):
    """Reads one answer (head and Content-Length body); (status, headers dict lower-cased, body)."""
    raw = b""
    while b"\r\n\r\n" not in raw:
        chunk = s.recv(65536)
        if not chunk:
            break
        raw += chunk
    if b"\r\n\r\n" not in raw:
        return None, {}, raw
    head, rest = raw.split(b"\r\n\r\n", 1)
    lines = head.decode(errors="replace").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, val = line.partition(":")
        headers[k.strip().lower()] = val.strip()
    n = int(headers.get("content-length", "0"))
    while len(rest) < n:
        chunk = s.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, headers, rest[:n]


def closed_by_server(s, within=10):
    """True if the server closes the connection (EOF or reset) within `within` seconds."""
    s.settimeout(within)
    try:
        while True:
            if not s.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def head(method, path, fields):
    return ("%s %s HTTP/1.1\r\nHost: vigil\r\n" % (method, path) +
            "".join("%s: %s\r\n" % kv for kv in fields) + "\r\n").encode()


def sums(v, name):
    st, r = v.get_json("/v1/measurements/" + name, {"start_time": T0 - 60, "end_time": T0 + 600, "resolution": 60,
                                                    "summary_function": "sum", "group_by": "*",
                                                    "group_by_function": "sum"})
    if st == 404:
        return []
    return [(m["time"], m["value"]) for s in r.get("series", []) for m in s["measurements"]] if st == 200 else st


def measurements(name, values):
    return json.dumps({"measurements": [{"name": name, "value": x, "time": T0 + 60 * i, "tags": {"h": "a"}}
                                        for i, x in enumerate(values)]})


def auth_from_headers(v):
    big = 60 << 20  # 60 MiB declared, never sent
    cases = [
        ("librato", "/v1/measurements", [("Authorization", WRONG), ("Content-Type", "application/json")],
         401, '{"errors":{"request":["Authentication failed: unknown user, token or inactive token."]}}'),
        ("librato, no credentials", "/v1/measurements", [("Content-Type", "application/json")],
         401, '{"errors":{"request":["Please provide credentials for authentication."]}}'),
        ("ubiops", "/v2.1/projects/p/time-series/data", [("Authorization", "Token wrong")],
         401, None),
        ("odsl", "/api/object/v1", [("Authorization", "Bearer wrong")], 401, None),
        ("deeploy", "/workspaces/w/deployments/d/custom-metrics", [("Authorization", WRONG)], 401, None),
    ]
    before = metric(v, "vigil_http_refused_total", "unauthorized")
    for what, path, fields, status, body in cases:
        s = connect(v)
        t = time.time()
        s.sendall(head("POST", path, fields + [("Content-Length", str(big))]))
        st, hdrs, got = read_answer(s)
        eq(st, status, "%s: wrong credentials on a 60 MiB declared body -> %d with no body byte sent" % (what, status))
        if body is not None:
            eq(got.decode(), body, "%s: the dialect's own 401 body, byte for byte" % what)
        check(time.time() - t < 10, "%s: answered while the body is still unsent" % what)
        eq(hdrs.get("connection"), "close", "%s: the 401 closes the connection (its body is not read)" % what)
        check(closed_by_server(s), "%s: the server closes the connection after the 401" % what)
        s.close()
    eq(metric(v, "vigil_http_refused_total", "unauthorized") - before, len(cases),
       "vigil_http_refused_total{reason=\"unauthorized\"} counts each of them")

    # A viewer token may not submit: 403 from the head too.
    st, r, _ = v.request("POST", "/v1/api_tokens", json.dumps({"name": "viewer", "role": "viewer"}),
                         "application/json")
    eq(st, 201, "a viewer token is created: " + r)
    viewer = basic(ADMIN_USER, json.loads(r)["token"])
    s = connect(v)
    s.sendall(head("POST", "/v1/measurements", [("Authorization", viewer), ("Content-Type", "application/json"),
                                                 ("Content-Length", str(big))]))
    st, hdrs, got = read_answer(s)
    eq(st, 403, "a viewer's submission with a 60 MiB declared body -> 403 before the body")
    check("x-librato-ratelimit-limit" in hdrs, "the 403 carries Librato's rate-limit headers")
    s.close()

    # Expect: 100-continue: refused without "100 Continue"; admitted with it, then served.
    s = connect(v)
    body = measurements("expect.cont", [1, 2]).encode()
    s.sendall(head("POST", "/v1/measurements", [("Authorization", WRONG), ("Content-Type", "application/json"),
                                                 ("Expect", "100-continue"), ("Content-Length", str(len(body)))]))
    st, _, _ = read_answer(s)
    eq(st, 401, "Expect: 100-continue with wrong credentials -> 401, no 100 Continue")
    s.close()
    s = connect(v)
    s.sendall(head("POST", "/v1/measurements", [("Authorization", AUTH), ("Content-Type", "application/json"),
                                                 ("Expect", "100-continue"), ("Content-Length", str(len(body)))]))
    st, _, _ = read_answer(s)
    eq(st, 100, "Expect: 100-continue with valid credentials -> 100 Continue before the body")
    s.sendall(body)
    st, _, got = read_answer(s)
    eq(st, 200, "then the body is read and stored: " + got.decode(errors="replace"))
    s.close()
    eq(sums(v, "expect.cont"), [(T0, 1), (T0 + 60, 2)], "the 100-continue body is stored")


def body_limits(v):
    # Declared over server.max_body_mb (1 MiB here), valid credentials: 413 before the body.
    s = connect(v)
    s.sendall(head("POST", "/v1/measurements", [("Authorization", AUTH), ("Content-Type", "application/json"),
                                                 ("Content-Length", str(2 << 20))]))
    st, hdrs, got = read_answer(s)
    eq(st, 413, "a declared 2 MiB body over server.max_body_mb=1 -> 413 before it is sent")
    eq(got.decode(), '{"errors":{"request":["the request body is over the size limit (1 MiB, server.max_body_mb)"]}}',
       "Librato's request error names the limit")
    check("x-librato-ratelimit-limit" in hdrs, "the 413 carries the rate-limit headers")
    check(closed_by_server(s), "the connection closes after the 413")
    s.close()
    # UbiOps renders its own 413.
    s = connect(v)
    s.sendall(head("POST", "/v2.1/projects/p/time-series/data",
                   [("Authorization", "Token " + ADMIN_TOKEN), ("Content-Type", "application/json"),
                    ("Content-Length", str(2 << 20))]))
    st, _, got = read_answer(s)
    eq(st, 413, "UbiOps: a declared body over the limit -> 413")
    check(b"server.max_body_mb" in got, "in UbiOps' error format: " + got.decode(errors="replace"))
    s.close()

    # Chunked: the first chunk holds a valid measurement, the whole goes over the limit: 413 and
    # nothing stored.
    s = connect(v)
    s.sendall(head("POST", "/v1/measurements", [("Authorization", AUTH), ("Content-Type", "application/json"),
                                                 ("Transfer-Encoding", "chunked")]))
    first = ('{"measurements":[{"name":"chunked.big","value":1,"time":%d},' % T0).encode()
    s.sendall(b"%x\r\n%s\r\n" % (len(first), first))
    pad = b'{"name":"chunked.big","value":2,"time":%d},' % T0
    block = pad * (65536 // len(pad))
    try:
        for _ in range(20):  # 1.25 MiB in all: the server drains what it does not read
            s.sendall(b"%x\r\n%s\r\n" % (len(block), block))
    except (BrokenPipeError, ConnectionResetError):
        pass
    st, _, got = read_answer(s)
    eq(st, 413, "a chunked body going over the limit -> 413")
    s.close()
    eq(sums(v, "chunked.big"), [], "nothing of the chunked body over the limit is stored")
    check(metric(v, "vigil_http_refused_total", "body_too_large") >= 3, "body_too_large refusals are counted")


def timeouts_and_requests_per_connection(v):
    # Half a head: closed after server.header_timeout_ms (1 s here).
    before = metric(v, "vigil_http_refused_total", "header_timeout")
    s = connect(v)
    s.sendall(b"POST /v1/measurements HTTP/1.1\r\nHost: vigil\r\nContent-")
    t = time.time()
    check(closed_by_server(s, 10), "half a request head: the connection is closed")
    took = time.time() - t
    check(0.8 <= took < 5, "closed by the header timeout of 1 s (after %.2f s)" % took)
    s.close()
    # A new connection that sends nothing is cut by the header timeout too (the slowloris case).
    s = connect(v)
    check(closed_by_server(s, 10), "a connection that sends nothing is closed")
    s.close()
    eq(metric(v, "vigil_http_refused_total", "header_timeout") - before, 2, "both header timeouts are counted")

    # Part of a body: closed after server.body_timeout_ms (2 s here), nothing stored.
    before = metric(v, "vigil_http_refused_total", "body_timeout")
    s = connect(v)
    body = measurements("slow.body", [5]).encode()
    s.sendall(head("POST", "/v1/measurements", [("Authorization", AUTH), ("Content-Type", "application/json"),
                                                 ("Content-Length", str(len(body)))]) + body[:10])
    t = time.time()
    check(closed_by_server(s, 10), "a body that stops arriving: the connection is closed")
    took = time.time() - t
    check(1.8 <= took < 6, "closed by the body timeout of 2 s (after %.2f s)" % took)
    s.close()
    eq(metric(v, "vigil_http_refused_total", "body_timeout") - before, 1, "the body timeout is counted")
    eq(sums(v, "slow.body"), [], "nothing of the cut body is stored")

    # A kept-alive connection survives the header timeout while idle (idle_timeout_ms governs),
    # and serves server.max_requests_per_connection (3) requests, the last with Connection: close.
    s = connect(v)
    got = []
    for i in range(3):
        if i == 1:
            time.sleep(1.5)  # longer than the header timeout, shorter than the idle timeout
        s.sendall(head("GET", "/health", []))
        st, hdrs, _ = read_answer(s)
        got.append((st, hdrs.get("connection", "keep-alive")))
    eq(got, [(200, "keep-alive"), (200, "keep-alive"), (200, "close")],
       "3 requests on one connection, the 2nd after 1.5 s idle (over the header timeout); the 3rd closes")
    check(closed_by_server(s, 10), "the server closes the connection after its last request")
    s.close()


def in_flight(v):
    # server.max_in_flight = 2: two requests admitted whose bodies are still arriving hold both
    # places; a third is answered 503 with Retry-After at once.
    body = measurements("inflight", [1, 2, 3]).encode()
    slow = []
    for _ in range(2):
        s = connect(v)
        s.sendall(head("POST", "/v1/measurements", [("Authorization", AUTH), ("Content-Type", "application/json"),
                                                     ("Content-Length", str(len(body)))]) + body[:10])
        slow.append(s)
    # The slow requests' heads may still be on their way: ask until the bound shows.
    deadline = time.time() + 10
    st = None
    while time.time() < deadline:
        t = time.time()
        st, text, hdrs = v.request("GET", "/v1/metrics")
        if st == 503:
            break
        time.sleep(0.02)
    eq(st, 503, "a third request while 2 are in flight -> 503")
    eq(text, '{"errors":{"system":["the server is busy: 2 requests in flight (server.max_in_flight); retry later"]}}',
       "in Librato's system error format")
    eq(hdrs.get("Retry-After"), "1", "with Retry-After: 1")
    check(time.time() - t < 5, "answered at once, not after the slow requests")
    st, _, _ = v.request("POST", "/v2.1/projects/p/time-series/data", "{}", "application/json",
                         headers={"Authorization": "Token " + ADMIN_TOKEN}, auth=None)
    eq(st, 503, "UbiOps while full -> 503 too")
    for s in slow:
        s.sendall(body[10:])
    for s in slow:
        st, _, got = read_answer(s)
        eq(st, 200, "the slow request completes once its body arrives: " + got.decode(errors="replace"))
        s.close()
    eq(v.request("GET", "/v1/metrics")[0], 200, "with the slow requests answered, requests are served again")
    check(metric(v, "vigil_http_refused_total", "in_flight") >= 2, "the in-flight refusals are counted")


def connection_cap(binary):
    v = Vigil(binary, extra=["--set", "server.max_connections=3"]).start()
    try:
        held = []
        for i in range(3):
            c = http.client.HTTPConnection("127.0.0.1", v.port, timeout=10)
            c.request("GET", "/health")
            r = c.getresponse()
            r.read()
            eq(r.status, 200, "connection %d of 3 served" % (i + 1))
            held.append(c)
        s = connect(v)
        try:
            s.sendall(head("GET", "/health", []))
            st, hdrs, got = read_answer(s)
        except (ConnectionResetError, BrokenPipeError):
            st, hdrs, got = None, {}, b""
        check(st in (503, None), "a 4th connection over server.max_connections=3 is refused (status %r)" % st)
        if st == 503:
            eq(hdrs.get("retry-after"), "1", "the connection refusal carries Retry-After")
        check(closed_by_server(s), "the 4th connection is closed")
        s.close()
        held.pop().close()
        ok = False
        deadline = time.time() + 10
        while time.time() < deadline and not ok:
            try:
                c = http.client.HTTPConnection("127.0.0.1", v.port, timeout=10)
                c.request("GET", "/health")
                r = c.getresponse()
                r.read()
                ok = r.status == 200
                held.append(c)
            except (ConnectionError, http.client.HTTPException):
                time.sleep(0.05)
        check(ok, "once a connection closes, a new one is served")
        for c in held:
            c.close()
        deadline = time.time() + 10
        refused = None
        while time.time() < deadline and refused is None:
            try:
                refused = metric(v, "vigil_http_refused_total", "connections")
            except (ConnectionError, http.client.HTTPException):
                pass
            if refused is None:
                time.sleep(0.05)
        check(refused is not None and refused >= 1, "the refused connection is counted (%r)" % refused)
        eq(v.stop(), 0, "stops cleanly")
    finally:
        v.cleanup()


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def accept_backoff(binary):
    # A descriptor limit below the connection cap: accept() fails with EMFILE while connections
    # wait in the backlog. The listener pauses (50 ms doubling to 1 s) instead of spinning.
    tmp = tempfile.mkdtemp(prefix="vigil-emfile-")
    wrapper = os.path.join(tmp, "vigil-low-fds")
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\nulimit -n 192\nexec '%s' \"$@\"\n" % binary)
    os.chmod(wrapper, stat.S_IRWXU)
    v = Vigil(wrapper, extra=["--set", "server.max_connections=100000", "--set", "server.http_threads=1"]).start()
    try:
        # In the sanitizer build, UBSan checks the dynamic type of an object the first time a
        # virtual call meets it, probing memory through a pipe, which cannot be created while
        # descriptors are exhausted (a false "invalid vptr" would abort the process). The paths
        # the server takes while accept fails are walked once before: a kept-alive connection
        # the sweeper visits, then closed by the client.
        s = connect(v)
        s.sendall(head("GET", "/health", []))
        eq(read_answer(s)[0], 200, "a request before the descriptors run out")
        time.sleep(1.2)
        s.close()
        time.sleep(0.3)
        socks = []
        for _ in range(260):
            socks.append(connect(v))
        deadline = time.time() + 10
        errors = 0
        while time.time() < deadline and errors == 0:
            time.sleep(0.2)
            log = v.log()
            errors = log.count("accepting a connection failed")
        check(errors >= 1, "accept fails once descriptors run out, and says so")
        check("Too many open files" in v.log(), "the log names the error (EMFILE)")
        time.sleep(1.5)  # the backoff reaches its 1 s ceiling
        c0 = cpu_seconds(v.proc.pid)
        time.sleep(2)
        used = cpu_seconds(v.proc.pid) - c0
        check(used < 0.5, "while accept keeps failing the server stays nearly idle (%.2f CPU s in 2 s)" % used)
        for s in socks:
            s.close()
        ok = False
        deadline = time.time() + 20
        while time.time() < deadline and not ok:
            try:
                st, _, _ = v.request("GET", "/health")
                ok = st == 200
            except (ConnectionError, OSError):
                time.sleep(0.2)
        check(ok, "once descriptors are free again, requests are served")
        if not ok:
            print(v.log()[-3000:])
        n = metric(v, "vigil_http_accept_errors_total")
        check(n is not None and 1 <= n <= 100,
              "vigil_http_accept_errors_total counts the failed accepts, a few per second at most (%r)" % n)
        eq(v.stop(), 0, "stops cleanly")
    finally:
        v.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


def ingest_backpressure(binary):
    # One shard that sleeps 1.5 s before applying each batch and a backlog bound of 1 sample: the
    # first write is admitted, the next one waits engine.ingest_wait_ms (200 ms) and is refused.
    v = Vigil(binary, extra=["--set", "engine.shards=1", "--set", "engine.apply_delay_us=1500000",
                             "--set", "engine.max_unapplied_samples=1", "--set", "engine.ingest_wait_ms=200"]).start()
    try:
        st, text, _ = v.request("POST", "/v1/measurements", measurements("bp.first", [1, 2]), "application/json")
        eq(st, 200, "the first write is admitted: " + text)
        t = time.time()
        st, text, hdrs = v.request("POST", "/v1/measurements", measurements("bp.second", [3]), "application/json")
        took = time.time() - t
        eq(st, 503, "a write while the shards are behind the bound -> 503")
        check("engine.max_unapplied_samples" in text and text.startswith('{"errors":{"system":'),
              "a Librato system error naming the bound: " + text)
        eq(hdrs.get("Retry-After"), "1", "with Retry-After: 1")
        check(took < 1.4, "refused after the short wait, before the shard caught up (%.2f s)" % took)
        eq(metric(v, "vigil_backpressure_refusals_total"), 1, "the refusal is counted")
        eq(sums(v, "bp.second"), [], "the refused write stored nothing")
        eq(sums(v, "bp.first"), [(T0, 1), (T0 + 60, 2)], "the admitted write is stored")
        deadline = time.time() + 20
        st = 503
        while time.time() < deadline and st == 503:
            st, text, _ = v.request("POST", "/v1/measurements", measurements("bp.second", [3]), "application/json")
            if st == 503:
                time.sleep(0.3)
        eq(st, 200, "the retried write is admitted once the shard caught up")
        eq(sums(v, "bp.second"), [(T0, 3)], "and stored once")
        eq(v.stop(), 0, "stops cleanly")
    finally:
        v.cleanup()


def main():
    v = Vigil(A.vigil, extra=["--set", "server.max_body_mb=1", "--set", "server.header_timeout_ms=1000",
                              "--set", "server.body_timeout_ms=2000", "--set", "server.idle_timeout_ms=30000",
                              "--set", "server.max_requests_per_connection=3"]).start()
    try:
        auth_from_headers(v)
        body_limits(v)
        timeouts_and_requests_per_connection(v)
        eq(v.stop(), 0, "stops cleanly")
    finally:
        v.cleanup()
    v = Vigil(A.vigil, extra=["--set", "server.max_in_flight=2"]).start()
    try:
        in_flight(v)
        eq(v.stop(), 0, "stops cleanly")
    finally:
        v.cleanup()
    connection_cap(A.vigil)
    accept_backoff(A.vigil)
    ingest_backpressure(A.vigil)
    finish()


if __name__ == "__main__":
    main()
