#!/usr/bin/python3
"""Comparison server: DRUM's Flask prediction server, defects included.

What `drum server --target-type textgeneration --gpu-predictor nim --sidecar`
serves, written after DRUM's own code (targets/README.md cites the file of
each behaviour, and the case that shows it):

- as a script: werkzeug's app.run(threaded=False, processes=max_workers),
  default 1: one request at a time, HTTP/1.0, a stream holds the server.
- under gunicorn (gunicorn.conf.py here, DRUM's settings): `app:app`.
- /, /ping: the NIM's health (GET /v1/health/ready), its status and text.
- chat: the body through Flask's request.json (malformed JSON: 400
  {"error": ...}); no `messages`: the openai client's TypeError, a 500; the
  first chunk is pulled before the response starts; each chunk is
  `data: <to_json>\\n` and then `\\n` in two writes, then `data: [DONE]`; a
  failure later cuts the connection.
- /directAccess, /nim: the request and the upstream answer read whole, the
  upstream headers copied onto it, Transfer-Encoding included.
- every answer: X_Request_ID (DRUM's spelling); any error: 500
  {"message": "ERROR: ..."}, a 400 HTTPException {"error": ...}.
- SIGTERM: exit 130 at once, as DRUM's main.py (werkzeug only; gunicorn
  handles its own signals).

Backend from OPENAI_HOST / OPENAI_PORT, settings from MLOPS_RUNTIME_PARAM_*.
Debian's python3-flask, python3-requests and python3-httpx only.
"""
import argparse
import os
import signal
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import flask  # noqa: E402
import requests  # noqa: E402
from flask import Blueprint, Flask, Response, jsonify, request  # noqa: E402
from werkzeug.exceptions import HTTPException  # noqa: E402
from werkzeug.serving import WSGIRequestHandler  # noqa: E402

from common.drum import (NimPredictor, RuntimeParameters,  # noqa: E402
                         stream_openai_chunks)

HEADER_REQUEST_ID = "X_Request_ID"

predictor = NimPredictor()
model_api = Blueprint("model_api", __name__)


@model_api.route("/", methods=["GET"])
@model_api.route("/ping/", methods=["GET"], strict_slashes=False)
def ping():
    return predictor.liveness_probe()


@model_api.route("/health/", methods=["GET"])
def health():
    return predictor.readiness_probe()


# Without trailing slash, as the OpenAI python client requires.
@model_api.route("/chat/completions", methods=["POST"])
@model_api.route("/v1/chat/completions", methods=["POST"])
def chat():
    # DRUM reads request.json for its OpenTelemetry span, then again in do_chat.
    completion_create_params = request.json
    result = predictor.chat(completion_create_params)
    if isinstance(result, dict):
        return result, 200
    return Response(flask.stream_with_context(stream_openai_chunks(result)),
                    mimetype="text/event-stream"), 200


@model_api.route("/directAccess/<path:path>", methods=["GET", "POST", "PUT"])
@model_api.route("/nim/<path:path>", methods=["GET", "POST", "PUT"])
def forward_request(path):
    resp = requests.request(
        method=request.method,
        url=f"http://{predictor.openai_host}:{predictor.openai_port}/"
            f"{path.rstrip('/')}",
        # Every incoming header, Host and hop-by-hop ones included.
        headers=request.headers,
        # A MultiDict: requests sends only the first value of a repeated key.
        params=request.args,
        timeout=int(RuntimeParameters.get("NIM_DIRECT_ACCESS_REQUEST_TIMEOUT",
                                          3600)),
        data=request.get_data(),
        allow_redirects=False,
    )
    # resp.content: the whole body in memory. dict(resp.headers) keeps
    # Transfer-Encoding and Content-Encoding although the body is neither
    # chunked nor compressed any more; werkzeug sends them beside its own
    # Content-Length, gunicorn drops Transfer-Encoding as hop-by-hop.
    return Response(resp.content, status=resp.status_code,
                    headers=dict(resp.headers))


@model_api.errorhandler(Exception)
def handle_exception(e):
    flask.current_app.logger.exception(e)
    if isinstance(e, HTTPException) and e.code == 400:
        return jsonify(error=e.description), e.code
    return {"message": "ERROR: {}".format(e)}, 500


def before_request():
    request_id = request.environ.get("HTTP_X_REQUEST_ID") or str(uuid.uuid4())
    flask.g.request_id = request_id


def after_request(response):
    response.headers[HEADER_REQUEST_ID] = flask.g.get("request_id")
    return response


def create_flask_app():
    flask_app = Flask(__name__)
    flask_app.before_request(before_request)
    flask_app.after_request(after_request)
    flask_app.register_blueprint(model_api,
                                 url_prefix=os.environ.get("URL_PREFIX", ""))
    return flask_app


app = create_flask_app()


class TimeoutWSGIRequestHandler(WSGIRequestHandler):
    timeout = int(RuntimeParameters.get("DRUM_CLIENT_REQUEST_TIMEOUT", 3600))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--address", help="host:port, as DRUM's --address")
    # For starting it by hand: --port P is --address 127.0.0.1:P.
    where.add_argument("--port", type=int, help="port on 127.0.0.1")
    parser.add_argument("--max-workers", type=int, default=1)
    args = parser.parse_args()
    address = args.address or "127.0.0.1:%d" % args.port
    host, _, port = address.rpartition(":")
    processes = int(RuntimeParameters.get("CUSTOM_MODEL_WORKERS",
                                          args.max_workers))
    # Only with the runtime parameter set does DRUM pass its handler, whose
    # timeout is a socket timeout between reads and writes.
    handler = ({"request_handler": TimeoutWSGIRequestHandler}
               if RuntimeParameters.has("DRUM_CLIENT_REQUEST_TIMEOUT") else {})

    def signal_handler(sig, frame):
        # DRUM's main.py: no draining, requests in flight are cut.
        print("\nCtrl+C pressed, aborting drum", flush=True)
        os._exit(130)

    signal.signal(signal.SIGINT, signal_handler)
    signal.signal(signal.SIGTERM, signal_handler)
    app.run(host, int(port), threaded=False, processes=processes, **handler)


if __name__ == "__main__":
    main()
