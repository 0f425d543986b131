"""DRUM below its web layer, as the comparison servers need it: runtime
parameters, the NIM predictor, and the openai client its chat goes through.

Modelled on datarobot/datarobot-user-models (targets/README.md cites the files
and revisions):

- RuntimeParameters: runtime_parameters/runtime_parameters.py. A parameter is
  the variable MLOPS_RUNTIME_PARAM_<NAME> holding JSON, e.g.
  {"type": "numeric", "payload": 10}.
- NimPredictor: gpu_predictors/base.py and gpu_predictors/nim_predictor.py as
  `drum server --gpu-predictor nim --sidecar` runs them: the NIM is another
  process at OPENAI_HOST:OPENAI_PORT (here the mock backend); DRUM forwards to
  it and reports its health.
- NimPredictor.chat: language_predictors/base_language_predictor.py (chat,
  _validate_chat_response): a datarobot_association_id on every chunk, and the
  first chunk pulled before the HTTP response exists.
- OpenAiClient: openai-python's OpenAI client (not packaged by Debian, so
  modelled): required arguments, 600 s read / 5 s connect timeout, 2 retries
  with backoff, status errors, and its SSE stream, which stops at [DONE],
  raises on an error event and ends quietly without [DONE].
- chunk_json: ChatCompletionChunk.to_json(indent=None): compact, raw UTF-8,
  keys in the openai models' field order, extras after them.

Not modelled, because it needs DataRobot: MLOps reporting of each prediction,
moderations, OpenTelemetry spans, the NIM process itself (sidecar mode).
"""
import functools
import itertools
import json
import os
import random
import time
import uuid

import httpx
import requests

from common.sse import SseDecoder


class RuntimeParameters:
    PREFIX = "MLOPS_RUNTIME_PARAM_"

    @classmethod
    def has(cls, name):
        return cls.PREFIX + name in os.environ

    @classmethod
    def get(cls, name, default=None):
        if not cls.has(name):
            return default
        return json.loads(os.environ[cls.PREFIX + name])["payload"]


class OpenAiClient:
    """The openai client as DRUM builds it: OpenAI(base_url=..., api_key="fake")."""

    TIMEOUT = httpx.Timeout(600.0, connect=5.0)  # openai DEFAULT_TIMEOUT
    MAX_RETRIES = 2  # openai DEFAULT_MAX_RETRIES
    RETRY_STATUSES = {408, 409, 429}  # and every 5xx

    def __init__(self, base_url):
        self._http = httpx.Client(base_url=base_url, timeout=self.TIMEOUT,
                                  headers={"Authorization": "Bearer fake"})

    def models(self):
        return self._send("GET", "/models", None, stream=False).json()["data"]

    def create(self, params):
        """chat.completions.create: a dict, or for stream=True an iterator of
        chunk dicts."""
        if "messages" not in params or "model" not in params:
            # openai's @required_args on Completions.create
            raise TypeError(
                "Missing required arguments; Expected either ('messages' and "
                "'model') or ('messages', 'model' and 'stream') arguments to "
                "be given")
        stream = bool(params.get("stream"))
        resp = self._send("POST", "/chat/completions", params, stream)
        return self._events(resp) if stream else resp.json()

    def _send(self, method, path, body, stream):
        for retry in range(self.MAX_RETRIES + 1):
            last = retry == self.MAX_RETRIES
            request = self._http.build_request(method, path, json=body)
            try:
                resp = self._http.send(request, stream=stream)
            except httpx.TimeoutException:
                if last:
                    raise RuntimeError("Request timed out.")
            except httpx.HTTPError:
                if last:
                    raise RuntimeError("Connection error.")
            else:
                if resp.status_code < 400:
                    return resp
                resp.read()
                resp.close()
                if last or not (resp.status_code in self.RETRY_STATUSES
                                or resp.status_code >= 500):
                    raise RuntimeError(self._status_message(resp))
            time.sleep(self._backoff(retry))

    @staticmethod
    def _backoff(retry):
        return min(0.5 * 2.0 ** retry, 8.0) * (1 - 0.25 * random.random())

    @staticmethod
    def _status_message(resp):
        text = resp.text.strip()
        try:
            return f"Error code: {resp.status_code} - {json.loads(text)}"
        except ValueError:
            return text or f"Error code: {resp.status_code}"

    @staticmethod
    def _events(resp):
        """openai.Stream: chunks until [DONE]; an error event raises; an end
        without [DONE] is a normal end. Transport errors surface as httpx's."""
        try:
            decoder = SseDecoder()
            for piece in resp.iter_bytes():
                for data in decoder.feed(piece):
                    if data.startswith("[DONE]"):
                        return
                    chunk = json.loads(data)
                    if isinstance(chunk, dict) and chunk.get("error"):
                        error = chunk["error"]
                        message = error.get("message") if isinstance(
                            error, dict) else None
                        raise RuntimeError(
                            message or "An error occurred during streaming")
                    yield chunk
        finally:
            resp.close()


