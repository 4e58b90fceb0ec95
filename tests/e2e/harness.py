"""Drives the real `vigil` binary over real sockets: start, stop, kill -9, HTTP helpers."""
import argparse
import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request


# Credentials every Vigil started by the harness accepts (an admin token), and what request()
# sends by default.
ADMIN_USER = "test@example.com"
ADMIN_TOKEN = "e2e-admin-token-0123456789abcdef0123456789abcdef"


def basic(user, token):
    """The Authorization header value for HTTP Basic user:token."""
    return "Basic " + base64.b64encode(("%s:%s" % (user, token)).encode()).decode()


def args():
    p = argparse.ArgumentParser()
    p.add_argument("--vigil", required=True)
    return p.parse_args()


class Vigil:
    """One `vigil serve` process on a free port with its own data dir."""

    def __init__(self, binary, data_dir=None, extra=None, env=None):
        self.binary = binary
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="vigil-e2e-")
        self.extra = extra or []
        self.env = env
        self.proc = None
        self.port = None
        self.log_path = None

    def start(self, timeout=30):
        self.log_path = os.path.join(self.data_dir, "..", os.path.basename(self.data_dir) + ".log")
        log = open(self.log_path, "ab")
        offset = log.tell()
        env = dict(os.environ)
        env["VIGIL_ADMIN_USER"] = ADMIN_USER
        env["VIGIL_ADMIN_TOKEN"] = ADMIN_TOKEN
        if self.env:
            env.update(self.env)
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--data-dir", self.data_dir, "--listen", "127.0.0.1:0"] + self.extra,
            stdout=log, stderr=log, env=env)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("vigil exited with %s:\n%s" % (self.proc.returncode, self.log()))
            m = re.findall(r"listening on [^\s:]+:(\d+)", self.log()[offset:])
            if m:
                self.port = int(m[-1])
                return self
            time.sleep(0.05)
        raise RuntimeError("vigil did not start:\n" + self.log())

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self, timeout=60):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            if self.log_path and os.path.exists(self.log_path):
                os.remove(self.log_path)

    # -- HTTP --------------------------------------------------------------------------------

    def request(self, method, path, body=None, content_type=None, headers=None, auth=True):
        """auth: True = the harness admin credentials, None/False = no Authorization header,
        (user, token) = those credentials."""
        url = "http://127.0.0.1:%d%s" % (self.port, path)
        data = body.encode() if isinstance(body, str) else body
        req = urllib.request.Request(url, data=data, method=method)
        if auth is True:
            req.add_header("Authorization", basic(ADMIN_USER, ADMIN_TOKEN))
        elif auth:
            req.add_header("Authorization", basic(auth[0], auth[1]))
        if content_type:
            req.add_header("Content-Type", content_type)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, r.read().decode(), dict(r.headers)
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(), dict(e.headers)

    def post_json(self, path, obj, auth=True):
        return self.request("POST", path, json.dumps(obj), "application/json", auth=auth)

    def post_form(self, path, pairs, auth=True):
        return self.request("POST", path, urllib.parse.urlencode(pairs), "application/x-www-form-urlencoded",
                            auth=auth)

    def get_json(self, path, params=None, auth=True):
        if params:
            path = path + "?" + urllib.parse.urlencode(params)
        st, body, _ = self.request("GET", path, auth=auth)
        return st, (json.loads(body) if body else None)


failures = []


def hdr(headers, name):
    """A response header by name, whatever its case (None if absent)."""
    for k, val in headers.items():
        if k.lower() == name.lower():
            return val
    return None


def check(cond, what):
    if cond:
        print("ok   - " + what)
    else:
        print("FAIL - " + what)
        failures.append(what)


def eq(actual, expected, what):
    check(actual == expected, "%s (got %r, expected %r)" % (what, actual, expected) if actual != expected else what)


def close(actual, expected, what, tol=1e-9):
    ok = actual is not None and abs(actual - expected) <= tol * max(1.0, abs(expected))
    check(ok, what if ok else "%s (got %r, expected %r)" % (what, actual, expected))


def finish():
    if failures:
        print("\n%d check(s) failed:" % len(failures))
        for f in failures:
            print("  - " + f)
        sys.exit(1)
    print("\nall checks passed")
