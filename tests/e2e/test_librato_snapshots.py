"""End to end: POST /v1/snapshots of a chart renders a PNG in a job; GET /v1/snapshots/:id gives
image_href; the PNG decodes, has the documented size (600 x 300) and shows the data, read back
from the pixels: a constant series is a horizontal line of the stream's color at the expected row;
a stream's tags or source, and the snapshot's source, pick which series are drawn; the chart name
is drawn in the title area and the stream labels in the legend; a bignumber chart shows the latest
value of its stream in large centred digits of the built-in 5x7 font (read back here)."""
import json
import os
import struct
import sys
import time
import urllib.request
import zlib

sys.path.insert(0, os.path.dirname(__file__))
from harness import ADMIN_TOKEN, ADMIN_USER, Vigil, args, basic, check, eq, finish, hdr  # noqa: E402

A = args()
E = 1700006400  # end of the snapshot interval, aligned to 60
FORM = "application/x-www-form-urlencoded"
# The documented geometry (docs/API.md, "Snapshots").
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 56, 589, 30, 259
TITLE_LEFT, TITLE_TOP, LEGEND_TOP = 8, 8, 282
WHITE, AXIS = (255, 255, 255), (160, 160, 160)
# The glyphs of the built-in 5x7 font that numbers use, one string per row.
GLYPHS = {
    "0": [".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."],
    "1": ["..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."],
    "2": [".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"],
    "3": ["#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."],
    "4": ["...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."],
    "5": ["#####", "#....", "####.", "....#", "....#", "#...#", ".###."],
    "6": ["..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."],
    "7": ["#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."],
    "8": [".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."],
    "9": [".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."],
    ".": [".....", ".....", ".....", ".....", ".....", ".##..", ".##.."],
    "-": [".....", ".....", ".....", "#####", ".....", ".....", "....."],
}


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


def row_of(value, lo=0, hi=100):
    """The image row of a value in a chart whose y axis spans lo..hi (rounded half up, as drawn)."""
    return PLOT_BOTTOM - int((value - lo) * (PLOT_BOTTOM - PLOT_TOP) / (hi - lo) + 0.5)


def bbox(rows, pred, x0=0, y0=0, x1=599, y1=299):
    """(left, top, right, bottom) of the pixels within the box for which pred(pixel) holds, or None."""
    xs, ys = [], []
    for y in range(y0, y1 + 1):
        for x in range(x0, x1 + 1):
            if pred(rows[y][x]):
                xs.append(x)
                ys.append(y)
    return (min(xs), min(ys), max(xs), max(ys)) if xs else None


def read_number(rows, color):
    """Reads the digits drawn in `color` in the plot area: the ink's bounding box gives the scale (7 font rows) and
    the cells; each cell is sampled at the centre of its font pixels and matched to a glyph."""
    box = bbox(rows, lambda p: p == color, 0, PLOT_TOP, 599, PLOT_BOTTOM)
    if not box:
        return None, None
    left, top, right, bottom = box
    scale = (bottom - top + 1) // 7
    if scale < 1 or (bottom - top + 1) % 7:
        return "?", box
    n = (right - left + 1 + scale) // (6 * scale)
    text = ""
    for i in range(n):
        cell = []
        for gy in range(7):
            line = ""
            for gx in range(5):
                x = left + i * 6 * scale + gx * scale + scale // 2
                y = top + gy * scale + scale // 2
                line += "#" if rows[y][x] == color else "."
            cell.append(line)
        text += next((ch for ch, g in GLYPHS.items() if g == cell), "?")
    return text, box


def image(v, snap):
    """Waits for the snapshot's image and returns its decoded rows."""
    loc = snap["href"][snap["href"].index("/v1/"):]
    for _ in range(400):
        st, snap = v.get_json(loc)
        if snap.get("image_href"):
            break
        time.sleep(0.05)
    path = snap["image_href"][snap["image_href"].index("/v1/"):]
    req = urllib.request.Request("http://127.0.0.1:%d%s" % (v.port, path), headers={"Authorization": basic(ADMIN_USER, ADMIN_TOKEN)})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return decode_png(resp.read())[2]


