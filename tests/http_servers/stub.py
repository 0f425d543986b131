#!/usr/bin/python3
"""Stub servers that a raw HTTP/1.1 case cannot be judged on (tests/http_cases_test.cc).

Each answers the harness's readiness probe (GET /ping without an
X-Streamcheck-Case header) with 200, so that the target starts; what it does
with a case's requests is its kind:
  not-found  every request but GET /ping gets 404 (the body is never read)
  closer     a case's request: the connection is closed at once, no answer
  garbage    a case's request: bytes that are not HTTP, then the close
Optionally over TLS (--cert FILE --key FILE) and on IPv6 (--host ::1).
Usage: stub.py KIND PORT [--host HOST] [--cert CERT --key KEY]
"""
import argparse
import socket
import socketserver
import ssl

OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"


def serve(kind, conn):
    data = b""
    while True:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            piece = conn.recv(65536)
            if not piece or len(data) > (4 << 20):
                return
            data += piece
            continue
        head, data = data[:end], data[end + 4:]
        first = head.split(b"\r\n", 1)[0]
        from_case = b"x-streamcheck-case:" in head.lower()
        ping = first in (b"GET /ping HTTP/1.1", b"GET /ping HTTP/1.0")
        if kind == "not-found":
            conn.sendall(OK if ping else NOT_FOUND)
        elif not from_case and ping:
            conn.sendall(OK)
        elif kind == "closer":
            return
        else:
            conn.sendall(b"\x00\x01 this is not HTTP \xff\r\n\r\n")
            return


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["not-found", "closer", "garbage"])
    parser.add_argument("port", type=int)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()
    context = None
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            conn = self.request
            try:
                if context:
                    conn = context.wrap_socket(conn, server_side=True)
                serve(args.kind, conn)
            except (OSError, ssl.SSLError):
                pass

    class Server(socketserver.ThreadingTCPServer):
        daemon_threads = True
        allow_reuse_address = True
        request_queue_size = 2048
        address_family = socket.AF_INET6 if ":" in args.host else socket.AF_INET

    with Server((args.host, args.port), Handler) as server:
        print(f"listening on {server.server_address[1]}", flush=True)  # port 0: the kernel's
        server.serve_forever()


if __name__ == "__main__":
    main()
