"""End to end: POST /v1/snapshots of a chart renders a PNG in a job; GET /v1/snapshots/:id gives
image_href; the PNG decodes, has the documented size (600 x 300) and shows the data: a constant
series is a horizontal line of the stream's color at the expected row."""
import json
import os
import struct
import sys
import time
import urllib.request
import zlib

sys.path.insert(0, os.path.dirname(__file__))
from harness import ADMIN_TOKEN, ADMIN_USER, Vigil, args, basic, check, eq, finish  # noqa: E402

A = args()
E = 1700006400  # end of the snapshot interval, aligned to 60
FORM = "application/x-www-form-urlencoded"


def hdr(headers, name):
    for k, val in headers.items():
        if k.lower() == name.lower():
            return val
    return None


def decode_png(data):
    """(width, height, rows of (r, g, b) tuples); only what Vigil writes: 8-bit RGB, filter 0."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "PNG signature"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        n, = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        crc, = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        assert zlib.crc32(kind + body) & 0xffffffff == crc, "chunk CRC"
        if kind == b"IHDR":
            width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert (depth, ctype) == (8, 2), "8-bit RGB"
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = width * 3 + 1
    rows = []
    for y in range(height):
        line = raw[y * stride:(y + 1) * stride]
        assert line[0] == 0, "filter type 0"
        rows.append([tuple(line[1 + 3 * x:4 + 3 * x]) for x in range(width)])
    return width, height, rows


v = Vigil(A.vigil)
try:
    v.start()
    ms = [{"name": "snap.cpu", "value": 50, "time": t, "tags": {"source": "web-1"}} for t in range(E - 3000, E - 599, 60)]
    eq(v.post_json("/v1/measurements", {"measurements": ms})[0], 200, "ingest a constant series")
    st, text, _ = v.post_json("/v1/spaces", {"name": "snaps"})
    space = json.loads(text)["id"]
    st, text, _ = v.post_json("/v1/spaces/%d/charts" % space, {"name": "CPU", "type": "line", "min": 0, "max": 100,
                                                                "streams": [{"metric": "snap.cpu", "source": "*", "color": "#ff0000"}]})
    chart = json.loads(text)["id"]

    st, text, h = v.post_json("/v1/snapshots", {"subject": {"chart": {"id": chart, "source": "*", "type": "line"}},
                                                "duration": 3600, "end_time": E})
    eq(st, 202, "POST /v1/snapshots -> 202")
    snap = json.loads(text)
    loc = hdr(h, "Location") or ""
    check(loc.startswith("/v1/snapshots/"), "Location of the snapshot: " + loc)
    eq((snap["duration"], snap["end_time"], snap["subject"]),
       (3600, "2023-11-15T00:00:00Z", {"chart": {"id": chart, "sources": ["*"], "type": "line"}}), "snapshot body")
    check(snap["href"].endswith(loc) and "/v1/jobs/" in snap["job_href"], "href and job_href")
    for _ in range(200):
        st, snap = v.get_json(loc)
        if snap.get("image_href"):
            break
        time.sleep(0.05)
    eq(st, 200, "GET /v1/snapshots/:id")
    check(bool(snap.get("image_href")), "image_href set once rendered")
    st, job = v.get_json(snap["job_href"][snap["job_href"].index("/v1/"):])
    eq(job.get("state"), "complete", "the render job completed")
    path = snap["image_href"][snap["image_href"].index("/v1/"):]
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (v.port, path), headers={"Authorization": basic(ADMIN_USER, ADMIN_TOKEN)})
    with urllib.request.urlopen(req, timeout=30) as resp:  # binary: not through request(), which decodes text
        eq((resp.status, resp.headers.get("Content-Type")), (200, "image/png"), "the image is served as image/png")
        data = resp.read()
    width, height, rows = decode_png(data)
    eq((width, height), (600, 300), "the PNG decodes and has the chart's size")
    red, white = (255, 0, 0), (255, 255, 255)
    y50 = 279 - round(50 * 269 / 100 + 0.001)  # plot rows 10..279 span 0..100
    eq([rows[y50][x] for x in (150, 300, 450)], [red] * 3, "value 50 is a red line at row %d" % y50)
    eq([rows[y50 - 20][x] for x in (150, 300, 450)], [white] * 3, "above the line is background")
    eq(rows[y50][560], white, "no line after the last point")
    eq(rows[279][300], (160, 160, 160), "the x axis")
    reds = sum(1 for row in rows for p in row if p == red)
    check(300 < reds < 500, "the red pixels are one line (%d)" % reds)

    # errors
    eq(v.post_json("/v1/snapshots", {"duration": 60})[0], 400, "snapshot without subject -> 400")
    eq(v.post_json("/v1/snapshots", {"subject": {"chart": {"id": 9999}}})[0], 400, "snapshot of an unknown chart -> 400")
    eq(v.post_json("/v1/snapshots", {"subject": {"chart": {"id": chart, "type": "pie"}}})[0], 400, "unknown chart type -> 400")
    eq(v.post_json("/v1/snapshots", {"subject": {"chart": {"id": chart}}, "duration": 5})[0], 400, "duration below 60 -> 400")
    eq(v.get_json("/v1/snapshots/9999")[0], 404, "unknown snapshot -> 404")
    eq(v.request("GET", "/v1/snapshots/9999/image.png")[0], 404, "image of an unknown snapshot -> 404")
    eq(v.request("PUT", loc, "x=1", FORM)[0], 405, "PUT a snapshot -> 405")
    st, text, _ = v.request("POST", "/v1/snapshots", "subject[chart][id]=%d&subject[chart][source]=*&subject[chart][type]=stacked" % chart, FORM)
    eq(st, 202, "POST /v1/snapshots form-encoded, as in the seed")
finally:
    v.cleanup()
finish()
