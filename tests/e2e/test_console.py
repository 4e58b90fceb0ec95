"""End to end: the web console served by `vigil serve` at /, driven in headless Chromium.

Static files (types, 404, 405, no way out of the directory), sign-in (/console/session), the live
stream (/console/live, Server-Sent Events from the shards' apply), and in the browser: a wrong
token shows an error; the explorer charts posted data (read through the page, and the series'
colour found in a screenshot of the chart) and draws a newly posted sample within 1 s of its
acknowledgement; a space with two charts is created, reloaded and shown; a triggering sample
turns an alert to firing on the open alerts page within 2 s and its history shows the value; a
viewer sees no edit controls. Screenshots of each page go to <build dir>/console-screenshots
(VIGIL_SCREENSHOT_DIR); the page's own JavaScript errors fail the test. Exits 77 (skipped) only
when no browser can be driven here."""
import json
import os
import re
import shutil
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import browser  # noqa: E402
from receiver import Receiver  # noqa: E402
from harness import ADMIN_TOKEN, ADMIN_USER, Vigil, args, basic, check, eq, finish, hdr  # noqa: E402

A = args()
why = browser.unavailable()
if why:
    print("skip - " + why)
    sys.exit(77)

SHOTS = os.environ.get("VIGIL_SCREENSHOT_DIR") or os.path.join(os.path.dirname(os.path.abspath(A.vigil)),
                                                                "console-screenshots")
os.makedirs(SHOTS, exist_ok=True)
BLUE = (0x0b, 0x5c, 0xad)  # the first series' colour (web/src/chart.js PALETTE)

v = Vigil(A.vigil, extra=["--embedded-kafka"]).start()
driver = None


def post(metric, value, tags, t=None):
    m = {"name": metric, "value": value, "tags": tags, "time": int(t if t is not None else time.time())}
    st, text, _ = v.post_json("/v1/measurements", {"measurements": [m]})
    check(st in (200, 202), "POST %s=%s -> %s %s" % (metric, value, st, text if st >= 300 else ""))
    return time.time()


def shot(name):
    path = os.path.join(SHOTS, name + ".png")
    driver.save_screenshot(path)
    check(os.path.getsize(path) > 1000, "screenshot saved: " + path)


def js(script, *a):
    return driver.execute_script(script, *a)


def by_css(sel):
    from selenium.webdriver.common.by import By
    return driver.find_elements(By.CSS_SELECTOR, sel)


def one(sel, timeout=5):
    got = browser.wait_until(lambda: by_css(sel), timeout)
    check(bool(got), "the page shows " + sel)
    return got[0] if got else None


def go(hash_):
    js("location.hash = arguments[0]", hash_)


def sign_in(user, token, keyboard=False):
    driver.get("http://127.0.0.1:%d/#/signin" % v.port)
    email = one("#email")
    if not email:
        return
    email.clear()
    email.send_keys(user)
    tok = by_css("#token")[0]
    tok.clear()
    tok.send_keys(token)
    if keyboard:  # Tab to the button, Enter
        from selenium.webdriver.common.keys import Keys
        tok.send_keys(Keys.TAB)
        check(js("return document.activeElement.id") == "signin-submit", "Tab moves from the token to the button")
        driver.switch_to.active_element.send_keys(Keys.ENTER)
    else:
        by_css("#signin-submit")[0].click()


