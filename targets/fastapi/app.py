#!/usr/bin/python3
"""Comparison server: the FastAPI streaming port of DRUM the migration aims at.

Same routes as targets/flask (targets/README.md), done the streaming way; a careful port, better than the
migration plan (targets/fastapi-plan):

- chat: StreamingResponse relaying the backend's events from an
  httpx.AsyncClient stream as ``data: <compact json>\\n\\n``, then
  ``data: [DONE]\\n\\n``; ``Cache-Control: no-cache`` and
  ``X-Accel-Buffering: no``; a backend failure mid-stream sends an in-band
  ``data: {"error": ...}`` event and ends without [DONE].
- /directAccess and /nim: a streaming reverse proxy. Request and response
  bodies pass through in pieces, hop-by-hop headers are dropped both ways,
  memory stays flat whatever the body size, and the upstream transfer is
  closed when the client goes away.
- errors: 400 for a bad chat body, 502 for an unreachable backend, 504 for one
  that sends no headers within BACKEND_READ_TIMEOUT_S; 431 for request headers
  above 32 KiB and 400 for Content-Length with Transfer-Encoding, which
  uvicorn's h11 would let through.
- / and /ping: the backend's health (its status and text), as DRUM's.

Served by uvicorn. Backend from OPENAI_HOST / OPENAI_PORT. Uses Debian's
python3-fastapi, python3-uvicorn and python3-httpx only.
"""
import argparse
import json
import logging
import os
import sys
import urllib.parse
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import anyio
import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.background import BackgroundTask
from starlette.requests import ClientDisconnect

from common.sse import SseDecoder  # noqa: E402

OPENAI_HOST = os.environ.get("OPENAI_HOST", "127.0.0.1")
OPENAI_PORT = int(os.environ.get("OPENAI_PORT", "8000"))
CONNECT_TIMEOUT_S = float(os.environ.get("BACKEND_CONNECT_TIMEOUT_S", "5"))
# Between two reads, not for the whole body: a backend may pause mid-body.
READ_TIMEOUT_S = float(os.environ.get("BACKEND_READ_TIMEOUT_S", "30"))

BACKEND_URL = httpx.URL(f"http://{OPENAI_HOST}:{OPENAI_PORT}/")

# RFC 9110 7.6.1, plus the common non-standard Proxy-Connection.
HOP_BY_HOP = frozenset({
    "connection", "keep-alive", "proxy-connection", "te", "trailer",
    "transfer-encoding", "upgrade", "proxy-authorization",
    "proxy-authenticate",
})
# Not forwarded upstream: httpx sets Host from the URL and sends the body at
# once, so it cannot honour an Expect: 100-continue.
REQUEST_DROP = frozenset({"host", "expect"})
# Not passed back: uvicorn sets its own Date and Server (as nginx hides the
# upstream's).
RESPONSE_DROP = frozenset({"date", "server"})

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
# nginx refuses more than large_client_header_buffers (default 4 x 8 KiB).
MAX_HEADER_BYTES = 32 * 1024
HEALTH_TIMEOUT_S = 5.0  # DRUM's, for the backend's health route

logger = logging.getLogger("targets.fastapi")

app = FastAPI(title="streamcheck FastAPI comparison server",
              docs_url=None, redoc_url=None, openapi_url=None)


