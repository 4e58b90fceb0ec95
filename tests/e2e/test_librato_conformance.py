"""End to end, across all Librato routes, the rules that hold for every one of them:
- every list route paginates alike: `offset`, `length` (1..100), `orderby`, `sort` and the
  `query` block {found, length, offset, total}; bad values are 400 naming the parameter;
- every write route takes JSON and form-encoded bodies with bracket notation, and refuses other
  content types with 415;
- every /v1 answer, whatever its status (200, 201, 202, 204, 400, 401, 403, 404, 405, 413, 415,
  422, 429), carries the X-Librato-RateLimit-* headers;
- names are case-insensitive where Librato says so (metrics, sources) and in name searches."""
import json
import os
import socket
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from harness import ADMIN_USER, Vigil, args, basic, check, eq, finish, ADMIN_TOKEN  # noqa: E402

A = args()
FORM = "application/x-www-form-urlencoded"
T0 = 1700000040
RATE = ("x-librato-ratelimit-limit", "x-librato-ratelimit-remaining", "x-librato-ratelimit-reset")
seen_status = {}  # status -> a request that produced it (with rate headers checked)


def rate_ok(headers):
    h = {k.lower(): val for k, val in headers.items()}
    return all(k in h and h[k].isdigit() for k in RATE)


def call(v, method, path, body=None, ctype=None, auth=True, what=None):
    """A request whose answer must carry the rate-limit headers; returns (status, parsed body)."""
    if isinstance(body, dict):
        body, ctype = json.dumps(body), ctype or "application/json"
    st, text, h = v.request(method, path, body, ctype, auth=auth)
    label = what or "%s %s" % (method, path)
    check(rate_ok(h), "rate-limit headers on %s -> %d" % (label, st))
    seen_status.setdefault(st, label)
    try:
        return st, json.loads(text) if text else None
    except ValueError:
        return st, text


def form(pairs):
    return urllib.parse.urlencode(pairs)


def param_names(body):
    return sorted((body or {}).get("errors", {}).get("params", {}).keys()) if isinstance(body, dict) else []


