"""A real local HTTP receiver for notification tests: records every request with its arrival time,
and can be told to answer with an error status or to hang for a while before answering."""
import http.server
import json
import threading
import time


class Receiver:
    def __init__(self, tls_cert=None):
        self.lock = threading.Lock()
        self.requests = []      # dicts: t, path, headers, body (parsed JSON or text), status
        self.status = 200       # answer for new requests
        self.hang = 0.0         # seconds to wait before answering
        self.path_status = {}   # path -> status, overriding `status`
        self.status_for = None  # (path, body) -> status or None, overriding both (e.g. one dead stream)
        self.cond = threading.Condition(self.lock)
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                t = time.time()
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw.decode(errors="replace")
                with outer.lock:
                    status, hang = outer.path_status.get(self.path, outer.status), outer.hang
                    if outer.status_for is not None:
                        chosen = outer.status_for(self.path, body)
                        if chosen is not None:
                            status = chosen
                if hang:
                    time.sleep(hang)
                rec = {"t": t, "path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                       "raw": raw, "body": body, "status": status}
                payload = b"{}" if status < 300 else b'{"error":"unavailable"}'
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    rec["answered"] = True
                except OSError:
                    rec["answered"] = False
                with outer.cond:
                    outer.requests.append(rec)
                    outer.cond.notify_all()

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls_cert:
            import ssl
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(tls_cert[0], tls_cert[1])
            self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.scheme = "https" if tls_cert else "http"
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path="/hook"):
        return "%s://127.0.0.1:%d%s" % (self.scheme, self.port, path)

    def set(self, status=200, hang=0.0):
        with self.lock:
            self.status, self.hang = status, hang

    def received(self, path=None, ok_only=True):
        with self.lock:
            return [r for r in self.requests
                    if (path is None or r["path"] == path) and (not ok_only or (r["status"] < 300 and r.get("answered")))]

    def wait_for(self, n, path=None, timeout=20.0):
        """Waits until at least n successful requests (to `path`) arrived; returns them."""
        deadline = time.time() + timeout
        with self.cond:
            while True:
                got = [r for r in self.requests
                       if (path is None or r["path"] == path) and r["status"] < 300 and r.get("answered")]
                if len(got) >= n or time.time() >= deadline:
                    return got
                self.cond.wait(timeout=max(0.01, deadline - time.time()))

    def close(self):
        self.server.shutdown()
        self.server.server_close()
