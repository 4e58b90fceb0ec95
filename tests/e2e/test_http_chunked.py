"""Chunked request bodies as they may arrive over a slow link, against the real binary: a
measurement body in chunks, sent one byte per write (the terminal chunk "0\\r\\n\\r\\n" too), is
stored whole; the same with the terminal chunk cut before its last CRLF and the connection
closed leaves nothing stored and the server running. (The fuzz target http_request once fed
Beast's parser the terminal chunk again without a new byte, which trips an assertion of the
parser in builds with assertions: the server's reads always add bytes, which this test checks
through the test build, where assertions are on.)"""
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import ADMIN_TOKEN, ADMIN_USER, Vigil, args, basic, check, eq, finish  # noqa: E402

A = args()
T0 = 1699920000


def chunked_request(v, body, cut=0):
    head = ("POST /v1/measurements HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n" % basic(ADMIN_USER, ADMIN_TOKEN))
    chunks = b""
    for i in range(0, len(body), 7):
        part = body[i:i + 7]
        chunks += b"%x\r\n%s\r\n" % (len(part), part)
    chunks += b"0\r\n\r\n"
    if cut:
        chunks = chunks[:-cut]
    s = socket.create_connection(("127.0.0.1", v.port), timeout=20)
    s.sendall(head.encode())
    for i in range(len(chunks)):
        s.sendall(chunks[i:i + 1])
        if i >= len(chunks) - 6:
            time.sleep(0.05)  # the terminal chunk, byte by byte, each in its own read
    if cut:
        s.shutdown(socket.SHUT_WR)
    raw = b""
    while True:
        try:
            got = s.recv(65536)
        except socket.timeout:
            break
        if not got:
            break
        raw += got
        if b"\r\n\r\n" in raw and not cut:
            break
    s.close()
    return int(raw.split()[1]) if raw.startswith(b"HTTP/1.1 ") else None


def count(v, name):
    st, r = v.get_json("/v1/measurements/" + name, {"start_time": T0 - 60, "end_time": T0 + 3600, "resolution": 60})
    if st == 404:
        return 0  # no such metric: nothing stored
    if st != 200:
        return None
    return sum(len(s["measurements"]) for s in r.get("series", []))


v = Vigil(A.vigil)
try:
    v.start()
    body = json.dumps({"measurements": [{"name": "chunked", "value": i, "time": T0 + 60 * i,
                                         "tags": {"host": "h1"}} for i in range(5)]}).encode()
    st = chunked_request(v, body)
    check(st in (200, 202), "a chunked body sent a byte at a time is accepted (got %s)" % st)
    eq(count(v, "chunked"), 5, "its 5 measurements are stored")

    body2 = json.dumps({"measurements": [{"name": "chunked_cut", "value": 1, "time": T0,
                                          "tags": {"host": "h1"}}]}).encode()
    st = chunked_request(v, body2, cut=2)
    check(st is None or 400 <= st < 500, "a body cut inside the terminal chunk gets no success (got %s)" % st)
    eq(count(v, "chunked_cut"), 0, "nothing of the cut body is stored")
    check(v.proc.poll() is None, "the server is still running")
    st, r = v.get_json("/health")
    eq(st, 200, "/health answers 200")
finally:
    v.cleanup()
finish()