v = Vigil(A.vigil, extra=["--set", "api.job_threshold=2"])
try:
    v.start()

    # -- data for the lists ------------------------------------------------------------------------
    ms = [{"name": n, "value": i, "time": T0, "tags": {"source": s}}
          for i, (n, s) in enumerate([("Alpha", "web-1"), ("beta", "WEB-2"), ("gamma", "web-3"), ("delta", "web-1"),
                                      ("tmp.one", "web-1"), ("tmp.two", "web-1")])]
    eq(call(v, "POST", "/v1/measurements", {"measurements": ms})[0], 200, "ingest")
    for i in range(3):
        eq(call(v, "POST", "/v1/api_tokens", form([("name", "tok-%d" % i), ("role", "viewer")]), FORM)[0], 201,
           "token %d" % i)
        eq(call(v, "POST", "/v1/annotations/stream-%d" % i, form([("title", "t%d" % i)]), FORM)[0], 201, "stream %d" % i)
        eq(call(v, "POST", "/v1/spaces", form([("name", "space-%d" % i)]), FORM)[0], 201, "space %d" % i)
        eq(call(v, "POST", "/v1/services", form([("title", "svc-%d" % i), ("type", "webhook"),
                                                 ("settings[url]", "http://127.0.0.1:9/h")]), FORM)[0], 201,
           "service %d" % i)
        eq(call(v, "POST", "/v1/alerts", {"name": "alert-%d" % i, "conditions": [
            {"type": "above", "threshold": 1000 + i, "metric_name": "alpha"}]})[0], 201, "alert %d" % i)

    # -- every list route paginates alike ------------------------------------------------------------
    LISTS = [("/v1/metrics", "metrics", ["name"]), ("/v1/api_tokens", "api_tokens", ["id", "name"]),
             ("/v1/sources", "sources", ["name"]), ("/v1/annotations", "annotations", ["name"]),
             ("/v1/spaces", "spaces", ["name"]), ("/v1/alerts", "alerts", ["updated_at"]),
             ("/v1/services", "services", ["title", "updated_at"])]
    for path, key, orderbys in LISTS:
        def page(**params):
            return call(v, "GET", path + ("?" + urllib.parse.urlencode(params) if params else ""))

        st, full = page()
        items = full.get(key, []) if isinstance(full, dict) else []
        n = len(items)
        eq((st, sorted(full.get("query", {}))), (200, ["found", "length", "offset", "total"]),
           "%s: 200 with the query block" % path)
        check(n >= 3, "%s lists the items (%d)" % (path, n))
        eq(full.get("query"), {"found": n, "length": n, "offset": 0, "total": n}, "%s: query block of the full list" % path)
        st, p = page(offset=1, length=1)
        eq((st, p.get(key), p.get("query")), (200, items[1:2], {"found": n, "length": 1, "offset": 1, "total": n}),
           "%s?offset=1&length=1: the second item" % path)
        st, p = page(offset=n + 5)
        eq((st, p.get(key), p["query"]["found"], p["query"]["length"]), (200, [], n, 0), "%s: offset past the end" % path)
        st, p = page(sort="desc")
        eq((st, p.get(key)), (200, items[::-1]), "%s?sort=desc reverses" % path)
        st, p = page(sort="asc", orderby=orderbys[0], length=100)
        eq((st, p.get(key)), (200, items), "%s: default orderby %s, asc, length 100" % (path, orderbys[0]))
        for o in orderbys[1:]:
            eq(page(orderby=o)[0], 200, "%s?orderby=%s" % (path, o))
        for params, name in (({"length": 101}, "length"), ({"length": 0}, "length"), ({"length": "x"}, "length"),
                             ({"offset": -1}, "offset"), ({"sort": "up"}, "sort"), ({"orderby": "colour"}, "orderby")):
            st, err = page(**params)
            eq((st, param_names(err)), (400, [name]), "%s?%s -> 400 naming %s" % (path, urllib.parse.urlencode(params), name))

    # -- names: case-insensitive where the seed says so, and in searches ------------------------------
    st, r = call(v, "GET", "/v1/metrics/ALPHA")
    eq((st, r.get("name") if isinstance(r, dict) else None), (200, "Alpha"), "metric names are case-insensitive (GET)")
    eq(call(v, "GET", "/v1/measurements/aLpHa?start_time=%d&resolution=60" % (T0 - 60))[0], 200,
       "GET /v1/measurements/:name in another case")
    eq(call(v, "POST", "/v1/measurements", {"measurements": [{"name": "ALPHA", "value": 9, "time": T0 + 60}]})[0], 200,
       "submitting in another case")
    st, r = call(v, "GET", "/v1/metrics?name=alp")
    eq([m["name"] for m in r["metrics"]], ["Alpha"], "one metric whatever the case of its submissions; search any case")
    st, r = call(v, "GET", "/v1/sources/Web-2")
    eq((st, r.get("name") if isinstance(r, dict) else None), (200, "web-2"), "source names are case-insensitive")
    st, r = call(v, "GET", "/v1/sources?name=WEB")
    eq(r["query"]["found"], 3, "source search is case-insensitive")
    for path, key, term in (("/v1/api_tokens", "api_tokens", "TOK"), ("/v1/annotations", "annotations", "STREAM"),
                            ("/v1/spaces", "spaces", "SPACE"), ("/v1/alerts", "alerts", "ALERT-1")):
        st, r = call(v, "GET", path + "?name=" + term)
        eq((st, r["query"]["found"]), (200, 1 if term == "ALERT-1" else 3), "%s?name=%s: search is case-insensitive" % (path, term))
    eq(call(v, "GET", "/v1/annotations/STREAM-0")[0], 200, "annotation stream names are case-insensitive")
    eq(call(v, "POST", "/v1/alerts", {"name": "ALERT-0", "conditions": [
        {"type": "above", "threshold": 1, "metric_name": "alpha"}]})[0], 422,
       "alert names are unique in any case -> 422")

    # -- every write route: JSON, form with bracket notation, 415 otherwise ---------------------------
    st, r = call(v, "GET", "/v1/api_tokens?name=tok-0")
    token_id = r["api_tokens"][0]["href"].rsplit("/", 1)[1]
    st, r = call(v, "POST", "/v1/annotations/stream-0", {"title": "with links", "links": [{"rel": "a", "href": "http://x/a"}]})
    event = r["id"]
    st, r = call(v, "GET", "/v1/spaces?name=space-0")
    space = r["spaces"][0]["id"]
    st, r = call(v, "GET", "/v1/services?title=svc-0")
    service = r["services"][0]["id"]
    st, r = call(v, "GET", "/v1/alerts?name=alert-0")
    alert = r["alerts"][0]["id"]
    st, r = call(v, "POST", "/v1/spaces/%d/charts" % space, {"name": "c", "streams": [{"metric": "alpha"}]})
    chart = r["id"]

    def seq(prefix):
        seq.n += 1
        return "%s%d" % (prefix, seq.n)
    seq.n = 0

    # (method, path, form pairs, JSON body, expected status); bodies are built per call (fresh names).
    WRITES = [
        ("POST", "/v1/api_tokens", lambda: [("name", seq("t")), ("role", "viewer")],
         lambda: {"name": seq("t"), "role": "viewer"}, 201),
        ("PUT", "/v1/api_tokens/" + token_id, lambda: [("name", seq("t")), ("active", "true")],
         lambda: {"name": seq("t"), "active": True}, 200),
        ("PUT", "/v1/metrics/m.new", lambda: [("type", "gauge"), ("attributes[display_min]", "0")],
         lambda: {"type": "gauge", "attributes": {"display_min": 0}}, None),
        ("PUT", "/v1/metrics", lambda: [("names[]", "alpha"), ("names[]", "BETA"), ("display_name", seq("d"))],
         lambda: {"names": ["alpha", "beta"], "display_name": seq("d")}, 204),
        ("DELETE", "/v1/metrics", lambda: [("names[]", "tmp.one")], lambda: {"names": ["tmp.two"]}, 204),
        ("POST", "/v1/metrics", lambda: [("gauges[0][name]", "gamma"), ("gauges[0][value]", "1"), ("source", "web-9")],
         lambda: {"gauges": [{"name": "gamma", "value": 2}], "source": "web-9"}, 200),
        ("PUT", "/v1/sources/web-1", lambda: [("display_name", seq("Web "))], lambda: {"display_name": seq("Web ")}, 204),
        ("POST", "/v1/annotations/stream-1", lambda: [("title", seq("e")), ("links[0][rel]", "r"), ("links[0][href]", "h")],
         lambda: {"title": seq("e"), "links": [{"rel": "r", "href": "h"}]}, 201),
        ("PUT", "/v1/annotations/stream-1", lambda: [("display_name", seq("S"))], lambda: {"display_name": seq("S")}, 204),
        ("PUT", "/v1/annotations/stream-0/%d" % event, lambda: [("title", seq("e")), ("links[0][rel]", "b"),
                                                              ("links[0][href]", "h")],
         lambda: {"title": seq("e")}, 204),
        ("POST", "/v1/annotations/stream-0/%d/links" % event, lambda: [("rel", seq("rel")), ("href", "h")],
         lambda: {"rel": seq("rel"), "href": "h"}, 201),
        ("POST", "/v1/spaces", lambda: [("name", seq("sp"))], lambda: {"name": seq("sp")}, 201),
        ("PUT", "/v1/spaces/%d" % space, lambda: [("name", seq("sp"))], lambda: {"name": seq("sp")}, 204),
        ("POST", "/v1/spaces/%d/charts" % space,
         lambda: [("name", seq("c")), ("streams[0][metric]", "alpha"), ("streams[0][tags][0][name]", "source"),
                  ("streams[0][tags][0][values][]", "web-1")],
         lambda: {"name": seq("c"), "streams": [{"metric": "alpha", "tags": [{"name": "source", "values": ["web-1"]}]}]},
         201),
        ("PUT", "/v1/spaces/%d/charts/%d" % (space, chart), lambda: [("name", seq("c")), ("streams[0][metric]", "beta")],
         lambda: {"name": seq("c"), "streams": [{"metric": "beta"}]}, 200),
        ("POST", "/v1/snapshots", lambda: [("subject[chart][id]", str(chart)), ("subject[chart][source]", "*")],
         lambda: {"subject": {"chart": {"id": chart, "source": "*"}}}, 202),
        ("POST", "/v1/services", lambda: [("title", seq("s")), ("type", "webhook"), ("settings[url]", "http://127.0.0.1:9/h")],
         lambda: {"title": seq("s"), "type": "webhook", "settings": {"url": "http://127.0.0.1:9/h"}}, 201),
        ("PUT", "/v1/services/%s" % service, lambda: [("title", seq("s"))], lambda: {"title": seq("s")}, 204),
        ("POST", "/v1/alerts", lambda: [("name", seq("al")), ("conditions[0][type]", "above"),
                                        ("conditions[0][metric_name]", "alpha"), ("conditions[0][threshold]", "5000")],
         lambda: {"name": seq("al"), "conditions": [{"type": "above", "metric_name": "alpha", "threshold": 5000}]}, 201),
        ("PUT", "/v1/alerts/%d" % alert,  # an update carries the conditions (docs/API.md, Alerts)
         lambda: [("description", seq("d")), ("conditions[0][type]", "above"), ("conditions[0][metric_name]", "alpha"),
                  ("conditions[0][threshold]", "7000")],
         lambda: {"description": seq("d"), "conditions": [{"type": "above", "metric_name": "alpha", "threshold": 7000}]},
         204),
        ("POST", "/v1/alerts/%d/services" % alert, lambda: [("service", service)], lambda: {"service": int(service)}, None),
    ]
    for method, path, form_body, json_body, want in WRITES:
        st, r = call(v, method, path, form(form_body()), FORM, what="%s %s (form)" % (method, path))
        check(st == want if want else st in (200, 201, 204), "%s %s form-encoded -> %d (%s)" % (method, path, st, str(r)[:160]))
        st, r = call(v, method, path, json_body(), what="%s %s (JSON)" % (method, path))
        check(st == want if want else st in (200, 201, 204), "%s %s JSON -> %d (%s)" % (method, path, st, str(r)[:160]))
        st, r = call(v, method, path, "x=1", "text/plain", what="%s %s (text/plain)" % (method, path))
        eq(st, 415, "%s %s with text/plain -> 415" % (method, path))
        check(isinstance(r, dict) and "request" in r.get("errors", {}), "415 has a Librato request error")
    # What the bracket notation carried arrived.
    st, r = call(v, "GET", "/v1/metrics/m.new")
    eq(r["attributes"].get("display_min"), 0, "attributes[display_min]=0 (form) is the number 0")
    st, r = call(v, "GET", "/v1/spaces/%d/charts" % space)
    tagged = [c for c in r if c["streams"][0].get("tags")]
    eq(tagged[0]["streams"][0]["tags"] if tagged else None, [{"name": "source", "values": ["web-1"]}],
       "streams[0][tags][0][values][] (form) is a list")
    eq(call(v, "POST", "/v1/measurements", form([("name", "x"), ("value", "1")]), FORM)[0], 415,
       "POST /v1/measurements is JSON only -> 415 for a form")

    # -- statuses and their rate-limit headers -----------------------------------------------------
    call(v, "GET", "/v1/metrics", auth=None, what="no credentials")
    call(v, "GET", "/v1/nothing-here")
    call(v, "PATCH", "/v1/spaces")
    st, r = call(v, "POST", "/v1/api_tokens", {"name": "viewer-cred", "role": "viewer"})
    call(v, "PUT", "/v1/metrics/alpha", {"display_name": "x"}, auth=(ADMIN_USER, r["token"]), what="viewer writes")
    eq(call(v, "PUT", "/v1/metrics", {"names": ["*"], "display_name": "all"}, what="batch over the job threshold")[0],
       202, "a batch over api.job_threshold -> 202")
    # A body over 64 MiB: the head is read, the request counted and refused, the connection closed.
    s = socket.create_connection(("127.0.0.1", v.port), timeout=30)
    s.sendall(("POST /v1/measurements HTTP/1.1\r\nHost: x\r\nAuthorization: %s\r\nContent-Type: application/json\r\n"
               "Content-Length: %d\r\n\r\n" % (basic(ADMIN_USER, ADMIN_TOKEN), 65 << 20)).encode())
    raw = b""
    while b"\r\n\r\n" not in raw:
        chunk = s.recv(65536)
        if not chunk:
            break
        raw += chunk
    s.close()
    head = raw.split(b"\r\n\r\n")[0].decode(errors="replace").lower()
    check(head.startswith("http/1.1 413"), "a body over 64 MiB -> 413 (%s)" % head.splitlines()[0] if head else "")
    check(all(k + ":" in head for k in RATE), "the 413 carries the rate-limit headers")
    if head.startswith("http/1.1 413"):
        seen_status.setdefault(413, "body over 64 MiB")
    eq(v.stop(), 0, "stops cleanly")
    v.cleanup()

    # 429 with a limit of 4 per minute, on reads and writes alike.
    v = Vigil(A.vigil, extra=["--set", "auth.rate_limit=4"])
    v.start()
    got = [call(v, "GET", "/v1/spaces", what="request %d under a limit of 4" % i)[0] for i in range(4)]
    eq(got, [200] * 4, "4 requests within the limit")
    for method, path, body in (("GET", "/v1/metrics", None), ("POST", "/v1/spaces", {"name": "late"}),
                               ("DELETE", "/v1/spaces/1", None)):
        st, r = call(v, method, path, body, what="%s %s over the limit" % (method, path))
        eq(st, 429, "%s %s over the limit -> 429" % (method, path))
        check(isinstance(r, dict) and "request" in r.get("errors", {}), "429 has a Librato request error")
    eq(call(v, "GET", "/v1/spaces")[0], 429, "still limited")
    eq(sorted(seen_status), [200, 201, 202, 204, 400, 401, 403, 404, 405, 413, 415, 422, 429],
       "every status was seen, each with the rate-limit headers")
finally:
    v.cleanup()
finish()
