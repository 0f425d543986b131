#!/usr/bin/python3
"""A small app for the raw HTTP/1.1 cases on real Python servers (tests/http_cases_real_test.cc).

The same routes under uvicorn (ASGI), werkzeug and gunicorn (WSGI), so what a
case sees is the server's HTTP/1.1 handling, not the app's:
  GET  /ping, /                      200 {"message": "OK"}
  ANY  /directAccess/echo[...]       200 JSON: method, target, body_length
  GET  /directAccess/large-file?size_mb=N   N MiB of b"x", no Content-Length (streamed)
  anything else                      404
Usage: app.py uvicorn|uvicorn-httptools|werkzeug PORT; gunicorn loads app:wsgi.
Debian's python3-uvicorn, python3-werkzeug and gunicorn only.
"""
import json
import sys
import urllib.parse

from werkzeug.wsgi import get_input_stream

MIB = 1024 * 1024


def _size_mb(query):
    values = urllib.parse.parse_qs(query).get("size_mb", ["1"])
    try:
        return max(0, min(64, int(values[0])))
    except ValueError:
        return 1


def _echo(method, target, length):
    return json.dumps({"method": method, "target": target, "body_length": length}).encode()


# ---- WSGI (werkzeug, gunicorn) ----

def wsgi(environ, start_response):
    path = environ.get("PATH_INFO", "")
    query = environ.get("QUERY_STRING", "")
    method = environ["REQUEST_METHOD"]
    if path in ("/", "/ping"):
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "17")])
        return [b'{"message": "OK"}']
    if path.startswith(("/directAccess/echo", "/echo")):
        # As werkzeug's Request reads it: Content-Length bytes, or to the end
        # of a body the server de-chunked (wsgi.input_terminated).
        stream = get_input_stream(environ)
        length = 0
        while True:
            piece = stream.read(65536)
            if not piece:
                break
            length += len(piece)
        body = _echo(method, path + ("?" + query if query else ""), length)
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Length", str(len(body)))])
        return [body]
    if path in ("/directAccess/large-file", "/large-file"):
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        return (b"x" * MIB for _ in range(_size_mb(query)))
    start_response("404 Not Found", [("Content-Type", "application/json"), ("Content-Length", "25")])
    return [b'{"error": "no such path"}']


# ---- ASGI (uvicorn) ----

async def asgi(scope, receive, send):
    if scope["type"] != "http":
        return
    path = scope["path"]
    query = scope.get("query_string", b"").decode("latin-1")

    async def answer(status, body, headers=()):
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), *headers]})
        await send({"type": "http.response.body", "body": body})

    if path in ("/", "/ping"):
        return await answer(200, b'{"message": "OK"}')
    if path.startswith(("/directAccess/echo", "/echo")):
        length = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return
            length += len(message.get("body", b""))
            if not message.get("more_body"):
                break
        target = scope.get("raw_path", path.encode()).decode("latin-1")
        return await answer(200, _echo(scope["method"], target + ("?" + query if query else ""),
                                       length))
    if path in ("/directAccess/large-file", "/large-file"):
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/octet-stream")]})
        for _ in range(_size_mb(query)):
            await send({"type": "http.response.body", "body": b"x" * MIB, "more_body": True})
        return await send({"type": "http.response.body", "body": b""})
    return await answer(404, b'{"error": "no such path"}')


def main():
    kind, port = sys.argv[1], int(sys.argv[2])
    if kind.startswith("uvicorn"):
        import uvicorn
        http = "httptools" if kind == "uvicorn-httptools" else "h11"
        uvicorn.run(asgi, host="127.0.0.1", port=port, http=http, log_level="warning",
                    access_log=False)
    elif kind == "werkzeug":
        from werkzeug.serving import run_simple
        run_simple("127.0.0.1", port, wsgi, threaded=True)
    else:
        sys.exit("usage: app.py uvicorn|uvicorn-httptools|werkzeug PORT")


if __name__ == "__main__":
    main()
