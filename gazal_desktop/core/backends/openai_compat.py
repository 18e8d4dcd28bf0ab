"""OpenAI-compatible chat servers: llama-server, vLLM, Ollama, llama-cpp-python's server.

Streams /v1/chat/completions over HTTP with the standard library. Reasoning arrives as
``<think>`` text in the content, or in a separate ``reasoning_content``/``reasoning``
field; both end up as ReasoningDelta events. Stop closes the socket at once.

What a server can do is probed once (`ServerTraits`): llama-server closes reasoning at a
budget itself and renders its own template (/apply-template); a server whose vocabulary has
the ChatML and think tokens (Qwen3, Gazal) takes a raw prompt that we render, so a reply
can be continued from where it stopped and reasoning closed the way the local backend does
(server_reply.py). The budgets' logic lives there.
"""

from __future__ import annotations

import http.client
import json
import socket
from dataclasses import dataclass
from typing import Iterator
from urllib.parse import urlsplit

from gazal_desktop.core.backends.base import BackendError, Message
from gazal_desktop.core.cancel import CancelToken
from gazal_desktop.core.events import Event, PromptStarted
from gazal_desktop.core.sampling import Sampling

DEFAULT_CTX = 32768
TOKENIZE_TIMEOUT = 3.0  # seconds; a tokenizer slower than this is replaced by an estimate for good


@dataclass(frozen=True)
class ServerTraits:
    dialect: str  # "llama-server" | "vllm" | "llama-cpp-python" | "other"
    chatml: bool  # its tokenizer reads <|im_start|>, <think> and </think> as single tokens
    apply_template: bool  # llama-server renders a conversation with its own template

    @property
    def raw_prompts(self) -> bool:
        """Whether we can send a rendered prompt with a partial reply after it (Continue,
        and closing reasoning in the model's own context)."""
        return self.apply_template or self.chatml

    @property
    def native_budget(self) -> bool:
        return self.dialect == "llama-server"


