#!/usr/bin/python3
"""Comparison server: the FastAPI server of DRUM's migration plan, as written.

The routes of fastapi_migration_plan/.../root_predictors/prediction_server.py.md
(its revision with the directAccess proxy), the app and middleware of
fastapi_migration_plan/.../drum/server.py.md (create_fastapi_app) and the
security headers of .../drum/fastapi/middleware.py.md, over the same DRUM
predictor as targets/flask (common/drum.py). targets/README.md cites each
behaviour. Kept as the plan has them:

- /, /ping: the predictor's (message, status) tuple returned from an async
  route: FastAPI sends it as a JSON list with 200 whatever the NIM's health,
  and the blocking health request runs on the event loop.
- chat: `await request.json()` first, so malformed JSON is a 500; do_chat in
  a 4-thread executor; the stream as DRUM writes it, with Cache-Control,
  Connection: keep-alive and X-Accel-Buffering.
- /directAccess, /nim: the request body read whole, then a StreamingResponse
  over httpx: 200 for every upstream status, no upstream headers, an
  unreachable backend is a cut 200 (the `except` never sees the generator).
- middleware: a request timeout that only bounds the time to the response
  headers, 413 for a Content-Length above 100 MiB, X_Request_ID and
  X-Drum-Version, the security headers; exceptions as 500 {"message": ...}.

Served by Debian's uvicorn as run_uvicorn.py.md starts it, less
--timeout-notify, which uvicorn 0.17.6 does not have.
"""
import asyncio
import json
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
from fastapi import APIRouter, FastAPI, HTTPException, Request  # noqa: E402
from fastapi.responses import JSONResponse, StreamingResponse  # noqa: E402
from starlette.middleware.base import BaseHTTPMiddleware  # noqa: E402

from common.drum import (NimPredictor, RuntimeParameters,  # noqa: E402
                         stream_openai_chunks)

DRUM_VERSION = "1.16.0"  # stands in for datarobot_drum.drum.description.version

predictor = NimPredictor()
executor = ThreadPoolExecutor(
    max_workers=int(RuntimeParameters.get("DRUM_FASTAPI_EXECUTOR_WORKERS", 4)))
router = APIRouter()


async def run_sync_in_executor(func, *args, **kwargs):
    loop = asyncio.get_event_loop()
    return await loop.run_in_executor(executor, partial(func, *args, **kwargs))


@router.get("/")
@router.get("/ping")
@router.get("/ping/")
async def ping():
    return predictor.liveness_probe()


@router.get("/health/")
async def health():
    return predictor.readiness_probe()


def do_chat(body):
    """predict_mixin.py.md, do_chat for FastAPI."""
    result = predictor.chat(json.loads(body))
    if isinstance(result, dict):
        return result, 200
    return StreamingResponse(
        stream_openai_chunks(result),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "Connection": "keep-alive",
                 "X-Accel-Buffering": "no"},
    ), 200


@router.post("/chat/completions")
@router.post("/v1/chat/completions")
async def chat(request: Request):
    body = await request.body()
    await request.json()  # for the OpenTelemetry span's attributes
    response, _ = await run_sync_in_executor(do_chat, body)
    return response


@router.api_route("/directAccess/{path:path}", methods=["GET", "POST", "PUT"])
@router.api_route("/nim/{path:path}", methods=["GET", "POST", "PUT"])
async def forward_request(path: str, request: Request):
    body = await request.body()
    forward_headers = {k: v for k, v in request.headers.items()
                       if k.lower() not in ("host", "content-length",
                                            "transfer-encoding")}
    timeout = httpx.Timeout(
        int(RuntimeParameters.get("NIM_DIRECT_ACCESS_REQUEST_TIMEOUT", 3600)),
        connect=30.0)
    try:
        async def generate_content():
            async with httpx.AsyncClient(timeout=timeout) as client:
                async with client.stream(
                    method=request.method,
                    url=f"http://{predictor.openai_host}:"
                        f"{predictor.openai_port}/{path.rstrip('/')}",
                    headers=forward_headers,
                    params=dict(request.query_params),
                    content=body,
                    follow_redirects=False,
                ) as resp:
                    # Stored, and never used: the response has already started.
                    request.state.proxy_status = resp.status_code
                    request.state.proxy_headers = {
                        k: v for k, v in resp.headers.items()
                        if k.lower() not in ("content-encoding",
                                             "transfer-encoding",
                                             "content-length")}
                    async for chunk in resp.aiter_bytes():
                        yield chunk

        return StreamingResponse(generate_content())
    except Exception as e:
        return JSONResponse(content={"message": f"ERROR: {e}"},
                            status_code=502)


class RequestIDMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):
        request_id = request.headers.get("X-Request-ID") or str(uuid.uuid4())
        response = await call_next(request)
        response.headers["X_Request_ID"] = request_id
        response.headers["X-Drum-Version"] = DRUM_VERSION
        return response


class RequestTimeoutMiddleware(BaseHTTPMiddleware):
    """Bounds call_next, which returns once the response headers exist."""

    def __init__(self, app):
        super().__init__(app)
        self.timeout = int(RuntimeParameters.get("DRUM_CLIENT_REQUEST_TIMEOUT",
                                                 3600))

    async def dispatch(self, request, call_next):
        if request.url.path.rstrip("/") in ["/ping", "/", "/health"]:
            return await call_next(request)
        if self.timeout <= 0:
            return await call_next(request)
        try:
            return await asyncio.wait_for(call_next(request),
                                          timeout=self.timeout)
        except asyncio.TimeoutError:
            return JSONResponse(
                content={"message": f"ERROR: Request timeout after "
                                    f"{self.timeout} seconds"},
                status_code=504)


class ContentLengthLimitMiddleware(BaseHTTPMiddleware):
    """Looks at Content-Length only: a chunked upload is not limited."""

    def __init__(self, app, max_content_length):
        super().__init__(app)
        self.max_content_length = max_content_length

    async def dispatch(self, request, call_next):
        content_length = request.headers.get("content-length")
        if content_length and int(content_length) > self.max_content_length:
            return JSONResponse(
                content={"message": f"Request body too large. Limit is "
                                    f"{self.max_content_length} bytes"},
                status_code=413)
        return await call_next(request)


class SecurityHeadersMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request, call_next):
        response = await call_next(request)
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-XSS-Protection"] = "1; mode=block"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        # uvicorn adds its Server header after the app: this removes nothing.
        if "server" in response.headers:
            del response.headers["server"]
        return response


def create_fastapi_app():
    fastapi_app = FastAPI(title="DRUM Prediction Server", version=DRUM_VERSION,
                          docs_url=None, redoc_url=None)
    # Last added runs first: RequestID, security headers, size limit, timeout.
    fastapi_app.add_middleware(RequestTimeoutMiddleware)
    fastapi_app.add_middleware(
        ContentLengthLimitMiddleware,
        max_content_length=int(RuntimeParameters.get(
            "DRUM_FASTAPI_MAX_UPLOAD_SIZE", 100 * 1024 * 1024)))
    fastapi_app.add_middleware(SecurityHeadersMiddleware)
    fastapi_app.add_middleware(RequestIDMiddleware)

    @fastapi_app.exception_handler(Exception)
    async def general_exception_handler(request, exc):
        return JSONResponse(content={"message": f"ERROR: {exc}"},
                            status_code=500)

    @fastapi_app.exception_handler(HTTPException)
    async def http_exception_handler(request, exc):
        return JSONResponse(content={"error": str(exc.detail)},
                            status_code=exc.status_code)

    fastapi_app.include_router(router)
    return fastapi_app


app = create_fastapi_app()
