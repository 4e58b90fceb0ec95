"""Request bodies with Content-Encoding gzip or deflate, as collectors send them: accepted on the
write routes of every dialect (Librato JSON and legacy form, UbiOps), stored exactly as the plain
body would be; a body that does not inflate is a 400, an encoding other than gzip / deflate a 415,
an inflated body over server.max_inflated_mb a 413, and none of them stores anything. Credentials
are checked before anything is inflated."""
import gzip
import json
import os
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ADMIN_TOKEN, Vigil, args, check, eq, finish  # noqa: E402

A = args()
T0 = (int(time.time()) // 60 - 30) * 60
FORM = "application/x-www-form-urlencoded"


def sums(v, name):
    st, r = v.get_json("/v1/measurements/" + name, {"start_time": T0, "end_time": T0 + 600, "resolution": 60,
                                                    "summary_function": "sum", "group_by": "*",
                                                    "group_by_function": "sum"})
    return [(m["time"], m["value"]) for s in r.get("series", []) for m in s["measurements"]] if st == 200 else st


def rejected(v, reason):
    st, text, _ = v.request("GET", "/metrics")
    for line in text.splitlines():
        if line.startswith('vigil_rejected_inputs_total{reason="%s"}' % reason):
            return int(float(line.split()[-1]))
    return 0


def post(v, path, raw, ctype, encoding, auth=True):
    return v.request("POST", path, raw, ctype, headers={"Content-Encoding": encoding}, auth=auth)


def main():
    v = Vigil(A.vigil, extra=["--set", "server.max_inflated_mb=1"]).start()
    try:
        body = json.dumps({"measurements": [{"name": "gz", "value": i, "time": T0 + 60 * i, "tags": {"h": "a"}}
                                            for i in range(1, 4)]}).encode()
        st, text, _ = post(v, "/v1/measurements", gzip.compress(body), "application/json", "gzip")
        eq(st, 200, "POST /v1/measurements with a gzip body -> 200: " + text)
        eq(sums(v, "gz"), [(T0 + 60, 1), (T0 + 120, 2), (T0 + 180, 3)], "the gzip body's values are stored")
        st, _, _ = post(v, "/v1/measurements", zlib.compress(json.dumps(
            {"name": "df", "value": 5, "time": T0}).encode()), "application/json", "deflate")
        eq(st, 200, "deflate (zlib format) body -> 200")
        raw = zlib.compressobj(wbits=-15)
        data = raw.compress(json.dumps({"name": "df", "value": 7, "time": T0 + 60}).encode()) + raw.flush()
        eq(post(v, "/v1/measurements", data, "application/json", "deflate")[0], 200, "raw deflate body -> 200")
        eq(sums(v, "df"), [(T0, 5), (T0 + 60, 7)], "both deflate bodies stored")
        form = ("measure_time=%d&gauges[0][name]=legacy.gz&gauges[0][value]=4" % T0).encode()
        eq(post(v, "/v1/metrics", gzip.compress(form), FORM, "GZIP")[0], 200, "legacy form, gzip (any case) -> 200")
        eq(sums(v, "legacy.gz"), [(T0, 4)], "the legacy gzip body is stored")

        # Another dialect's write route: UbiOps time-series data.
        tok = {"Authorization": "Token " + ADMIN_TOKEN}
        st, _, _ = v.request("POST", "/v2.1/projects/p1/metrics", json.dumps(
            {"name": "custom.gz", "metric_type": "delta"}), "application/json", headers=tok, auth=None)
        eq(st, 201, "UbiOps metric created")
        date = time.strftime("%Y-%m-%dT%H:%M:00Z", time.gmtime(T0))
        data = gzip.compress(json.dumps([{"metric": "custom.gz", "data": [{"date": date, "value": 2.5}]}]).encode())
        st, text, _ = v.request("POST", "/v2.1/projects/p1/time-series/data", data, "application/json",
                                headers=dict(tok, **{"Content-Encoding": "gzip"}), auth=None)
        check(st // 100 == 2, "UbiOps time-series data with a gzip body -> 2xx: %s %s" % (st, text))

        # Refusals store nothing.
        bad_before = rejected(v, "bad_body")
        st, text, _ = post(v, "/v1/measurements", b"\x1f\x8bnot gzip at all", "application/json", "gzip")
        check(st == 400 and "compressed" in text, "a body that does not inflate -> 400: %s %s" % (st, text))
        st, text, _ = post(v, "/v1/measurements", gzip.compress(body)[:-8], "application/json", "gzip")
        eq(st, 400, "a truncated gzip body -> 400")
        st, text, _ = post(v, "/v1/measurements", body, "application/json", "br")
        check(st == 415 and "Content-Encoding" in text, "an unsupported encoding -> 415 naming it: %s" % text)
        big = json.dumps({"measurements": [{"name": "bomb", "value": 1, "time": T0, "tags": {"pad": "x" * 200}}] * 6000})
        st, text, _ = post(v, "/v1/measurements", gzip.compress(big.encode()), "application/json", "gzip")
        check(st == 413 and "max_inflated_mb" in text, "inflating past server.max_inflated_mb -> 413: %s %s"
              % (st, text[:200]))
        eq(v.get_json("/v1/metrics/bomb")[0], 404, "nothing of the refused bodies was stored")
        st, _, _ = post(v, "/v1/measurements", b"\x1f\x8bgarbage", "application/json", "gzip", auth=("x@y", "wrong"))
        eq(st, 401, "wrong credentials are refused before anything is inflated")
        eq(rejected(v, "bad_body") - bad_before, 2, "the two bodies that did not inflate are counted as bad_body")
    finally:
        v.cleanup()
    finish()


main()