def http_checks():
    st, body, h = v.request("GET", "/", auth=False)
    eq(st, 200, "GET / -> 200")
    check((hdr(h, "Content-Type") or "").startswith("text/html"), "GET / is text/html")
    check('src="assets/app.js"' in body, "the page loads its bundle from this server")
    check("http://" not in body and "https://" not in body, "the page names no other site")
    st, js_body, h = v.request("GET", "/assets/app.js", auth=False)
    eq(st, 200, "GET /assets/app.js -> 200")
    check((hdr(h, "Content-Type") or "").startswith("text/javascript"), "app.js is text/javascript")
    check("https://cdn" not in js_body and "//unpkg" not in js_body, "the bundle loads nothing from a CDN")
    st, _, h = v.request("GET", "/assets/app.css", auth=False)
    eq((st, (hdr(h, "Content-Type") or "").split(";")[0]), (200, "text/css"), "GET /assets/app.css -> text/css")
    check("default-src 'self'" in (hdr(h, "Content-Security-Policy") or ""), "pages carry a same-origin CSP")
    st, body, _ = v.request("HEAD", "/index.html", auth=False)
    eq((st, body), (200, ""), "HEAD /index.html -> 200 without a body")
    for p in ("/assets/../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc%2fpasswd",
              "/assets/", "/nope.html", "//etc/passwd"):
        st, body, _ = v.request("GET", p, auth=False)
        eq(st, 404, "GET %s -> 404" % p)
        check("root:" not in body, "GET %s reveals no file outside the console" % p)
    st, _, h = v.request("POST", "/", body="x", content_type="text/plain", auth=False)
    eq((st, hdr(h, "Allow")), (405, "GET, HEAD"), "POST / -> 405 with Allow: GET, HEAD")
    st, _, _ = v.request("DELETE", "/assets/app.js", auth=False)
    eq(st, 405, "DELETE /assets/app.js -> 405")
    st, _, _ = v.request("GET", "/health", auth=False)
    eq(st, 200, "/health still served")
    st, _ = v.get_json("/v1/spaces")
    eq(st, 200, "the API stays at /v1")

    st, body, h = v.request("GET", "/console/session", auth=False)
    eq(st, 401, "GET /console/session without credentials -> 401")
    check(hdr(h, "WWW-Authenticate") is None, "no browser sign-in box is asked for")
    st, body, _ = v.request("GET", "/console/session", auth=(ADMIN_USER, "wrong-token"))
    eq(st, 401, "GET /console/session with a wrong token -> 401")
    st, body, _ = v.request("GET", "/console/session", auth=("someone@else.com", ADMIN_TOKEN))
    eq(st, 401, "GET /console/session with another account's email -> 401")
    st, who = v.get_json("/console/session")
    eq((st, who.get("role"), who.get("email")), (200, "admin", ADMIN_USER), "GET /console/session -> the role")
    st, _, _ = v.request("POST", "/console/session", body="", auth=True)
    eq(st, 405, "POST /console/session -> 405")
    st, _, _ = v.request("GET", "/console/live?name=x", auth=False)
    eq(st, 401, "GET /console/live without credentials -> 401")
    st, body, _ = v.request("GET", "/console/live", auth=True)
    eq(st, 400, "GET /console/live without a metric -> 400")
    check("name" in body, "the 400 names the missing parameter")
    st, _, _ = v.request("GET", "/console/live?name=" + "x" * 300, auth=True)
    eq(st, 400, "GET /console/live with an over-long name -> 400")


