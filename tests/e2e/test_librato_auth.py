"""End to end: HTTP Basic auth on /v1, the API token routes, the roles matrix, inactive and
deleted tokens, rate-limit headers and 429, the generated first admin token, auth switched off."""
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import ADMIN_TOKEN, ADMIN_USER, Vigil, args, check, eq, finish, hdr  # noqa: E402

A = args()
FORM = "application/x-www-form-urlencoded"
RATE = ("X-Librato-RateLimit-Limit", "X-Librato-RateLimit-Remaining", "X-Librato-RateLimit-Reset")


def has_rate_headers(headers):
    return all(hdr(headers, h) is not None for h in RATE)


def body(text):
    return json.loads(text) if text else None


v = Vigil(A.vigil)
try:
    v.start()
    # -- open routes and 401s ------------------------------------------------------------------
    st, _, _ = v.request("GET", "/health", auth=None)
    eq(st, 200, "/health needs no credentials")
    st, _, _ = v.request("GET", "/metrics", auth=None)
    eq(st, 200, "/metrics needs no credentials")
    st, text, h = v.request("GET", "/v1/metrics", auth=None)
    eq(st, 401, "no credentials -> 401")
    eq(hdr(h, "WWW-Authenticate"), 'Basic realm="vigil"', "401 carries WWW-Authenticate")
    check("request" in body(text)["errors"], "401 body is a Librato request error: " + text)
    check(has_rate_headers(h), "401 carries the rate-limit headers")
    st, _, _ = v.request("GET", "/v1/metrics", auth=(ADMIN_USER, "wrong-token"))
    eq(st, 401, "wrong token -> 401")
    st, _, _ = v.request("GET", "/v1/metrics", auth=("other@example.com", ADMIN_TOKEN))
    eq(st, 401, "wrong user -> 401")
    st, _, _ = v.request("GET", "/v1/metrics", auth=None, headers={"Authorization": "Basic !!!"})
    eq(st, 401, "malformed Basic header -> 401")
    st, _, _ = v.request("GET", "/v1/metrics", auth=None, headers={"Authorization": "Bearer " + ADMIN_TOKEN})
    eq(st, 401, "other scheme -> 401")
    st, _, _ = v.request("GET", "/v1/no-such-route", auth=None)
    eq(st, 401, "unknown /v1 route without credentials -> 401 (no route discovery)")
    st, _, h = v.request("GET", "/v1/metrics", auth=(ADMIN_USER.upper(), ADMIN_TOKEN))
    eq(st, 200, "the account email is case-insensitive")
    check(has_rate_headers(h), "200 carries the rate-limit headers")
    eq(hdr(h, "X-Librato-RateLimit-Limit"), "1000000", "default limit is 1000000 per minute")

    # -- token routes ----------------------------------------------------------------------------
    st, text, h = v.post_form("/v1/api_tokens", [("name", "Viewer token"), ("role", "viewer")])
    eq(st, 201, "POST /v1/api_tokens (form) -> 201")
    viewer = body(text)
    loc = hdr(h, "Location")
    check(loc is not None and re.fullmatch(r"/v1/api_tokens/\d+", loc or ""), "Location is /v1/api_tokens/:id: %s" % loc)
    check(viewer["href"].endswith(loc or "?"), "href ends with the Location")
    check(re.fullmatch(r"[0-9a-f]{64}", viewer["token"]), "the new token is 64 hex characters")
    eq((viewer["name"], viewer["role"], viewer["active"]), ("Viewer token", "viewer", True), "created token properties")
    check(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", viewer["created_at"]), "created_at in Librato format")
    viewer_id = loc.rsplit("/", 1)[1]
    st, text, _ = v.post_json("/v1/api_tokens", {"name": "Token for collectors", "role": "recorder"})
    eq(st, 201, "POST /v1/api_tokens (JSON) -> 201")
    recorder = body(text)
    recorder_id = recorder["href"].rsplit("/", 1)[1]
    st, text, _ = v.post_json("/v1/api_tokens", {"name": "second admin", "role": "admin"})
    eq(st, 201, "create an admin token")
    admin2 = body(text)
    st, text, _ = v.post_json("/v1/api_tokens", {"role": "viewer"})
    eq(st, 400, "token without name -> 400")
    check("name" in body(text)["errors"]["params"], "error names the name param")
    st, text, _ = v.post_json("/v1/api_tokens", {"name": "x", "role": "root"})
    eq(st, 400, "unknown role -> 400")
    check("role" in body(text)["errors"]["params"], "error names the role param")
    st, _, _ = v.request("POST", "/v1/api_tokens", "name=x&role=viewer", "text/plain")
    eq(st, 415, "token body of another content type -> 415")
    st, _, _ = v.request("POST", "/v1/api_tokens", "{not json", "application/json")
    eq(st, 400, "token body of broken JSON -> 400")

    st, r = v.get_json("/v1/api_tokens")
    eq(st, 200, "GET /v1/api_tokens")
    eq(r["query"], {"found": 4, "length": 4, "offset": 0, "total": 4}, "list query block")
    names = [t["name"] for t in r["api_tokens"]]
    eq(names, ["admin (configured)", "Viewer token", "Token for collectors", "second admin"], "tokens by id")
    check(all(t["token"] not in (ADMIN_TOKEN, viewer["token"], recorder["token"]) for t in r["api_tokens"]),
          "listed tokens do not reveal the token text")
    eq(r["api_tokens"][1]["token"][:8], viewer["token"][:8], "listed tokens show their first 8 characters")
    st, r = v.get_json("/v1/api_tokens", {"name": "*token*"})
    eq(sorted(t["name"] for t in r["api_tokens"]), ["Token for collectors", "Viewer token"], "?name=*token* search")
    eq(r["query"]["found"], 2, "search found count")
    eq(r["query"]["total"], 4, "search total count")
    st, r = v.get_json("/v1/api_tokens/collect")
    eq(st, 200, "GET /v1/api_tokens/:name search")
    eq([t["name"] for t in r["api_tokens"]], ["Token for collectors"], ":name without wildcard matches a substring")
    st, r = v.get_json("/v1/api_tokens/" + recorder_id)
    eq((st, r["name"], r["role"]), (200, "Token for collectors", "recorder"), "GET /v1/api_tokens/:id")
    st, r = v.get_json("/v1/api_tokens/9999")
    eq(st, 404, "unknown token id -> 404")
    st, r = v.get_json("/v1/api_tokens", {"offset": 1, "length": 2, "orderby": "name", "sort": "desc"})
    eq([t["name"] for t in r["api_tokens"]], ["Token for collectors", "second admin"],
       "orderby name (case-insensitive) desc, offset, length")
    eq(r["query"], {"found": 4, "length": 2, "offset": 1, "total": 4}, "paged query block")
    st, r = v.get_json("/v1/api_tokens", {"length": 101})
    eq(st, 400, "length > 100 -> 400")
    st, r = v.get_json("/v1/api_tokens", {"orderby": "color"})
    eq(st, 400, "unknown orderby -> 400")
    st, _, h = v.request("PATCH", "/v1/api_tokens/" + viewer_id)
    eq(st, 405, "PATCH a token -> 405")

    # -- roles matrix ----------------------------------------------------------------------------
    creds = {"admin": (ADMIN_USER, admin2["token"]), "viewer": (ADMIN_USER, viewer["token"]),
             "recorder": (ADMIN_USER, recorder["token"])}
    sample = json.dumps({"measurements": [{"name": "roles_probe", "value": 1, "time": 1700000000}]})
    routes = {
        "read": lambda a: v.request("GET", "/v1/metrics", auth=a),
        "read one": lambda a: v.request("GET", "/v1/measurements/roles_probe?start_time=1699990000&resolution=60", auth=a),
        "submit": lambda a: v.request("POST", "/v1/measurements", sample, "application/json", auth=a),
        "submit legacy": lambda a: v.request("POST", "/v1/metrics", "gauges[0][name]=roles_probe&gauges[0][value]=2",
                                             "application/x-www-form-urlencoded", auth=a),
        "write": lambda a: v.request("PUT", "/v1/metrics/roles_probe", '{"display_name":"Probe"}', "application/json",
                                     auth=a),
        "read spaces": lambda a: v.request("GET", "/v1/spaces", auth=a),
        "read job": lambda a: v.request("GET", "/v1/jobs/1", auth=a),
        "write annotation": lambda a: v.request("POST", "/v1/annotations/roles", "title=x", FORM, auth=a),
        "write space": lambda a: v.request("POST", "/v1/spaces", "name=s%d" % len(a[1]), FORM, auth=a),
        "delete metric": lambda a: v.request("DELETE", "/v1/metrics/no_such_metric", auth=a),
        "tokens read": lambda a: v.request("GET", "/v1/api_tokens", auth=a),
        "tokens write": lambda a: v.request("POST", "/v1/api_tokens", "name=t&role=viewer",
                                            "application/x-www-form-urlencoded", auth=a),
    }
    allowed = {"admin": set(routes), "viewer": {"read", "read one", "read spaces", "read job"},
               "recorder": {"submit", "submit legacy"}}
    v.post_json("/v1/measurements", json.loads(sample))  # so that the metric exists for reads
    for role, cred in creds.items():
        for cls, call in routes.items():
            st, text, h = call(cred)
            if cls in allowed[role]:
                check(st not in (401, 403, 405) and st < 500, "%s may %s (got %d %s)" % (role, cls, st, text[:100]))
            else:
                eq(st, 403, "%s may not %s" % (role, cls))
                if st == 403:
                    check("request" in body(text)["errors"], "403 body is a Librato request error")
            check(has_rate_headers(h), "rate-limit headers on %s/%s" % (role, cls))

    # -- inactive, role change and delete take effect at once -------------------------------------
    st, text, _ = v.request("PUT", "/v1/api_tokens/" + viewer_id, "active=false&name=Renamed", "application/x-www-form-urlencoded")
    eq(st, 200, "PUT /v1/api_tokens/:id -> 200")
    eq((body(text)["active"], body(text)["name"], body(text)["role"]), (False, "Renamed", "viewer"), "updated properties")
    st, _, _ = v.request("GET", "/v1/metrics", auth=creds["viewer"])
    eq(st, 401, "an inactive token -> 401")
    st, text, _ = v.request("PUT", "/v1/api_tokens/" + viewer_id, json.dumps({"active": True, "role": "admin"}),
                            "application/json")
    eq(st, 200, "re-activate and promote (JSON)")
    st, _, _ = v.request("GET", "/v1/api_tokens", auth=creds["viewer"])
    eq(st, 200, "the promoted token may list tokens at once")
    st, text, _ = v.request("PUT", "/v1/api_tokens/" + viewer_id, "role=boss", "application/x-www-form-urlencoded")
    eq(st, 400, "PUT with an unknown role -> 400")
    st, text, _ = v.request("PUT", "/v1/api_tokens/" + viewer_id, "active=maybe", "application/x-www-form-urlencoded")
    eq(st, 400, "PUT with a non-boolean active -> 400")
    st, _, _ = v.request("PUT", "/v1/api_tokens/9999", "active=false", "application/x-www-form-urlencoded")
    eq(st, 404, "PUT an unknown token -> 404")
    st, text, _ = v.request("DELETE", "/v1/api_tokens/" + viewer_id)
    eq((st, text), (204, ""), "DELETE /v1/api_tokens/:id -> 204, empty body")
    st, _, _ = v.request("GET", "/v1/metrics", auth=creds["viewer"])
    eq(st, 401, "a deleted token -> 401")
    st, _, _ = v.request("DELETE", "/v1/api_tokens/" + viewer_id)
    eq(st, 404, "DELETE it again -> 404")

    # -- tokens survive a restart ------------------------------------------------------------------
    eq(v.stop(), 0, "stops cleanly")
    v.start()
    st, _, _ = v.request("POST", "/v1/measurements", sample, "application/json", auth=creds["recorder"])
    eq(st, 200, "the recorder token works after a restart")
    st, r = v.get_json("/v1/api_tokens")
    eq(r["query"]["total"], 4, "four tokens after the restart (the matrix created one)")
    st, _, _ = v.request("GET", "/v1/metrics", auth=creds["viewer"])
    eq(st, 401, "the deleted token stays deleted after a restart")
finally:
    v.cleanup()

# -- rate limit -------------------------------------------------------------------------------------
v = Vigil(A.vigil, extra=["--set", "auth.rate_limit=3"])
try:
    v.start()
    seen = []
    for i in range(4):
        st, _, h = v.request("GET", "/v1/metrics")
        seen.append((st, hdr(h, "X-Librato-RateLimit-Remaining"), hdr(h, "X-Librato-RateLimit-Reset")))
    if len({s[2] for s in seen}) == 1:  # all four in the same minute
        eq([(s[0], s[1]) for s in seen], [(200, "2"), (200, "1"), (200, "0"), (429, "0")],
           "limit 3: remaining counts down, the 4th request -> 429")
        check(int(seen[0][2]) % 60 == 0, "reset is the end of the minute in epoch seconds")
    else:
        check(seen[-1][0] in (200, 429), "rate limit window rolled over during the test")
    st, _, _ = v.request("GET", "/health", auth=None)
    eq(st, 200, "/health is not rate limited")
finally:
    v.cleanup()

# -- the generated token goes to standard output, never to the log (standard error) -------------------
d = tempfile.mkdtemp(prefix="vigil-e2e-")
env = dict(os.environ, VIGIL_ADMIN_USER="", VIGIL_ADMIN_TOKEN="")
p = subprocess.Popen([A.vigil, "serve", "--data-dir", os.path.join(d, "data"), "--listen", "127.0.0.1:0"],
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
try:
    first = p.stdout.readline()
    deadline = time.time() + 30
    while not os.path.exists(os.path.join(d, "data", "admin-token")) and time.time() < deadline:
        time.sleep(0.05)
    secret = open(os.path.join(d, "data", "admin-token")).read().strip()
finally:
    p.terminate()
    out, err_text = p.communicate(timeout=60)
    shutil.rmtree(d, ignore_errors=True)
check(secret in first, "the generated token is printed on standard output: %r" % first)
check(secret not in err_text and "printed on standard output" in err_text,
      "the log (standard error) says where the token is, without the token")

# -- generated first admin token ----------------------------------------------------------------------
v = Vigil(A.vigil, env={"VIGIL_ADMIN_USER": "", "VIGIL_ADMIN_TOKEN": ""})
try:
    v.start()
    path = os.path.join(v.data_dir, "admin-token")
    check(os.path.exists(path), "admin-token file written on first start")
    eq(stat.S_IMODE(os.stat(path).st_mode), 0o600, "admin-token is readable by its owner only")
    token = open(path).read().strip()
    check(re.fullmatch(r"[0-9a-f]{64}", token), "generated token is 64 hex characters")
    eq(v.log().count(token), 1, "the generated token is printed once")
    st, _, _ = v.request("GET", "/v1/api_tokens", auth=("admin@localhost", token))
    eq(st, 200, "the generated token is an admin token of admin@localhost")
    st, _, _ = v.request("GET", "/v1/metrics")
    eq(st, 401, "the harness token was not installed")
    gen = ("admin@localhost", token)
    st, r = v.get_json("/v1/api_tokens", auth=gen)
    gen_id = r["api_tokens"][0]["href"].rsplit("/", 1)[1]
    st, text, _ = v.request("DELETE", "/v1/api_tokens/" + gen_id, auth=gen)
    eq(st, 400, "the last active admin token cannot be deleted")
    st, _, _ = v.request("PUT", "/v1/api_tokens/" + gen_id, "active=false", "application/x-www-form-urlencoded", auth=gen)
    eq(st, 400, "the last active admin token cannot be deactivated")
    st, _, _ = v.request("PUT", "/v1/api_tokens/" + gen_id, "role=viewer", "application/x-www-form-urlencoded", auth=gen)
    eq(st, 400, "the last active admin token cannot be demoted")
    st, _, _ = v.request("PUT", "/v1/api_tokens/" + gen_id, "name=renamed", "application/x-www-form-urlencoded", auth=gen)
    eq(st, 200, "the last admin token can be renamed")
    eq(v.stop(), 0, "stops")
    os.remove(path)
    v.start()
    check(not os.path.exists(path), "no new token generated when tokens exist")
    eq(v.log().count(token), 1, "the token is printed only once")
    st, _, _ = v.request("GET", "/v1/metrics", auth=("admin@localhost", token))
    eq(st, 200, "the generated token still works after a restart")
finally:
    v.cleanup()

# -- auth switched off ----------------------------------------------------------------------------------
v = Vigil(A.vigil, extra=["--set", "auth.enabled=false"])
try:
    v.start()
    st, _, h = v.request("GET", "/v1/api_tokens", auth=None)
    eq(st, 200, "auth.enabled=false admits requests without credentials")
    check(has_rate_headers(h), "rate-limit headers also without auth")
    st, _, _ = v.post_json("/v1/measurements", {"measurements": [{"name": "x", "value": 1}]}, auth=None)
    eq(st, 200, "submit without credentials when auth is off")
finally:
    v.cleanup()
finish()