def snapshot(v, chart, source="*", kind=None):
    subject = {"id": chart, "source": source}
    if kind:
        subject["type"] = kind
    st, text, _ = v.post_json("/v1/snapshots", {"subject": {"chart": subject}, "duration": 3600, "end_time": E})
    check(st == 202, "snapshot of chart %d (source %s) accepted (got %d %s)" % (chart, source, st, text[:200]))
    return image(v, json.loads(text))


def new_chart(v, space, body):
    st, text, _ = v.post_json("/v1/spaces/%d/charts" % space, body)
    check(st == 201, "chart %s created (got %d %s)" % (body.get("name"), st, text[:200]))
    return json.loads(text)["id"]


def line_rows(rows, color):
    """The rows where `color` crosses the columns 150, 300 and 450 of the plot."""
    return [sorted({y for y in range(PLOT_TOP, PLOT_BOTTOM + 1) if rows[y][x] == color}) for x in (150, 300, 450)]


v = Vigil(A.vigil)
try:
    v.start()
    times = range(E - 3000, E - 599, 60)
    ms = [{"name": "snap.cpu", "value": 50, "time": t, "tags": {"source": "web-1"}} for t in times]
    # Two series of one metric that differ only by a tag, and two that differ by source.
    ms += [{"name": "snap.tagged", "value": 20, "time": t, "tags": {"region": "east"}} for t in times]
    ms += [{"name": "snap.tagged", "value": 80, "time": t, "tags": {"region": "west"}} for t in times]
    ms += [{"name": "snap.src", "value": 30, "time": t, "tags": {"source": "web-1"}} for t in times]
    ms += [{"name": "snap.src", "value": 70, "time": t, "tags": {"source": "web-2"}} for t in times]
    # Big numbers: the latest value is what counts, not the average.
    ms += [{"name": "snap.big", "value": 10 if t < E - 700 else 42, "time": t} for t in times]
    ms += [{"name": "snap.big2", "value": 98.5, "time": t} for t in times]
    eq(v.post_json("/v1/measurements", {"measurements": ms})[0], 200, "ingest the series")
    st, text, _ = v.post_json("/v1/spaces", {"name": "snaps"})
    space = json.loads(text)["id"]
    chart = new_chart(v, space, {"name": "CPU", "type": "line", "min": 0, "max": 100,
                                 "streams": [{"metric": "snap.cpu", "source": "*", "color": "#ff0000"}]})

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
    red = (255, 0, 0)
    y50 = row_of(50)
    eq([rows[y50][x] for x in (150, 300, 450)], [red] * 3, "value 50 is a red line at row %d" % y50)
    eq([rows[y50 - 20][x] for x in (150, 300, 450)], [WHITE] * 3, "above the line is background")
    eq(rows[y50][560], WHITE, "no line after the last point")
    eq(rows[PLOT_BOTTOM][300], AXIS, "the x axis")
    eq(rows[150][PLOT_LEFT], AXIS, "the y axis")
    reds = sum(1 for row in rows[PLOT_TOP:PLOT_BOTTOM + 1] for p in row[PLOT_LEFT:PLOT_RIGHT + 1] if p == red)
    check(300 < reds < 500, "the red pixels of the plot are one line (%d)" % reds)

    # -- labels: the title is the chart name, the legend names the stream ---------------------------
    ink = lambda p: p != WHITE  # noqa: E731
    title = bbox(rows, ink, 0, 0, 599, PLOT_TOP - 3)
    # "CPU" at 2x: 3 cells of 6 columns less the last blank one, 7 rows; C and U have ink in
    # their outer columns and C in its top and bottom rows.
    eq(title, (TITLE_LEFT, TITLE_TOP, TITLE_LEFT + (3 * 6 - 1) * 2 - 1, TITLE_TOP + 7 * 2 - 1),
       "the title 'CPU' leaves ink exactly where 3 characters at 2x go")
    eq(rows[LEGEND_TOP + 3][PLOT_LEFT + 3], red, "the legend has a swatch of the stream color")
    label = bbox(rows, lambda p: ink(p) and p != red, PLOT_LEFT + 8, LEGEND_TOP - 2, 599, 299)
    # "snap.cpu" at 1x after the swatch: 8 characters, 47 columns at most.
    check(label is not None and label[0] == PLOT_LEFT + 12 and label[2] - label[0] + 1 == 8 * 6 - 1,
          "the legend labels the stream with its metric name, 8 characters at 1x (%r)" % (label,))
    yl = bbox(rows, ink, 0, PLOT_TOP, PLOT_LEFT - 2, PLOT_BOTTOM)
    check(yl is not None and yl[1] == PLOT_TOP and yl[3] == PLOT_BOTTOM, "y range labels next to the axis (%r)" % (yl,))
    other = new_chart(v, space, {"name": "Memory use", "type": "line", "min": 0, "max": 100,
                                 "streams": [{"metric": "snap.cpu", "source": "*", "color": "#ff0000"}]})
    rows2 = snapshot(v, other)
    title2 = bbox(rows2, ink, 0, 0, 599, PLOT_TOP - 3)
    eq((title2[0], title2[2]), (TITLE_LEFT, TITLE_LEFT + (10 * 6 - 1) * 2 - 1), "a longer name draws a wider title")
    check(rows2[:PLOT_TOP] != rows[:PLOT_TOP], "another name, other title pixels")
    eq(rows2[PLOT_TOP:PLOT_BOTTOM + 1], rows[PLOT_TOP:PLOT_BOTTOM + 1], "same streams, same plot")

    # -- stream tags and sources select the series --------------------------------------------------
    blue = (0, 0, 255)
    west = new_chart(v, space, {"name": "West", "type": "line", "min": 0, "max": 100,
                                "streams": [{"metric": "snap.tagged", "tags": [{"name": "region", "values": ["west"]}],
                                             "color": "#0000ff"}]})
    eq(line_rows(snapshot(v, west), blue), [[row_of(80)]] * 3, "tags region=west: only the west series (80) is drawn")
    st, text, _ = v.request("POST", "/v1/spaces/%d/charts" % space,
                            "name=East&type=line&min=0&max=100&streams[0][metric]=snap.tagged&streams[0][color]=%230000ff"
                            "&streams[0][tags][0][name]=region&streams[0][tags][0][values][]=EAST", FORM)
    eq(st, 201, "a chart with stream tags in bracket notation (form) -> 201")
    east = json.loads(text)["id"]
    eq(line_rows(snapshot(v, east), blue), [[row_of(20)]] * 3, "tags region=EAST (any case): only the east series (20)")
    both = new_chart(v, space, {"name": "Both", "type": "line", "min": 0, "max": 100,
                                "streams": [{"metric": "snap.tagged", "color": "#0000ff"}]})
    eq(line_rows(snapshot(v, both), blue), [[row_of(50)]] * 3, "no filter: the two series averaged (50)")
    web2 = new_chart(v, space, {"name": "web-2", "type": "line", "min": 0, "max": 100,
                                "streams": [{"metric": "snap.src", "source": "web-2", "color": "#0000ff"}]})
    eq(line_rows(snapshot(v, web2), blue), [[row_of(70)]] * 3, "stream source web-2: only its series (70)")
    any_src = new_chart(v, space, {"name": "any", "type": "line", "min": 0, "max": 100,
                                   "streams": [{"metric": "snap.src", "source": "*", "color": "#0000ff"}]})
    eq(line_rows(snapshot(v, any_src), blue), [[row_of(50)]] * 3, "stream source *, snapshot source *: averaged (50)")
    eq(line_rows(snapshot(v, any_src, "web-1"), blue), [[row_of(30)]] * 3, "snapshot source web-1: only web-1 (30)")
    eq(line_rows(snapshot(v, any_src, "web-*"), blue), [[row_of(50)]] * 3, "snapshot source web-*: both (50)")
    eq(line_rows(snapshot(v, web2, "web-1"), blue), [[], [], []], "snapshot source web-1 on a web-2 stream: nothing")
    dyn = new_chart(v, space, {"name": "dynamic", "type": "line", "min": 0, "max": 100,
                               "streams": [{"metric": "snap.src", "source": "%", "color": "#0000ff"}]})
    eq(line_rows(snapshot(v, dyn, "web-2"), blue), [[row_of(70)]] * 3, "stream source %: the snapshot's source (web-2)")
    brk = new_chart(v, space, {"name": "breakout", "type": "line", "min": 0, "max": 100,
                               "streams": [{"metric": "snap.src", "source": "*", "group_function": "breakout",
                                            "color": "#0000ff"}]})
    rows_b = snapshot(v, brk)
    eq(line_rows(rows_b, blue), [sorted([row_of(70), row_of(30)])] * 3, "breakout: one line per source")
    swatches = [x for x in range(PLOT_LEFT, 600) if rows_b[LEGEND_TOP + 3][x] == blue]
    check(len(swatches) == 16, "breakout: two legend entries (%d swatch columns)" % len(swatches))

    # -- bignumber: the latest value in large centred digits ----------------------------------------
    big = new_chart(v, space, {"name": "Big", "type": "bignumber", "streams": [{"metric": "snap.big", "color": "#0000ff"}]})
    rows_42 = snapshot(v, big)
    text_42, box = read_number(rows_42, blue)
    eq(text_42, "42", "bignumber shows the latest value 42 in digits")
    if box:
        left, top, right, bottom = box
        check(bottom - top + 1 >= 100, "the digits are large (%d rows)" % (bottom - top + 1))
        check(abs((left + right) / 2 - 299.5) <= 3, "centred horizontally (%r)" % (box,))
        check(abs((top + bottom) / 2 - (PLOT_TOP + PLOT_BOTTOM) / 2) <= 3, "centred vertically (%r)" % (box,))
    eq((rows_42[PLOT_BOTTOM][300], rows_42[150][PLOT_LEFT]), (WHITE, WHITE), "a big number has no axes")
    check(bbox(rows_42, ink, 0, 0, 599, PLOT_TOP - 3)[0] == TITLE_LEFT, "the bignumber chart has its title too")
    big2 = new_chart(v, space, {"name": "Big", "type": "bignumber", "streams": [{"metric": "snap.big2", "color": "#0000ff"}]})
    rows_98 = snapshot(v, big2)
    eq(read_number(rows_98, blue)[0], "98.5", "another value, other digits: 98.5")
    check(rows_98 != rows_42, "the two big numbers differ in pixels")
    # A line chart snapshot taken as bignumber (subject type).
    eq(read_number(snapshot(v, web2, "*", "bignumber"), blue)[0], "70", "subject type bignumber on a line chart")

    # errors
    eq(v.post_json("/v1/snapshots", {"duration": 60})[0], 400, "snapshot without subject -> 400")
    eq(v.post_json("/v1/snapshots", {"subject": {"chart": {"id": 9999}}})[0], 400, "snapshot of an unknown chart -> 400")
    eq(v.post_json("/v1/snapshots", {"subject": {"chart": {"id": chart, "type": "pie"}}})[0], 400, "unknown chart type -> 400")
    eq(v.post_json("/v1/snapshots", {"subject": {"chart": {"id": chart}}, "duration": 5})[0], 400, "duration below 60 -> 400")
    eq(v.get_json("/v1/snapshots/9999")[0], 404, "unknown snapshot -> 404")
    eq(v.request("GET", "/v1/snapshots/9999/image.png")[0], 404, "image of an unknown snapshot -> 404")
    eq(v.request("PUT", loc, "x=1", FORM)[0], 405, "PUT a snapshot -> 405")
    eq(v.request("POST", "/v1/snapshots", "subject=x", "text/plain")[0], 415, "other content type -> 415")
    st, text, _ = v.request("POST", "/v1/snapshots", "subject[chart][id]=%d&subject[chart][source]=*&subject[chart][type]=stacked" % chart, FORM)
    eq(st, 202, "POST /v1/snapshots form-encoded, as in the seed")
finally:
    v.cleanup()
finish()
