"""TLS on the HTTP API: a CA, a server and client certificates made with the openssl CLI; the
server serves HTTPS verified against the CA (Python's ssl), refuses TLS 1.1 and plain HTTP on the
TLS port, and with tls.client_ca_file requires a client certificate signed by that CA. An
unreadable or unusable certificate or key is a configuration error (exit status 2) naming the
setting."""
import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import ADMIN_TOKEN, ADMIN_USER, Vigil, args, basic, check, eq, finish  # noqa: E402

A = args()
T0 = (int(time.time()) // 60 - 30) * 60
AUTH = {"Authorization": basic(ADMIN_USER, ADMIN_TOKEN)}


def openssl(*argv):
    subprocess.run(["openssl"] + list(argv), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_ca(d, name):
    key, pem = os.path.join(d, name + ".key"), os.path.join(d, name + ".pem")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", pem, "-days", "2", "-subj", "/CN=" + name)
    return key, pem


def make_cert(d, name, ca, server):
    key, csr, pem = (os.path.join(d, name + ext) for ext in (".key", ".csr", ".pem"))
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key,
            "-out", csr, "-subj", "/CN=" + name)
    ext = os.path.join(d, name + ".ext")
    with open(ext, "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n" if server else "extendedKeyUsage=clientAuth\n")
    openssl("x509", "-req", "-in", csr, "-CA", ca[1], "-CAkey", ca[0], "-CAcreateserial", "-out", pem,
            "-days", "2", "-extfile", ext)
    return key, pem


def client_context(ca_pem, cert=None):
    ctx = ssl.create_default_context(cafile=ca_pem)
    if cert:
        ctx.load_cert_chain(cert[1], cert[0])
    return ctx


def https(v, ctx, method, path, body=None, headers=None):
    c = http.client.HTTPSConnection("127.0.0.1", v.port, context=ctx, timeout=20)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, r.read().decode()
    finally:
        c.close()


def refused_tls(v, ctx):
    """Counter vigil_http_refused_total{reason="tls_handshake"}, read over TLS with `ctx`."""
    st, text = https(v, ctx, "GET", "/metrics")
    for line in text.splitlines():
        if line.startswith('vigil_http_refused_total{reason="tls_handshake"} '):
            return int(line.split()[-1])
    return None


def fails(fn):
    """The exception `fn` raises (None when it succeeds)."""
    try:
        fn()
    except (ssl.SSLError, ConnectionError, OSError, http.client.HTTPException) as e:
        return e
    return None


def config_errors(d, server):
    junk = os.path.join(d, "junk.pem")
    with open(junk, "w") as f:
        f.write("not a certificate\n")
    cases = [
        (["--set", "tls.cert_file=" + os.path.join(d, "missing.pem"), "--set", "tls.key_file=" + server[0]],
         "tls.cert_file", "cannot read"),
        (["--set", "tls.cert_file=" + server[1], "--set", "tls.key_file=" + os.path.join(d, "missing.key")],
         "tls.key_file", "cannot read"),
        (["--set", "tls.cert_file=" + server[1]], "tls.key_file", "required"),
        (["--set", "tls.cert_file=" + junk, "--set", "tls.key_file=" + server[0]], "tls.cert_file", "PEM"),
        (["--set", "tls.cert_file=" + server[1], "--set", "tls.key_file=" + junk], "tls.key_file", "PEM"),
    ]
    data = tempfile.mkdtemp(prefix="vigil-tls-cfg-")
    try:
        for extra, key, words in cases:
            p = subprocess.run([A.vigil, "serve", "--data-dir", data, "--listen", "127.0.0.1:0"] + extra,
                               capture_output=True, text=True, timeout=60)
            eq(p.returncode, 2, "%s bad -> exit status 2" % key)
            check(("config error: " + key + ":") in p.stderr and words in p.stderr,
                  "the message names %s and says '%s': %s" % (key, words, p.stderr.strip()))
    finally:
        shutil.rmtree(data, ignore_errors=True)


def main():
    d = tempfile.mkdtemp(prefix="vigil-tls-")
    try:
        ca = make_ca(d, "vigil-test-ca")
        other_ca = make_ca(d, "other-ca")
        server = make_cert(d, "server", ca, True)
        client = make_cert(d, "client", ca, False)
        stranger = make_cert(d, "stranger", other_ca, False)
        config_errors(d, server)

        v = Vigil(A.vigil, extra=["--set", "tls.cert_file=" + server[1], "--set", "tls.key_file=" + server[0]]).start()
        try:
            check("(TLS)" in v.log(), "the start log says the listener is TLS")
            ctx = client_context(ca[1])
            eq(https(v, ctx, "GET", "/health"), (200, '{"status":"ok"}'), "GET /health over TLS, verified against the CA")
            body = json.dumps({"measurements": [{"name": "tls.m", "value": 4, "time": T0}]})
            st, text = https(v, ctx, "POST", "/v1/measurements", body, dict(AUTH, **{"Content-Type": "application/json"}))
            eq(st, 200, "POST /v1/measurements over TLS: " + text)
            st, text = https(v, ctx, "GET", "/v1/measurements/tls.m?start_time=%d&end_time=%d&resolution=60" %
                             (T0, T0 + 60), headers=AUTH)
            check(st == 200 and '"value":4' in text.replace(" ", ""), "and read back over TLS: " + text[:200])
            # A keep-alive connection carries several requests.
            c = http.client.HTTPSConnection("127.0.0.1", v.port, context=ctx, timeout=20)
            got = []
            for _ in range(3):
                c.request("GET", "/health")
                r = c.getresponse()
                r.read()
                got.append(r.status)
            c.close()
            eq(got, [200, 200, 200], "three requests on one TLS connection")

            # The certificate is verified by the client: one not signed by its CA is refused.
            e = fails(lambda: https(v, client_context(other_ca[1]), "GET", "/health"))
            check(isinstance(e, ssl.SSLCertVerificationError), "a client trusting another CA refuses the server (%r)" % e)

            before = refused_tls(v, ctx)
            # TLS 1.2 is accepted, TLS 1.1 refused by the server.
            v12 = client_context(ca[1])
            v12.minimum_version = v12.maximum_version = ssl.TLSVersion.TLSv1_2
            eq(https(v, v12, "GET", "/health")[0], 200, "TLS 1.2 is accepted")
            old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            old.check_hostname = False
            old.verify_mode = ssl.CERT_NONE
            old.set_ciphers("DEFAULT:@SECLEVEL=0")
            with warnings.catch_warnings():  # TLS 1.1 is deprecated: that is the point
                warnings.simplefilter("ignore", DeprecationWarning)
                old.minimum_version = old.maximum_version = ssl.TLSVersion.TLSv1_1
            e = fails(lambda: https(v, old, "GET", "/health"))
            check(isinstance(e, ssl.SSLError), "a TLS 1.1 client is refused (%r)" % e)
            after = refused_tls(v, ctx)
            eq(after - before, 1, "the server refused the TLS 1.1 handshake itself (tls_handshake counted)")

            # Plain HTTP on the TLS port gets no HTTP answer.
            s = socket.create_connection(("127.0.0.1", v.port), timeout=10)
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            try:
                data = s.recv(4096)
            except (ConnectionError, socket.timeout):
                data = b""
            s.close()
            check(not data.startswith(b"HTTP/1.1 200"), "plain HTTP on the TLS port is not served")
            eq(v.stop(), 0, "stops cleanly")
        finally:
            v.cleanup()

        # Client certificates required.
        v = Vigil(A.vigil, extra=["--set", "tls.cert_file=" + server[1], "--set", "tls.key_file=" + server[0],
                                  "--set", "tls.client_ca_file=" + ca[1]]).start()
        try:
            mine = client_context(ca[1], client)
            eq(https(v, mine, "GET", "/health")[0], 200, "a client with a certificate signed by the client CA is served")
            before = refused_tls(v, mine)
            e = fails(lambda: https(v, client_context(ca[1]), "GET", "/health"))
            check(e is not None, "a client without a certificate is refused (%r)" % e)
            e = fails(lambda: https(v, client_context(ca[1], stranger), "GET", "/health"))
            check(e is not None, "a client whose certificate another CA signed is refused (%r)" % e)
            eq(refused_tls(v, mine) - before, 2, "both refusals are the server's handshake refusals")
            body = json.dumps({"measurements": [{"name": "tls.mtls", "value": 1, "time": T0}]})
            st, text = https(v, mine, "POST", "/v1/measurements", body, dict(AUTH, **{"Content-Type": "application/json"}))
            eq(st, 200, "the API credentials still apply over mutual TLS: " + text)
            eq(https(v, mine, "POST", "/v1/measurements", body, {"Content-Type": "application/json"})[0], 401,
               "a client certificate does not replace the API credentials")
            eq(v.stop(), 0, "stops cleanly")
        finally:
            v.cleanup()
    finally:
        shutil.rmtree(d, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