def sse_check():
    """The stream by hand: the head, `ready`, then a posted sample as a `samples` event."""
    s = socket.create_connection(("127.0.0.1", v.port), timeout=5)
    s.sendall(("GET /console/live?name=console.sse HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n\r\n"
               % basic(ADMIN_USER, ADMIN_TOKEN)).encode())
    buf = b""

    def read_until(marker, timeout):
        nonlocal buf
        deadline = time.time() + timeout
        while marker not in buf and time.time() < deadline:
            s.settimeout(max(0.01, deadline - time.time()))
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            buf += chunk
        return marker in buf

    check(read_until(b"event: ready", 5), "the live stream opens with a ready event")
    head = buf.split(b"\r\n\r\n")[0].decode()
    check(head.startswith("HTTP/1.1 200"), "the live stream answers 200")
    check("content-type: text/event-stream" in head.lower(), "the live stream is text/event-stream")
    post("console.other", 1, {"host": "a"})
    post("console.sse", 7.25, {"host": "a"})
    check(read_until(b'"value":7.25', 1.0), "a posted sample arrives on the stream within 1 s")
    check(b"console.other" not in buf and b'"value":1,' not in buf, "samples of other metrics are not sent")
    # The same from Kafka: produced to the embedded broker, on the stream within 1 s of the broker's ack.
    m = browser.wait_until(lambda: re.search(r"^bootstrap: (\S+)$", v.log(), re.M), 30)
    check(bool(m) and bool(shutil.which("kcat")), "the embedded Kafka broker and kcat are there")
    if m and shutil.which("kcat"):
        import subprocess

        def produce(value):
            msg = json.dumps({"measurements": [{"name": "console.sse", "value": value, "tags": {"host": "k"}}]})
            subprocess.run(["kcat", "-P", "-b", m.group(1), "-t", "measurements", "-p", "0"], input=msg.encode(),
                           check=True, timeout=30)
        produce(8.5)  # the consumer may still be joining: the first message waits for it
        check(read_until(b'"value":8.5', 30), "a sample produced to Kafka arrives on the stream")
        produce(8.75)
        check(read_until(b'"value":8.75', 1.0), "a sample produced to Kafka arrives on the stream within 1 s")
    events = [e for e in buf.split(b"\n\n") if e.startswith(b"event: samples")]
    if events:
        d = json.loads(events[0].split(b"data: ", 1)[1])
        eq((d["name"], d["points"][0]["tags"]), ("console.sse", {"host": "a"}), "the event names the metric and tags")
    s.close()
    # The server still serves after the client went away.
    st, _, _ = v.request("GET", "/health", auth=False)
    eq(st, 200, "the server serves after a live client left")


