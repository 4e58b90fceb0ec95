"""A real local SMTP receiver (Debian's python3-aiosmtpd) for mail notification tests: run as a
process (`python3 smtp_receiver.py DIR`), it listens on a free loopback port, prints the port on its
first line, and writes every message it accepts to DIR as one JSON file (envelope and content).
Recipients whose local part is `reject` are refused with 550."""
import json
import os
import socket
import sys
import time

from aiosmtpd.controller import Controller


class Handler:
    def __init__(self, out):
        self.out = out
        self.n = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.split("@")[0] == "reject":
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.n += 1
        rec = {"from": envelope.mail_from, "to": envelope.rcpt_tos,
               "data": envelope.content.decode("utf-8", "replace"), "t": time.time()}
        tmp = os.path.join(self.out, ".%06d.json" % self.n)
        with open(tmp, "w") as f:
            json.dump(rec, f)
        os.rename(tmp, os.path.join(self.out, "%06d.json" % self.n))
        return "250 Message accepted for delivery"


def main():
    out = sys.argv[1]
    with socket.socket() as s:  # a free port (the controller cannot be given port 0)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    c = Controller(Handler(out), hostname="127.0.0.1", port=port)
    c.start()
    print(port, flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        c.stop()


if __name__ == "__main__":
    main()
