"""A webhook receiver for the tests: a real HTTP server on loopback, in its own process.

    python -m tests.webhooks.receiver LOG [--status CODE] [--hang-first SECONDS]

Writes its port as the first line of LOG, then one JSON line per request as it arrives
(before answering): the time, the headers and the body. Answers every POST with --status
(default 204); with --hang-first, waits that long before answering the first request (a
delivery in progress, for the tests that stop a worker during one).
"""

from __future__ import annotations

import argparse
import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("log", type=Path)
    parser.add_argument("--status", type=int, default=204)
    parser.add_argument("--hang-first", type=float, default=0.0)
    args = parser.parse_args()
    lock = threading.Lock()
    seen = [0]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the worker reuses its connections

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            with lock:
                seen[0] += 1
                first = seen[0] == 1
                record = {
                    "received_at": time.time(),
                    "path": self.path,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": base64.b64encode(body).decode(),
                }
                with args.log.open("a") as out:
                    out.write(json.dumps(record) + "\n")
            if first and args.hang_first:
                time.sleep(args.hang_first)
            self.send_response(args.status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    args.log.write_text(f"{server.server_port}\n")
    server.serve_forever()


if __name__ == "__main__":
    main()