def explorer_checks():
    now = int(time.time())
    for i, val in enumerate((10.0, 30.0, 20.0)):
        post("console.cpu", val, {"host": "web-1"}, now - 90 + 30 * i)
    post("console.cpu", 5.0, {"host": "web-2"}, now - 60)
    # Search by name: the metric input offers the metrics found.
    go("#/explorer")
    box = one("#metric")
    if box:
        box.send_keys("console.c")
        found = browser.wait_until(lambda: [o.get_attribute("value") for o in by_css("#metric-list option")], 5)
        eq(found, ["console.cpu"], "searching 'console.c' offers console.cpu")
    go("#/explorer?metric=console.cpu&res=1&dur=900&tags=host%3Dweb-1")
    data = browser.wait_until(lambda: js("return window.vigil.charts.explorer && "
                                         "window.vigil.charts.explorer.series.length && window.vigil.charts.explorer"), 5)
    check(bool(data), "the explorer charts console.cpu")
    if data:
        eq([s["label"] for s in data["series"]], ["host=web-1"], "the tag filter from the URL selects one series")
        pts = data["series"][0]["points"] if data["series"] else []
        eq([p[1] for p in pts], [10.0, 30.0, 20.0], "the chart holds the posted values")
        eq([p[0] for p in pts], [now - 90, now - 60, now - 30], "at the posted times")
    sel = by_css("#tag-host")
    check(bool(sel) and sorted(o.get_attribute("value") for o in by_css("#tag-host option")) == ["", "web-1", "web-2"],
          "the host filter offers the existing tag values")
    canvas = one("#explorer-chart canvas")
    if canvas:
        n = browser.count_colour(canvas.screenshot_as_png, BLUE)
        check(n >= 30, "the chart's screenshot shows the series colour (%d pixels)" % n)
    legend = by_css("#explorer-chart .u-legend")
    check(bool(legend) and "host=web-1" in legend[0].text, "the chart has a legend naming the series")
    check(bool(browser.wait_until(lambda: js("return document.getElementById('live-state').dataset.state === 'live'"), 5)),
          "the explorer's live stream is open")
    shot("explorer")
    # Hover shows the values in the legend; dragging across the plot zooms in.
    from selenium.webdriver.common.action_chains import ActionChains
    over = by_css("#explorer-chart .u-over")
    if over:
        w = over[0].size["width"]
        ActionChains(driver).move_to_element_with_offset(over[0], w // 2 - 5, 0).perform()
        hover = browser.wait_until(lambda: by_css("#explorer-chart .u-legend .u-series")[1]
                                   .find_element("css selector", ".u-value").text not in ("", "--") and
                                   by_css("#explorer-chart .u-legend .u-series")[1].find_element("css selector", ".u-value").text, 2)
        check(hover in ("10", "30", "20"), "hovering shows a value in the legend: %r" % hover)
        before = js("var u = window.vigil.explorerChart.plot; return [u.scales.x.min, u.scales.x.max]")
        ActionChains(driver).move_to_element_with_offset(over[0], -w // 4, 0).click_and_hold() \
            .move_by_offset(w // 4, 0).release().perform()
        after = js("var u = window.vigil.explorerChart.plot; return [u.scales.x.min, u.scales.x.max]")
        check(after[0] > before[0] and after[1] < before[1], "dragging zooms into the range: %s -> %s" % (before, after))
        ActionChains(driver).double_click(over[0]).perform()  # back to the whole range
    # Live: a sample drawn within 1 s of its acknowledgement.
    acked = post("console.cpu", 42.5, {"host": "web-1"})
    drawn = browser.wait_until(lambda: js("return window.vigil.seen['42.5']"), 1.0, step=0.01)
    check(bool(drawn), "a posted sample is drawn on the open chart within 1 s")
    if drawn:
        print("     drawn %.0f ms after the acknowledgement" % (drawn - acked * 1000))
    post("console.cpu", 99.0, {"host": "web-2"})  # filtered out by host=web-1
    pts = js("return window.vigil.charts.explorer.series[0].points")
    check(pts and pts[-1][1] == 42.5, "the live point is in the chart's data")
    time.sleep(0.2)
    eq([s["label"] for s in js("return window.vigil.charts.explorer.series")], ["host=web-1"],
       "live samples outside the tag filter are not drawn")
    # The table view of the same query, from the shareable URL.
    by_css("#show-table")[0].click()
    table = one("#data-table")
    if table:
        check("42.5" in table.text and "30" in table.text, "the table view lists the values")
    check("view=table" in driver.current_url and "metric=console.cpu" in driver.current_url,
          "the URL holds the query")
    shot("explorer-table")
    # A bad query is explained in words.
    go("#/explorer?metric=console.cpu&res=1&dur=900&fn=bogus")
    err = browser.wait_until(lambda: by_css("#error")[0].is_displayed() and by_css("#error")[0].text, 5)
    check(bool(err) and "summary_function" in err, "an API error is shown in words: %r" % err)


def spaces_checks():
    st, _, _ = v.post_json("/v1/annotations/console-deploys", {"title": "Deployed v56", "start_time": int(time.time()) - 45})
    eq(st, 201, "post an annotation")
    go("#/spaces")
    name = one("#new-space-name")
    if not name:
        return None
    name.send_keys("Console space")
    by_css("#create-space")[0].click()
    title = one("#space-title")
    check(title is not None and title.text == "Console space", "the new space is shown")
    sid = driver.current_url.rsplit("/", 1)[-1]
    for i, (cname, ctype) in enumerate((("CPU line", "line"), ("CPU now", "bignumber"))):
        form = one("form[aria-label='New chart']")
        if not form:
            return sid
        form.find_element("name", "chart-name").send_keys(cname)
        from selenium.webdriver.support.ui import Select
        Select(form.find_element("css selector", "select")).select_by_value(ctype)
        form.find_element("name", "chart-metric").send_keys("console.cpu")
        form.find_element("css selector", "button[type=submit]").click()
        check(bool(browser.wait_until(lambda: len(by_css("[data-chart]")) == i + 1, 5)), "chart %s added" % cname)
    st, charts = v.get_json("/v1/spaces/%s/charts" % sid)
    eq((st, sorted((c["name"], c["type"]) for c in charts or [])),
       (200, [("CPU line", "line"), ("CPU now", "bignumber")]), "the two charts are stored")
    driver.refresh()
    shown = browser.wait_until(lambda: len(by_css("[data-chart]")) == 2 and
                               js("return Object.keys(window.vigil.charts.space || {}).length") == 2, 5)
    check(bool(shown), "after a reload the space shows its two charts")
    check(bool(by_css("[data-chart] canvas")), "the line chart is drawn")
    marks = js("return window.vigil.annotations") or []
    check(any(m.get("title") == "Deployed v56" for m in marks), "the annotation is drawn on the charts: %r" % marks)
    big = by_css(".bignumber")
    check(bool(big) and big[0].text not in ("", "no data"), "the big number shows the latest value")
    shot("space")
    # Edit: the line chart becomes a stacked one.
    line_id = next((str(c["id"]) for c in charts or [] if c["name"] == "CPU line"), "")
    box = one("[data-chart='%s']" % line_id)
    if box:
        next(b for b in box.find_elements("css selector", "button") if b.text == "Edit").click()
        form = one("form[aria-label='Edit chart']")
        if form:
            from selenium.webdriver.support.ui import Select
            Select(form.find_element("css selector", "select")).select_by_value("stacked")
            form.find_element("css selector", "button[type=submit]").click()
            check(bool(browser.wait_until(lambda: js("return window.vigil.charts.space[arguments[0]].type", line_id) == "stacked"
                                          and by_css("[data-chart='%s'] canvas" % line_id), 5)),
                  "the edited chart is drawn stacked")
            st, c = v.get_json("/v1/spaces/%s/charts/%s" % (sid, line_id))
            eq((st, c and c["type"], c and c["streams"][0]["metric"]), (200, "stacked", "console.cpu"),
               "the edit is stored, streams kept")
    # Delete: a second space goes, after the confirmation.
    go("#/spaces")
    one("#new-space-name").send_keys("Temp space")
    by_css("#create-space")[0].click()
    one("#space-title")
    tmp = driver.current_url.rsplit("/", 1)[-1]
    next(b for b in by_css("button") if b.text == "Delete space").click()
    browser.wait_until(lambda: driver.switch_to.alert, 5).accept()
    check(bool(browser.wait_until(lambda: driver.current_url.endswith("#/spaces") and by_css("#space-list"), 5)),
          "after deleting, the spaces list is shown")
    st, _ = v.get_json("/v1/spaces/" + tmp)
    eq(st, 404, "the deleted space is gone")
    check("Temp space" not in by_css("#space-list")[0].text and "Console space" in by_css("#space-list")[0].text,
          "the list shows the remaining space only")
    return sid


def alerts_checks():
    rc = Receiver()
    st, body, _ = v.post_json("/v1/services", {"title": "console hook", "type": "webhook", "settings": {"url": rc.url("/hook")}})
    eq(st, 201, "create a webhook service")
    svc = int(json.loads(body)["id"]) if st == 201 else 0
    st, body, _ = v.post_json("/v1/alerts", {"name": "console.hot", "services": [svc], "conditions": [
        {"type": "above", "metric_name": "console.temp", "threshold": 50}]})
    eq(st, 201, "create alert console.hot")
    aid = json.loads(body)["id"] if st == 201 else 0
    post("console.temp", 20, {"host": "a"})
    go("#/alerts")
    row = "tr[data-alert='%s']" % aid
    one(row)
    check(bool(browser.wait_until(lambda: by_css(row)[0].get_attribute("data-state") in ("ok", "cleared"), 3)),
          "the alert is listed, not firing")
    check(bool(browser.wait_until(lambda: js("return window.vigil.alertStreamsLive") >= 1, 5)),
          "the alerts page follows the samples of the alert's metric")
    acked = post("console.temp", 75.5, {"host": "a"})
    fired = browser.wait_until(lambda: by_css(row)[0].get_attribute("data-state") == "firing" and time.time(), 2.0)
    check(bool(fired), "a triggering sample turns the alert to firing on the open page within 2 s")
    if fired:
        print("     firing shown %.0f ms after the acknowledgement" % ((fired - acked) * 1000))
        check("host=a" in by_css(row)[0].text, "the firing stream is listed")
    shot("alerts")
    link = by_css(row + " a")
    if link:
        link[0].click()
        hist = one("#history-table tr[data-event='trigger']")
        if hist:
            check("75.5" in hist.text and "host=a" in hist.text, "the history shows the trigger, stream and value")
        check(len(rc.wait_for(1, "/hook", timeout=10)) == 1, "the webhook received the trigger")
        # The delivery is recorded once the receiver answered: shown when the history is opened again.
        note = browser.wait_until(lambda: (driver.refresh(), by_css("#history-table tr[data-event='notify']"))[1], 10, step=0.3)
        check(bool(note) and "webhook" in note[0].text and "HTTP 200" in note[0].text and "1 attempt" in note[0].text,
              "the history shows the notification's delivery: %r" % (note[0].text if note else None))
        shot("alert-history")
    rc.close()


def viewer_checks(sid):
    st, body, _ = v.post_json("/v1/api_tokens", {"name": "console viewer", "role": "viewer"})
    eq(st, 201, "create a viewer token")
    tok = json.loads(body)["token"]
    js("sessionStorage.clear()")
    sign_in(ADMIN_USER, tok)
    check(bool(browser.wait_until(lambda: "viewer" in by_css("#who")[0].text, 5)), "signed in as a viewer")
    go("#/spaces")
    one("#space-list")
    time.sleep(0.2)
    eq(len(by_css("#new-space")) + len(by_css(".edit-control")), 0, "a viewer sees no edit controls on spaces")
    if sid:
        go("#/spaces/" + sid)
        one("[data-chart]")
        eq(len(by_css(".edit-control")) + len(by_css("form[aria-label='New chart']")), 0,
           "a viewer sees no edit controls in a space")
        shot("viewer-space")


def narrow_checks():
    browser.viewport(driver, 420, 800)
    go("#/explorer?metric=console.cpu&res=60&dur=3600")
    one("#explorer-chart canvas")
    time.sleep(0.3)
    w = js("return [document.documentElement.scrollWidth, window.innerWidth]")
    check(w[0] <= w[1] + 1, "no horizontal scrolling on a narrow window (%s)" % w)
    shot("explorer-narrow")
    browser.viewport(driver, 1280, 800)


try:
    http_checks()
    sse_check()
    driver = browser.chrome()
    driver.set_script_timeout(5)
    # A wrong token is refused in words.
    sign_in(ADMIN_USER, "not-the-token")
    err = browser.wait_until(lambda: by_css("#error")[0].is_displayed() and by_css("#error")[0].text, 5)
    check(bool(err) and "not valid" in err, "a wrong token shows an error message: %r" % err)
    check(js("return sessionStorage.getItem('vigil.session')") is None, "nothing is kept after a refused sign-in")
    shot("signin-error")
    sign_in(ADMIN_USER, ADMIN_TOKEN, keyboard=True)
    check(bool(browser.wait_until(lambda: "#/explorer" in driver.current_url, 5)), "signing in opens the explorer")
    check(js("return document.cookie") == "", "no cookie is set")
    check(ADMIN_TOKEN not in js("return document.cookie + localStorage.length"), "the token is not kept in a cookie or localStorage")
    explorer_checks()
    sid = spaces_checks()
    alerts_checks()
    narrow_checks()
    viewer_checks(sid)
    errs = browser.page_errors(driver) + (js("return window.vigil.errors") or [])
    eq(errs, [], "the page raised no JavaScript error")
    # A stream still open when the server stops does not hold the shutdown up.
    held = socket.create_connection(("127.0.0.1", v.port), timeout=5)
    held.sendall(("GET /console/live?name=console.cpu HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\n\r\n"
                  % basic(ADMIN_USER, ADMIN_TOKEN)).encode())
    got = b""
    deadline = time.time() + 5
    while b"event: ready" not in got and time.time() < deadline:
        got += held.recv(4096)
    check(b"event: ready" in got, "a last stream is open")
    driver.quit()
    driver = None
    eq(v.stop(timeout=30), 0, "the server stops cleanly with a live stream open")
    held.close()
finally:
    if driver:
        driver.quit()
    if v.proc.poll() is None:
        v.stop()
    v.cleanup()
finish()
