"""Headless Chromium through WebDriver (Debian's chromium, chromium-driver, python3-selenium) for
the console's tests and its latency benchmark, and a small PNG reader for screenshot checks."""
import os
import shutil
import struct
import sys
import time
import zlib

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if os.path.exists("/usr/bin/chromedriver") else None)


def import_selenium():
    """selenium from the interpreter's path, or Debian's python3-selenium when the interpreter is
    not the system one."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        for d in ("/usr/lib/python3/dist-packages",):
            if os.path.isdir(os.path.join(d, "selenium")) and d not in sys.path:
                sys.path.append(d)
    try:
        from selenium import webdriver  # noqa: F401
        return True
    except ImportError:
        return False


def unavailable():
    """Why no browser can be driven here, or None."""
    if not CHROMIUM:
        return "chromium is not installed (scripts/deps installs it)"
    if not CHROMEDRIVER:
        return "chromedriver is not installed (scripts/deps installs chromium-driver)"
    if not import_selenium():
        return "selenium is not installed (scripts/deps installs python3-selenium)"
    return None


def chrome(width=1280, height=800):
    import_selenium()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
              "--window-size=%d,%d" % (width, height), "--force-device-scale-factor=1",
              "--disable-extensions", "--no-first-run", "--lang=en-US"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    viewport(d, width, height)
    return d


def viewport(d, width, height):
    """Sizes the window so that the page itself gets width x height pixels."""
    d.set_window_size(width, height)
    iw, ih = d.execute_script("return [window.innerWidth, window.innerHeight]")
    if (iw, ih) != (width, height):
        d.set_window_size(width + (width - iw), height + (height - ih))


def wait_until(fn, timeout, step=0.02):
    """fn()'s first truthy value within `timeout` seconds, else None."""
    deadline = time.time() + timeout
    while True:
        try:
            v = fn()
        except Exception:  # the page is between two views
            v = None
        if v:
            return v
        if time.time() >= deadline:
            return None
        time.sleep(step)


def page_errors(driver):
    """The page's own JavaScript errors from the browser log (network answers such as a 401 the
    page handles are not errors of the page)."""
    out = []
    for e in driver.get_log("browser"):
        if e.get("level") != "SEVERE":
            continue
        if e.get("source") == "network":
            continue
        out.append(e.get("message", ""))
    return out


def png_pixels(data):
    """(width, height, rows of (r, g, b)) of an 8-bit RGB or RGBA PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, w, h, ctype = 8, b"", 0, 0, 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", chunk[:10])
            assert depth == 8 and ctype in (2, 6), "unsupported PNG"
        elif kind == b"IDAT":
            idat += chunk
        elif kind == b"IEND":
            break
    bpp = 4 if ctype == 6 else 3
    raw = zlib.decompress(idat)
    stride = w * bpp
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append([(line[x * bpp], line[x * bpp + 1], line[x * bpp + 2]) for x in range(w)])
        prev = line
    return w, h, rows


def count_colour(png, rgb, tol=40):
    """How many pixels of the PNG are within `tol` (per channel) of `rgb`."""
    _, _, rows = png_pixels(png)
    n = 0
    for row in rows:
        for p in row:
            if abs(p[0] - rgb[0]) <= tol and abs(p[1] - rgb[1]) <= tol and abs(p[2] - rgb[2]) <= tol:
                n += 1
    return n