class NimPredictor:
    """BaseOpenAiGpuPredictor + NIMPredictor, sidecar mode."""

    NAME = "NIM"
    HEALTH_ROUTE = "/v1/health/ready"
    DEFAULT_MODEL_NAME = "datarobot-deployed-llm"

    def __init__(self):
        self.openai_host = os.environ.get("OPENAI_HOST", "localhost")
        self.openai_port = os.environ.get("OPENAI_PORT", "9999")
        self.ai_client = OpenAiClient(
            f"http://{self.openai_host}:{self.openai_port}/v1")

    def health_check(self):
        url = f"http://{self.openai_host}:{self.openai_port}{self.HEALTH_ROUTE}"
        try:
            response = requests.get(url, timeout=5)
            return {"message": response.text}, response.status_code
        except requests.Timeout:
            self._reset_cached_model_name()
            return {"message": f"Timeout waiting for {self.NAME} health route "
                               f"to respond."}, 503
        except requests.ConnectionError as err:
            self._reset_cached_model_name()
            return {"message": f"{self.NAME} server is not ready: {err}"}, 503

    liveness_probe = health_check
    readiness_probe = health_check

    @functools.cached_property
    def served_model_name(self):
        try:
            return self.ai_client.models()[0]["id"]
        except Exception:
            return self.DEFAULT_MODEL_NAME

    def _reset_cached_model_name(self):
        self.__dict__.pop("served_model_name", None)

    def chat(self, params):
        """BaseLanguagePredictor.chat over BaseOpenAiGpuPredictor._chat."""
        association_id = str(uuid.uuid4())
        if params.get("model") in (None, "", self.DEFAULT_MODEL_NAME):
            params["model"] = self.served_model_name
        response = self.ai_client.create(params)
        if not params.get("stream"):
            response["datarobot_association_id"] = association_id
            return response
        first = self._peek(response)
        return self._with_association_id(first, response, association_id)

    @staticmethod
    def _peek(stream):
        """_validate_chat_response: takes the first chunk (None: empty stream)."""
        try:
            return next(stream, None)
        except Exception as e:
            raise RuntimeError(
                "Expected response to be ChatCompletion or "
                "Iterable[ChatCompletionChunk]. response type: "
                "<class 'openai.Stream'>.response(str): "
                f"<openai.Stream object at {id(stream):#x}>") from e

    @staticmethod
    def _with_association_id(first, rest, association_id):
        if first is None:
            return
        for chunk in itertools.chain([first], rest):
            chunk["datarobot_association_id"] = association_id
            yield chunk


# Field order of openai-python's models (types/chat/chat_completion_chunk.py,
# types/completion_usage.py): pydantic writes declared fields in this order,
# then the extra ones in the order they were set.
_FIELD_ORDER = {
    "chunk": ["id", "choices", "created", "model", "object", "service_tier",
              "system_fingerprint", "usage"],
    "choices": ["delta", "finish_reason", "index", "logprobs"],
    "delta": ["content", "function_call", "refusal", "role", "tool_calls"],
    "tool_calls": ["index", "id", "function", "type"],
    "function": ["arguments", "name"],
    "function_call": ["arguments", "name"],
    "usage": ["completion_tokens", "prompt_tokens", "total_tokens",
              "completion_tokens_details", "prompt_tokens_details"],
}


def _in_model_order(value, kind):
    if isinstance(value, list):
        return [_in_model_order(item, kind) for item in value]
    fields = _FIELD_ORDER.get(kind)
    if fields is None or not isinstance(value, dict):
        return value
    keys = [k for k in fields if k in value] + [k for k in value
                                                if k not in fields]
    return {k: _in_model_order(value[k], k) for k in keys}


def chunk_json(chunk):
    """ChatCompletionChunk.to_json(indent=None) for a chunk dict."""
    return json.dumps(_in_model_order(chunk, "chunk"), separators=(",", ":"),
                      ensure_ascii=False)


def stream_openai_chunks(stream):
    """PredictMixin._stream_openai_chunks: each line of the chunk's JSON as
    `data: ...\\n`, the blank line as a write of its own, then [DONE]."""
    for chunk in stream:
        for line in chunk_json(chunk).splitlines():
            yield f"data: {line}\n"
        yield "\n"
    yield "data: [DONE]\n\n"
