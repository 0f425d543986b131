#!/usr/bin/python3
"""A /directAccess/ proxy written the plain way, as a FastAPI user would: the
default httpx.AsyncClient, the request body streamed up, the response relayed
with `aiter_raw()` and the upstream's headers (hop-by-hop ones dropped). httpx
sends `Accept-Encoding: gzip, deflate` by default, so a backend that compresses
answers gzip and this proxy relays the compressed bytes with their label.

--strip-content-encoding drops that label but keeps relaying the compressed
bytes: the defect direct.content-coding exists to find.

Usage: httpx_proxy.py --port PORT --backend URL [--strip-content-encoding]"""

import argparse

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.background import BackgroundTask

# RFC 9110 §7.6.1; content-length is left to the relay of raw bytes below.
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailer", "transfer-encoding", "upgrade", "host"}

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--backend", required=True)
parser.add_argument("--strip-content-encoding", action="store_true")
args = parser.parse_args()

app = FastAPI()
client = httpx.AsyncClient(base_url=args.backend, timeout=None)


@app.get("/ping")
async def ping():
    return {"message": "OK"}


@app.api_route("/directAccess/{path:path}",
               methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
async def direct_access(path: str, request: Request):
    headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP]
    upstream = client.build_request(request.method, "/" + path, params=request.query_params,
                                    headers=headers, content=request.stream())
    try:
        response = await client.send(upstream, stream=True)
    except httpx.TransportError as e:
        return JSONResponse({"error": str(e)}, status_code=502)
    drop = set(HOP_BY_HOP)
    if args.strip_content_encoding:
        drop.add("content-encoding")
    relayed = {k: v for k, v in response.headers.items() if k.lower() not in drop}
    return StreamingResponse(response.aiter_raw(), status_code=response.status_code,
                             headers=relayed, background=BackgroundTask(response.aclose))


uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")
