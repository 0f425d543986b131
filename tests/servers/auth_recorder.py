#!/usr/bin/python3
"""A tiny OpenAI-compatible server that records every Authorization header it
gets, for tests/target_kinds_test.py: the spec's `headers` must reach the
server, and its secret must appear in no report.

Usage: auth_recorder.py PORT FILE"""

import http.server
import json
import sys

PORT, SEEN = int(sys.argv[1]), sys.argv[2]


def chunk(delta, finish=None):
    return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def record(self):
        with open(SEEN, "a") as f:
            f.write("%s %s\n" % (self.path, self.headers.get("Authorization", "")))

    def reply(self, status, content_type, body):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.record()
        self.reply(200 if self.path == "/ping" else 404, "application/json", b'{"message":"OK"}')

    def do_POST(self):
        self.record()
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        events = [chunk({"role": "assistant", "content": ""}), chunk({"content": "Hi"}),
                  chunk({}, "stop")]
        body = "".join("data: %s\n\n" % json.dumps(e) for e in events) + "data: [DONE]\n\n"
        self.reply(200, "text/event-stream", body.encode())

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
