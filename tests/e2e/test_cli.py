"""The command line: help, version, config errors with exit code 2, env and flag overrides."""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from harness import Vigil, args, check, eq, finish  # noqa: E402

A = args()


def run(argv, env=None):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([A.vigil] + argv, capture_output=True, text=True, env=e, timeout=60)
    return p.returncode, p.stdout + p.stderr


code, out = run(["--help"])
eq(code, 0, "--help exits 0")
check("serve" in out and "--data-dir" in out, "--help lists serve and its flags")
code, out = run(["--version"])
check(code == 0 and "vigil" in out, "--version")
code, out = run(["serve", "--no-such-flag"])
eq(code, 2, "unknown flag exits 2")
code, out = run(["frobnicate"])
eq(code, 2, "unknown command exits 2")

d = tempfile.mkdtemp()
cfg = os.path.join(d, "bad.toml")
with open(cfg, "w") as f:
    f.write("[server]\nhttp_threads = \"many\"\n")
code, out = run(["serve", "--config", cfg, "--data-dir", os.path.join(d, "data")])
eq(code, 2, "bad config value exits 2")
check("server.http_threads" in out, "error names the key: " + out.strip()[:200])
with open(cfg, "w") as f:
    f.write("[server]\nno_such_key = 1\n")
code, out = run(["serve", "--config", cfg, "--data-dir", os.path.join(d, "data")])
check(code == 2 and "server.no_such_key" in out, "unknown key exits 2 naming it")
code, out = run(["serve", "--data-dir", os.path.join(d, "data")], env={"VIGIL_SERVER_HTTP_THREADS": "0"})
check(code == 2 and "server.http_threads" in out, "bad env value exits 2 naming the key")

# The shipped config file works and the flags override it.
root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
v = Vigil(A.vigil, extra=["--config", os.path.join(root, "config", "vigil.toml")])
try:
    v.start()
    st, r = v.get_json("/health")
    eq(st, 200, "serves with config/vigil.toml, flags overriding data dir and listen")
    eq(v.stop(), 0, "stops cleanly")
finally:
    v.cleanup()
finish()
