"""OpenAI-compatible chat servers: llama-server, vLLM, Ollama, llama-cpp-python's server.

Streams /v1/chat/completions over HTTP with the standard library. Reasoning arrives as
``<think>`` text in the content, or in a separate ``reasoning_content``/``reasoning``
field; both end up as ReasoningDelta events. Stop closes the socket at once.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
from typing import Iterator
from urllib.parse import urlsplit

from gazal_desktop.core.backends.base import BackendError, Message
from gazal_desktop.core.cancel import CancelToken
from gazal_desktop.core.events import Event, Finished, PromptStarted, ReasoningDelta, Usage
from gazal_desktop.core.reasoning import ReasoningParser
from gazal_desktop.core.sampling import Sampling

DEFAULT_CTX = 32768
FINISH = {"stop": "stop", "length": "length", "eos": "stop", "tool_calls": "stop", "content_filter": "error"}


class OpenAIBackend:
    name = "openai"

    def __init__(self, base_url: str, model: str = "", api_key: str | None = None,
                 n_ctx: int | None = None, timeout: float = 600.0) -> None:
        parts = urlsplit(base_url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BackendError(f"The server address should look like http://host:port/v1, not {base_url!r}")
        self.base_url = base_url
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        path = parts.path.rstrip("/")
        self._prefix = path if path.endswith("/v1") else path + "/v1"
        self._root = self._prefix[: -len("/v1")]
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self._n_ctx = n_ctx
        self._tokenizer: str | None = None  # which tokenize endpoint the server has, once known

    # -- HTTP ---------------------------------------------------------------------------
    def _conn(self, timeout: float | None = None) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        return cls(self._host, self._port, timeout=timeout or self.timeout)

    def _headers(self) -> dict[str, str]:
        h = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            h["Authorization"] = f"Bearer {self.api_key}"
        return h

    def _request_json(self, method: str, path: str, body: dict | None = None, timeout: float = 10.0) -> dict:
        conn = self._conn(timeout)
        try:
            conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=self._headers())
            resp = conn.getresponse()
            data = resp.read()
            if resp.status != 200:
                raise BackendError(f"The server answered {resp.status} for {path}", data[:500].decode("utf-8", "replace"))
            return json.loads(data)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise BackendError(f"Cannot reach the server at {self.base_url}: {exc}") from None
        finally:
            conn.close()

    def check(self) -> list[str]:
        """The server's model ids (and picks the first when none was chosen)."""
        data = self._request_json("GET", f"{self._prefix}/models")
        ids = [m.get("id", "") for m in data.get("data", [])]
        if not self.model and ids:
            self.model = ids[0]
        for m in data.get("data", []):  # vLLM reports the context length here
            if self._n_ctx is None and m.get("id") == self.model and m.get("max_model_len"):
                self._n_ctx = int(m["max_model_len"])
        return ids

    @property
    def label(self) -> str:
        return f"Server: {self.base_url}"

    @property
    def n_ctx(self) -> int:
        if self._n_ctx is None:
            try:  # llama-server
                props = self._request_json("GET", f"{self._root}/props", timeout=3.0)
                self._n_ctx = int(props["default_generation_settings"]["n_ctx"])
            except (BackendError, KeyError, TypeError, ValueError):
                self._n_ctx = DEFAULT_CTX
        return self._n_ctx

    # -- tokens -------------------------------------------------------------------------
    def count_text(self, text: str) -> int:
        attempts = [self._tokenizer] if self._tokenizer else ["llama-cpp-python", "llama-server"]
        for kind in attempts:
            try:
                if kind == "llama-cpp-python":
                    n = int(self._request_json("POST", f"{self._root}/extras/tokenize/count",
                                               {"input": text, "model": self.model or None}, 5.0)["count"])
                else:
                    n = len(self._request_json("POST", f"{self._root}/tokenize", {"content": text}, 5.0)["tokens"])
                self._tokenizer = kind
                return n
            except (BackendError, KeyError, TypeError, ValueError):
                continue
        self._tokenizer = "estimate"
        return max(1, round(len(text) / 3.5))  # servers without a tokenize endpoint (vLLM, Ollama)

    def count_tokens(self, messages: list[Message]) -> int:
        text = "".join(f"{m['role']}\n{m['content']}\n" for m in messages)
        return self.count_text(text) + 4 * len(messages) + 4  # chat-template markers

    # -- streaming ----------------------------------------------------------------------
    # Servers differ in whether a partial assistant message is continued or answered anew,
    # so Continue is offered only on the local backend (the chat view says so).
    supports_continue = False

    def stream(self, messages: list[Message], sampling: Sampling, cancel: CancelToken | None = None,
               json_schema: dict | None = None, continue_from: tuple[str, str] | None = None) -> Iterator[Event]:
        """Stream a reply. With `json_schema` the server constrains the reply to it: the OpenAI
        `json_schema` response format (vLLM, llama-server) and, for servers that refuse that
        (llama-cpp-python's), `json_object` with the schema attached."""
        formats: list[dict | None] = [None]
        if json_schema is not None:
            formats = [{"type": "json_schema", "json_schema": {"name": "answer", "schema": json_schema, "strict": True}},
                       {"type": "json_object", "schema": json_schema}]
        estimate = self.count_tokens(messages)
        yield PromptStarted(estimate, 0)
        for n, fmt in enumerate(formats):
            try:
                yield from self._stream(messages, sampling, cancel, estimate, fmt, refused_ok=n + 1 < len(formats))
                return
            except _FormatRefused:  # raised before anything was yielded: try the next format
                continue

    def _stream(self, messages: list[Message], sampling: Sampling, cancel: CancelToken | None, estimate: int,
                response_format: dict | None, refused_ok: bool = False) -> Iterator[Event]:
        cancel = cancel or CancelToken()
        s = sampling.validated()
        body: dict = {
            "model": self.model or "default", "messages": messages, "stream": True,
            "stream_options": {"include_usage": True},
            "temperature": s.temperature, "top_p": s.top_p, "max_tokens": s.max_tokens,
        }
        if s.top_k:
            body["top_k"] = s.top_k
        if s.min_p:
            body["min_p"] = s.min_p
        if s.repeat_penalty != 1.0:
            body["repeat_penalty"] = s.repeat_penalty
            body["repetition_penalty"] = s.repeat_penalty
        if s.seed is not None:
            body["seed"] = s.seed
        if response_format is not None:
            body["response_format"] = response_format
        conn = self._conn()
        t0 = time.perf_counter()

        def abort() -> None:
            if conn.sock is not None:
                try:
                    conn.sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        unregister = cancel.on_cancel(abort)
        parser = ReasoningParser()
        sep = {"first": None, "start": None, "end": None, "n": 0}
        usage, timings, reason = None, None, None
        try:
            conn.request("POST", f"{self._prefix}/chat/completions", body=json.dumps(body), headers=self._headers())
            resp = conn.getresponse()
            if resp.status != 200:
                detail = resp.read()[:4000].decode("utf-8", "replace")
                # llama-cpp-python's server answers a format it does not know with a 500
                if refused_ok and (resp.status in (400, 422) or "response_format" in detail):
                    raise _FormatRefused
                yield Finished("error", f"The server refused the request ({resp.status}): {_error_text(detail)}")
                return
            for raw in resp:
                line = raw.decode("utf-8", "replace").strip()
                if not line.startswith("data:"):
                    continue
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                try:
                    chunk = json.loads(data)
                except ValueError:
                    continue
                if chunk.get("error"):
                    yield Finished("error", _error_text(json.dumps(chunk["error"])))
                    return
                usage = chunk.get("usage") or usage
                timings = chunk.get("timings") or timings
                for choice in chunk.get("choices") or []:
                    delta = choice.get("delta") or {}
                    r = delta.get("reasoning_content") or delta.get("reasoning")
                    c = delta.get("content")
                    if (r or c) and sep["first"] is None:
                        sep["first"] = time.perf_counter()
                    if r:
                        sep["n"] += 1
                        sep["start"] = sep["start"] or time.perf_counter()
                        yield ReasoningDelta(r)
                    if c:
                        sep["n"] += 1
                        if sep["start"] and not sep["end"]:
                            sep["end"] = time.perf_counter()
                        yield from parser.feed(c)
                    if choice.get("finish_reason"):
                        reason = FINISH.get(choice["finish_reason"], "stop")
                if cancel.cancelled:
                    break
        except (OSError, http.client.HTTPException) as exc:
            if not cancel.cancelled:
                yield from parser.finish()
                yield Finished("error", f"The connection to {self.base_url} was lost: {exc}")
                return
        finally:
            unregister()
            conn.close()
        yield from parser.finish()
        t_end = time.perf_counter()
        yield self._usage(usage, timings, sep, t0, t_end, parser, estimate)
        yield Finished("cancelled" if cancel.cancelled else (reason or "stop"))

    def _usage(self, usage, timings, sep, t0, t_end, parser, estimate: int) -> Usage:
        """The server's usage when it sends one; else our count (one chunk per token)."""
        first = sep["first"]
        prompt_tokens = (usage or {}).get("prompt_tokens") or estimate
        completion = (usage or {}).get("completion_tokens", sep["n"])
        cached = ((usage or {}).get("prompt_tokens_details") or {}).get("cached_tokens", 0) or 0
        prompt_tps = gen_tps = None
        if timings:  # llama-server reports its own speeds
            prompt_tps = timings.get("prompt_per_second")
            gen_tps = timings.get("predicted_per_second")
        elif first and completion > 1 and t_end > first:
            gen_tps = (completion - 1) / (t_end - first)
        if sep["start"]:
            reasoning_s = (sep["end"] or t_end) - sep["start"]
        else:
            reasoning_s = parser.reasoning_seconds
        return Usage(prompt_tokens, completion, cached, (first - t0) if first else None, prompt_tps, gen_tps, reasoning_s)

    def close(self) -> None:
        pass


class _FormatRefused(Exception):
    """The server refused this response format; the caller tries the next one."""


def _error_text(detail: str) -> str:
    try:
        data = json.loads(detail)
        err = data.get("error", data) if isinstance(data, dict) else data
        if isinstance(err, dict):
            return str(err.get("message") or err.get("detail") or err)
        return str(err)
    except ValueError:
        return detail.strip()[:300]
