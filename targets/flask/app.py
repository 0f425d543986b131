#!/usr/bin/python3
"""Comparison server: a faithful model of today's Flask-based DRUM server.

Users migrate from this server, so it keeps DRUM's behaviour, defects included
(DESIGN.md, "The comparison servers in targets/"):

- chat: the backend's stream is relayed as ``data: <json>\\n`` and ``\\n`` in
  two separate writes, then ``data: [DONE]\\n\\n``; no Cache-Control; the
  headers go out only once the first chunk exists; a failure mid-stream cuts
  the connection (no [DONE], no in-band error); a failure before the stream
  gives 500 ``{"message": ...}``.
- /directAccess and /nim: the request and the upstream response are both read
  whole (``resp.content``) and returned with the upstream's headers: fully
  buffered, memory grows with the body.

Runs on werkzeug when started as a script, or under gunicorn as ``app:app``.
Backend from OPENAI_HOST / OPENAI_PORT. Uses Debian's python3-flask and
python3-requests only.
"""
import argparse
import codecs
import json
import os
import re
import uuid

import requests
from flask import Flask, Response, request, stream_with_context
from werkzeug.exceptions import HTTPException

DRUM_VERSION = "1.16.0"

OPENAI_HOST = os.environ.get("OPENAI_HOST", "127.0.0.1")
OPENAI_PORT = int(os.environ.get("OPENAI_PORT", "8000"))

# DRUM's default for the NIM_DIRECT_ACCESS_REQUEST_TIMEOUT runtime parameter:
# one hour, used as both the connect and the read timeout.
DIRECT_ACCESS_TIMEOUT_S = int(
    os.environ.get("NIM_DIRECT_ACCESS_REQUEST_TIMEOUT", "3600"))

# DRUM reaches the model through the openai client, whose default timeout is
# 5 s to connect and 600 s to read.
CHAT_TIMEOUT_S = (5, 600)

app = Flask(__name__)


class BackendStreamError(Exception):
    """The backend's event stream failed or ended without [DONE]."""


class SseDecoder:
    """Incremental event-stream decoder (WHATWG rules) yielding data payloads.

    Handles LF, CRLF and lone CR line ends (also split across reads), a
    leading BOM, comments and multi-line data, as the openai client does.
    """

    _LINE_END = re.compile(r"\r\n|\r|\n")

    def __init__(self):
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._pending = ""
        self._data = []
        self._at_start = True
        self._skip_lf = False  # the last read ended on CR; an LF may follow

    def feed(self, chunk):
        """Returns the data of every event completed by ``chunk``."""
        text = self._decoder.decode(chunk)
        if not text:
            return []
        if self._at_start:
            self._at_start = False
            text = text.removeprefix("\ufeff")
        if self._skip_lf and text.startswith("\n"):
            text = text[1:]
        buf = self._pending + text
        self._skip_lf = buf.endswith("\r")
        events = []
        pos = 0
        for match in self._LINE_END.finditer(buf):
            event = self._line(buf[pos:match.start()])
            pos = match.end()
            if event is not None:
                events.append(event)
        self._pending = buf[pos:]
        return events

    def _line(self, line):
        if not line:
            if not self._data:
                return None
            event, self._data = "\n".join(self._data), []
            return event
        if line.startswith(":"):
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        return None


def _backend_url(path):
    return f"http://{OPENAI_HOST}:{OPENAI_PORT}/{path}"


def _error(message, status):
    return {"message": message}, status


def _iter_backend_events(resp):
    """Yields the backend's chunks (parsed JSON) up to ``data: [DONE]``."""
    # urllib3 yields each chunk of a chunked body as it arrives, so
    # chunk_size=None streams; on a Content-Length or close-delimited body
    # it would read to the end, so read byte by byte there (SSE is small).
    chunk_size = None if resp.raw.chunked else 1
    decoder = SseDecoder()
    for piece in resp.iter_content(chunk_size=chunk_size):
        for data in decoder.feed(piece):
            if data == "[DONE]":
                return
            chunk = json.loads(data)
            # The openai client raises on an error event; so does DRUM.
            if isinstance(chunk, dict) and chunk.get("error"):
                raise BackendStreamError(f"backend error event: {data}")
            yield chunk
    # A stream that stops short of [DONE] is a failure, whatever its framing.
    raise BackendStreamError("backend stream ended without [DONE]")