class RequestGuard:
    """Refuses what uvicorn's h11 parser lets through when a request arrives
    in one read: request headers above MAX_HEADER_BYTES (431), and a body
    framed by both Content-Length and Transfer-Encoding (400; RFC 9112 6.1,
    the request-smuggling shape). Either answer closes the connection."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            headers = scope["headers"]
            names = {name.lower() for name, _ in headers}
            refusal = None
            if b"content-length" in names and b"transfer-encoding" in names:
                refusal = (400, "both Content-Length and Transfer-Encoding")
            elif sum(len(n) + len(v) + 4 for n, v in headers) > MAX_HEADER_BYTES:
                refusal = (431, f"request headers above {MAX_HEADER_BYTES} bytes")
            if refusal:
                response = JSONResponse({"message": refusal[1]},
                                        status_code=refusal[0],
                                        headers={"Connection": "close"})
                return await response(scope, receive, send)
        await self.app(scope, receive, send)


app.add_middleware(RequestGuard)


def _new_client():
    # Created at import: httpx binds no event loop until the first request.
    backend = httpx.AsyncClient(
        timeout=httpx.Timeout(connect=CONNECT_TIMEOUT_S, read=READ_TIMEOUT_S,
                              write=READ_TIMEOUT_S, pool=CONNECT_TIMEOUT_S),
        limits=httpx.Limits(max_connections=1024,
                            max_keepalive_connections=64),
    )
    # httpx adds User-Agent, Accept and Accept-Encoding to every request. A
    # proxy must not: an Accept-Encoding the client never sent would bring
    # back a compressed body it cannot read.
    for name in ("user-agent", "accept", "accept-encoding"):
        del backend.headers[name]
    return backend


client = _new_client()


@app.on_event("shutdown")
async def close_client():
    await client.aclose()


def _error(status, message):
    return JSONResponse({"message": message}, status_code=status)


def _backend_error(error):
    """Maps an httpx failure before the response started to 502/503/504."""
    detail = f"{type(error).__name__}: {error}"
    if isinstance(error, httpx.PoolTimeout):
        return _error(503, f"too many backend connections: {detail}")
    if isinstance(error, httpx.ConnectTimeout) or not isinstance(
            error, httpx.TimeoutException):
        return _error(502, f"backend unreachable: {detail}")
    return _error(504, f"backend timed out: {detail}")


async def _close(resp):
    # Shielded: this also runs while the request is being cancelled, and the
    # close must still reach the socket so the backend sees the transfer end.
    with anyio.CancelScope(shield=True):
        await resp.aclose()


class RelayResponse(StreamingResponse):
    """A StreamingResponse over an upstream httpx response, which it closes
    when the client goes away.

    Starlette's own reaction to a disconnect is to cancel the streaming task.
    When that cancellation lands in a pending read of httpcore 0.16 (Debian's),
    httpcore marks the stream closed without closing its socket, so the
    backend would go on sending into a connection nobody reads. Closing the
    upstream first, from the task that saw the disconnect, makes the pending
    read fail with an httpx error instead, and the backend sees the transfer
    cut at once.
    """

    def __init__(self, content, upstream, **kwargs):
        # The background close also covers a generator left suspended at a
        # yield, whose own finally would wait for the garbage collector.
        super().__init__(content, background=BackgroundTask(_close, upstream),
                         **kwargs)
        self.upstream = upstream

    async def __call__(self, scope, receive, send):
        async with anyio.create_task_group() as task_group:

            async def stream():
                await self.stream_response(send)
                task_group.cancel_scope.cancel()

            task_group.start_soon(stream)
            # Cancelled when the stream ends first; otherwise the client left.
            await self.listen_for_disconnect(receive)
            await _close(self.upstream)
            task_group.cancel_scope.cancel()
        await self.background()


def _compact(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _error_event(message):
    return "data: " + _compact(
        {"error": {"message": message, "type": "backend_error"}}) + "\n\n"


@app.get("/")
@app.get("/ping")
async def ping():
    # As DRUM's NIM predictor: the backend's health is the server's, here
    # without blocking the event loop.
    try:
        resp = await client.get(BACKEND_URL.join("v1/health/ready"),
                                timeout=HEALTH_TIMEOUT_S)
    except httpx.TimeoutException:
        return _error(503, "timeout waiting for the backend health route")
    except httpx.TransportError as e:
        return _error(503, f"backend is not ready: {type(e).__name__}: {e}")
    return JSONResponse({"message": resp.text}, status_code=resp.status_code)


@app.post("/chat/completions")
@app.post("/v1/chat/completions")
async def chat(request: Request):
    try:
        params = json.loads(await request.body())
    except ValueError as e:
        return _error(400, f"malformed JSON body: {e}")
    if not isinstance(params, dict) or "messages" not in params:
        return _error(400, "the body must be a JSON object with 'messages'")
    headers = {"X-Request-ID": request.headers.get("x-request-id")
               or str(uuid.uuid4())}

    upstream = client.build_request(
        "POST", BACKEND_URL.join("v1/chat/completions"), json=params)
    try:
        resp = await client.send(upstream, stream=True)
    except httpx.TransportError as e:
        return _backend_error(e)

    if resp.status_code != 200 or not params.get("stream"):
        # Small JSON bodies: read whole, pass on with the backend's status.
        try:
            body = await resp.aread()
        except httpx.TransportError as e:
            return _backend_error(e)
        finally:
            await _close(resp)
        return Response(body, status_code=resp.status_code, headers=headers,
                        media_type=resp.headers.get("content-type",
                                                    "application/json"))

    return RelayResponse(_relay_events(resp), resp,
                         media_type="text/event-stream",
                         headers={**SSE_HEADERS, **headers})


async def _relay_events(resp):
    try:
        try:
            decoder = SseDecoder()
            async for piece in resp.aiter_bytes():
                for data in decoder.feed(piece):
                    if data == "[DONE]":
                        yield "data: [DONE]\n\n"
                        return
                    try:
                        chunk = json.loads(data)
                    except ValueError:
                        yield _error_event(f"backend sent a non-JSON event: "
                                           f"{data[:200]}")
                        return
                    # The backend's own error event is passed on as it is,
                    # and ends the stream without [DONE] as ours does.
                    yield "data: " + _compact(chunk) + "\n\n"
                    if isinstance(chunk, dict) and chunk.get("error"):
                        return
            message = "backend stream ended without [DONE]"
        except httpx.HTTPError as e:
            if resp.is_closed:
                return  # RelayResponse closed it: the client went away
            message = f"backend stream failed: {type(e).__name__}: {e}"
        logger.warning("chat stream: %s", message)
        yield _error_event(message)
    finally:
        await _close(resp)


def _confined(tail):
    """False for a path the backend may read as another path or host: a dot
    segment (also percent-encoded), an encoded slash, backslash or NUL, or an
    empty segment (`//host/`, `http://host/`)."""
    lower = tail.lower()
    if any(bad in lower for bad in (b"%2f", b"%5c", b"%00")):
        return False
    decoded = urllib.parse.unquote_to_bytes(tail)
    if b"\\" in decoded:
        return False
    segments = decoded.split(b"/")
    for i, segment in enumerate(segments):
        if segment in (b".", b".."):
            return False
        if not segment and i < len(segments) - 1:
            return False
    return True


def _upstream_url(request, path):
    """The backend URL for a /directAccess or /nim request.

    Uses the raw request path so that percent-escapes reach the backend as the
    client sent them, and the raw query string so that repeated keys and
    their order survive. A trailing slash is dropped, as DRUM does. None for
    a path that is not confined to the backend (see _confined).
    """
    raw = request.scope.get("raw_path") or b""
    for prefix in (b"/directAccess/", b"/nim/"):
        if raw.startswith(prefix):
            tail = raw[len(prefix):]
            break
    else:
        tail = urllib.parse.quote(path).encode("ascii")
    if not _confined(tail):
        return None
    target = b"/" + tail.rstrip(b"/")
    query = request.scope.get("query_string", b"")
    if query:
        target += b"?" + query
    return BACKEND_URL.copy_with(raw_path=target)


def _end_to_end(pairs, drop):
    """The (name, value) pairs, repeats kept, less hop-by-hop headers, those
    named by Connection and those in ``drop``."""
    named = {token.strip().lower()
             for name, value in pairs if name.lower() == "connection"
             for token in value.split(",")}
    return [(name, value) for name, value in pairs
            if name.lower() not in HOP_BY_HOP
            and name.lower() not in named
            and name.lower() not in drop]


async def _relay_body(resp):
    try:
        async for piece in resp.aiter_raw():
            yield piece
    except httpx.HTTPError as e:
        if resp.is_closed:
            return  # RelayResponse closed it: the client went away
        # Re-raised so that uvicorn drops the connection: the client must see
        # an incomplete body (no last chunk, or short of Content-Length),
        # never a clean shorter one.
        logger.warning("direct access: upstream body failed: %s: %s",
                       type(e).__name__, e)
        raise
    finally:
        await _close(resp)


PROXY_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH"]


@app.api_route("/directAccess/{path:path}", methods=PROXY_METHODS)
@app.api_route("/nim/{path:path}", methods=PROXY_METHODS)
async def direct_access(request: Request, path: str):
    # Content-Length is end-to-end: kept, the body is streamed with exactly
    # that length (httpx then adds no Transfer-Encoding). Without it, a body
    # the client sent chunked goes on chunked; no body goes on as none.
    has_body = ("content-length" in request.headers
                or "transfer-encoding" in request.headers)
    url = _upstream_url(request, path)
    if url is None:
        return _error(400, "the path leaves the backend")
    upstream = client.build_request(
        request.method, url,
        headers=_end_to_end(request.headers.items(), REQUEST_DROP),
        content=request.stream() if has_body else None)
    try:
        resp = await client.send(upstream, stream=True)
    except httpx.TransportError as e:
        return _backend_error(e)
    except ClientDisconnect:
        return Response(status_code=400)  # nobody left to read it

    response = RelayResponse(_relay_body(resp), resp,
                             status_code=resp.status_code)
    # Raw bytes pass through undecoded, so an upstream Content-Length and
    # Content-Encoding stay true. Transfer-Encoding is hop-by-hop: uvicorn
    # chunks the body itself when there is no Content-Length.
    response.raw_headers = [
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in _end_to_end(resp.headers.multi_items(),
                                       RESPONSE_DROP)]
    return response


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # h11, the HTTP layer the guards above are written for. uvicorn's "auto"
    # takes httptools when python3-httptools is installed, and uvicorn 0.17.6's
    # httptools protocol sends chunked bodies to HTTP/1.0 clients (RFC 9112 6.1
    # forbids it: server.http10) and reads two Transfer-Encoding lines as one.
    uvicorn.run(app, host=args.host, port=args.port, http="h11")


if __name__ == "__main__":
    main()