class OpenAIBackend:
    name = "openai"

    def __init__(self, base_url: str, model: str = "", api_key: str | None = None,
                 n_ctx: int | None = None, timeout: float = 600.0, extra_body: dict | None = None) -> None:
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
        # Fields sent with every generation request (server-specific options, logit_bias…).
        self.extra_body = dict(extra_body or {})
        self._n_ctx = n_ctx
        self._tokenizer: str | None = None  # which tokenize endpoint the server has, once known
        self._props: dict | None = None
        self._vllm = False
        self._traits: ServerTraits | None = None

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
        except TimeoutError as exc:
            raise ServerTimeout(f"The server at {self.base_url} did not answer {path} in {timeout:g} s", str(exc)) from None
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise BackendError(f"Cannot reach the server at {self.base_url}: {exc}") from None
        finally:
            conn.close()

    def sse(self, path: str, body: dict, cancel: CancelToken) -> Iterator[dict]:
        """POST `body` and yield the streamed JSON chunks. Closing the generator (or Stop)
        closes the socket, which makes the server stop generating. Yields DONE for the
        server's "[DONE]". Raises ServerRefused (before anything was yielded) for an HTTP
        error, NotAStream for an answer without a single data line, ConnectionLost for a
        dropped line."""
        conn = self._conn()
        held: list[socket.socket] = []  # http.client lets go of the socket when the server says
        # "Connection: close" (the response keeps reading it): Stop shuts the one it read from

        def abort() -> None:
            for sock in held or ([conn.sock] if conn.sock is not None else []):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        unregister = cancel.on_cancel(abort)
        try:
            conn.request("POST", path, body=json.dumps(body), headers=self._headers())
            held.append(conn.sock)
            if cancel.cancelled:
                abort()
            resp = conn.getresponse()
            if resp.status != 200:
                raise ServerRefused(resp.status, resp.read()[:4000].decode("utf-8", "replace"))
            streamed, other = False, []
            for raw in resp:
                line = raw.decode("utf-8", "replace").strip()
                if not line.startswith("data:"):
                    if line and not streamed and len(other) < 5:
                        other.append(line)  # a proxy's HTML page, a plain-text error
                    continue
                streamed = True
                data = line[5:].strip()
                if data == "[DONE]":
                    yield DONE
                    return
                try:
                    chunk = json.loads(data)
                except ValueError:
                    continue
                if isinstance(chunk, dict):  # "data: null", a list, a string: not a chunk
                    yield chunk
                if cancel.cancelled:
                    return
            if not streamed and other and not cancel.cancelled:
                raise NotAStream(" ".join(other)[:300])
        except (OSError, http.client.HTTPException) as exc:
            if not cancel.cancelled:
                raise ConnectionLost(f"The connection to {self.base_url} was lost: {exc}") from None
        finally:
            unregister()
            conn.close()

    # -- what the server is -------------------------------------------------------------
    def check(self) -> list[str]:
        """The server's model ids (and picks the first when none was chosen). Also learns
        what the server can do, so the chat view knows at once whether Continue works."""
        data = self._request_json("GET", f"{self._prefix}/models")
        ids = [m.get("id", "") for m in data.get("data", [])]
        if not self.model and ids:
            self.model = ids[0]
        for m in data.get("data", []):  # vLLM reports the context length here
            if m.get("max_model_len"):
                self._vllm = True
            if self._n_ctx is None and m.get("id") == self.model and m.get("max_model_len"):
                self._n_ctx = int(m["max_model_len"])
        self.traits()
        return ids

    def _server_props(self) -> dict:
        """llama-server's /props ({} for other servers), asked once."""
        if self._props is None:
            try:
                props = self._request_json("GET", f"{self._root}/props", timeout=3.0)
                self._props = props if isinstance(props, dict) and "default_generation_settings" in props else {}
            except BackendError:
                self._props = {}
        return self._props

    def traits(self) -> ServerTraits:
        if self._traits is None:
            props = self._server_props()
            if props:
                dialect = "llama-server"
            elif self._vllm:
                dialect = "vllm"
            else:
                self.count_text("x")
                dialect = "llama-cpp-python" if self._tokenizer == "llama-cpp-python" else "other"
            chatml = False
            if self._tokenizer != "estimate":
                try:
                    chatml = all(self._count_exact(t) == 1 for t in ("<|im_start|>", "<think>", "</think>"))
                except BackendError:
                    chatml = False
            templated = False
            if props:  # llama-server renders with its own template (builds since early 2025)
                try:
                    probe = self._request_json("POST", f"{self._root}/apply-template",
                                               {"messages": [{"role": "user", "content": "x"}]}, 5.0)
                    templated = isinstance(probe.get("prompt"), str)
                except BackendError:
                    templated = False
            self._traits = ServerTraits(dialect, chatml, apply_template=templated)
        return self._traits

    @property
    def label(self) -> str:
        return f"Server: {self.base_url}"

    @property
    def n_ctx(self) -> int:
        if self._n_ctx is None:
            try:  # llama-server
                self._n_ctx = int(self._server_props()["default_generation_settings"]["n_ctx"])
            except (KeyError, TypeError, ValueError):
                self._n_ctx = DEFAULT_CTX
        return self._n_ctx

    # -- tokens -------------------------------------------------------------------------
    def _count_exact(self, text: str) -> int:
        """Tokens of `text` (special tokens read as such) by the server's own tokenizer."""
        attempts = [self._tokenizer] if self._tokenizer not in (None, "estimate") else ["llama-cpp-python", "llama-server"]
        for kind in attempts:
            try:
                if kind == "llama-cpp-python":
                    n = int(self._request_json("POST", f"{self._root}/extras/tokenize/count",
                                               {"input": text, "model": self.model or None}, TOKENIZE_TIMEOUT)["count"])
                else:
                    n = len(self._request_json("POST", f"{self._root}/tokenize", {"content": text},
                                               TOKENIZE_TIMEOUT)["tokens"])
                self._tokenizer = kind
                return n
            except ServerTimeout:
                # a stalled tokenizer is not asked again: counting runs before every reply, and
                # Stop cannot end a request that has not started streaming
                self._tokenizer = "estimate"
                raise
            except (BackendError, KeyError, TypeError, ValueError):
                continue
        raise BackendError("This server has no tokenizer endpoint")

    def count_text(self, text: str) -> int:
        if self._tokenizer != "estimate":
            try:
                return self._count_exact(text)
            except BackendError:
                self._tokenizer = "estimate"
        return max(1, round(len(text) / 3.5))  # servers without a tokenize endpoint (vLLM, Ollama)

    def count_tokens(self, messages: list[Message]) -> int:
        text = "".join(f"{m['role']}\n{m['content']}\n" for m in messages)
        return self.count_text(text) + 4 * len(messages) + 4  # chat-template markers

    def render(self, messages: list[Message]) -> str:
        """The prompt for `messages` ending in an open assistant turn: llama-server's own
        template where it has /apply-template, else ChatML (Qwen3's format) with <think>
        opened, as Gazal-R1's reasoning begins."""
        if self.traits().apply_template:
            try:
                return str(self._request_json("POST", f"{self._root}/apply-template", {"messages": messages})["prompt"])
            except (BackendError, KeyError, TypeError):
                pass
        return "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages) + \
            "<|im_start|>assistant\n<think>\n"

    # -- streaming ----------------------------------------------------------------------
    @property
    def supports_continue(self) -> bool:
        try:
            return self.traits().raw_prompts
        except BackendError:
            return False

    @property
    def continue_unavailable(self) -> str:
        return ("This server takes no raw prompt in the model's format (llama-server, or a Qwen3/ChatML "
                "model on llama-cpp-python's server or vLLM, does), so a stopped reply cannot be continued; "
                "Regenerate writes a new one.")

    def sampling_body(self, s: Sampling) -> dict:
        body: dict = {"model": self.model or "default", "stream": True, "temperature": s.temperature,
                      "top_p": s.top_p, "max_tokens": s.max_tokens}
        if s.top_k:
            body["top_k"] = s.top_k
        if s.min_p:
            body["min_p"] = s.min_p
        if s.repeat_penalty != 1.0:
            body["repeat_penalty"] = s.repeat_penalty
            body["repetition_penalty"] = s.repeat_penalty
        if s.seed is not None:
            body["seed"] = s.seed
        body.update(self.extra_body)
        return body

    def stream(self, messages: list[Message], sampling: Sampling, cancel: CancelToken | None = None,
               json_schema: dict | None = None, continue_from: tuple[str, str] | None = None) -> Iterator[Event]:
        """Stream a reply. With `json_schema` the server constrains the reply to it: the OpenAI
        `json_schema` response format (vLLM, llama-server) and, for servers that refuse that
        (llama-cpp-python's), `json_object` with the schema attached."""
        from gazal_desktop.core.backends.server_reply import ServerReply

        s = sampling.validated()
        estimate = self.count_tokens(messages)
        yield PromptStarted(estimate, 0)
        yield from ServerReply(self, messages, s, cancel or CancelToken(), estimate).run(json_schema, continue_from)

    def close(self) -> None:
        pass


DONE: dict = {"done": True}  # what sse() yields for "data: [DONE]": the server ended the stream itself


class NotAStream(Exception):
    """A 200 answer that was not a stream (a proxy's page, a plain-text error)."""


class ServerTimeout(BackendError):
    """A request that should take milliseconds did not answer in time."""


class ServerRefused(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail[:200]}")
        self.status, self.detail = status, detail


class ConnectionLost(Exception):
    """The line to the server dropped mid-reply (not Stop)."""


def error_text(detail: str) -> str:
    try:
        data = json.loads(detail)
        err = data.get("error", data) if isinstance(data, dict) else data
        if isinstance(err, dict):
            return str(err.get("message") or err.get("detail") or err)
        return str(err)
    except ValueError:
        return detail.strip()[:300]