def _stream_chunks(resp):
    """DRUM's _stream_openai_chunks: a line, then the blank line apart."""
    try:
        for chunk in _iter_backend_events(resp):
            yield "data: " + json.dumps(chunk, separators=(",", ":")) + "\n"
            yield "\n"
        yield "data: [DONE]\n\n"
    finally:
        resp.close()


@app.after_request
def add_drum_headers(response):
    # DRUM stamps every response. X_Request_ID (underscore) is DRUM's spelling;
    # proxies such as nginx drop such headers by default.
    response.headers["X-Drum-Version"] = DRUM_VERSION
    response.headers["X_Request_ID"] = (
        request.headers.get("X-Request-ID") or str(uuid.uuid4()))
    return response


@app.errorhandler(Exception)
def handle_exception(error):
    # As DRUM's handler: anything unexpected is 500 {"message": "ERROR: ..."}.
    # HTTP errors (404, 405, ...) keep Flask's own answer.
    if isinstance(error, HTTPException):
        if error.code == 400:
            return _error(f"ERROR: {error.description}", 400)
        return error
    app.logger.exception(error)
    return _error(f"ERROR: {error}", 500)


@app.route("/", methods=["GET"])
@app.route("/ping/", methods=["GET"], strict_slashes=False)
def ping():
    return {"message": "OK"}, 200


# Without trailing slash, as the OpenAI python client requires.
@app.route("/chat/completions", methods=["POST"])
@app.route("/v1/chat/completions", methods=["POST"])
def chat():
    # Flask's request.json would answer malformed JSON with an HTML 400; DRUM
    # answers JSON, so parse by hand.
    try:
        params = json.loads(request.get_data())
    except ValueError as e:
        return _error(f"ERROR: malformed JSON body: {e}", 400)
    if not isinstance(params, dict) or "messages" not in params:
        return _error("ERROR: the body must be a JSON object with 'messages'",
                      400)

    stream = bool(params.get("stream"))
    # Errors here (backend unreachable, non-200) reach handle_exception: 500.
    resp = requests.post(_backend_url("v1/chat/completions"), json=params,
                         stream=stream, timeout=CHAT_TIMEOUT_S)
    if resp.status_code != 200:
        body = resp.text
        resp.close()
        raise RuntimeError(
            f"backend answered {resp.status_code}: {body[:500]}")
    if not stream:
        return resp.json(), 200

    # DRUM pulls the first item before building the Response, so a backend
    # that fails before its first chunk still gets a 500, and the headers are
    # only sent once that chunk exists.
    generator = stream_with_context(_stream_chunks(resp))
    first = next(generator)

    def relay():
        yield first
        # An exception here propagates into the WSGI server, which has already
        # sent the headers: werkzeug and gunicorn then drop the connection
        # without the final chunk. No [DONE], no in-band error.
        yield from generator

    return Response(relay(), mimetype="text/event-stream")


@app.route("/directAccess/<path:path>", methods=["GET", "POST", "PUT"])
@app.route("/nim/<path:path>", methods=["GET", "POST", "PUT"])
def forward_request(path):
    try:
        resp = requests.request(
            method=request.method,
            url=_backend_url(path.rstrip("/")),
            # As DRUM: every incoming header as it is, Host and Connection
            # included. requests recomputes Content-Length from `data`.
            headers=dict(request.headers),
            # DRUM passes request.args, a MultiDict: requests keeps only the
            # first value of a repeated key.
            params=request.args,
            timeout=DIRECT_ACCESS_TIMEOUT_S,
            data=request.get_data(),
            allow_redirects=False,
        )
    except requests.RequestException as e:
        return _error(f"ERROR: {e}", 500)

    # DRUM copies every upstream header. Werkzeug writes a Transfer-Encoding
    # from the app verbatim next to the Content-Length that Response() sets
    # for a bytes body, and then sends the body unchunked: clients fail to
    # parse it. DRUM's usual server drops it anyway (gunicorn treats it as
    # hop-by-hop), so drop only that header. The rest stays, defects
    # included: Content-Encoding survives although requests decoded the body.
    headers = {name: value for name, value in resp.headers.items()
               if name.lower() != "transfer-encoding"}
    # resp.content: the whole upstream body in memory. Fully buffered.
    return Response(resp.content, status=resp.status_code, headers=headers)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    app.run(host=args.host, port=args.port, threaded=True)


if __name__ == "__main__":
    main()
