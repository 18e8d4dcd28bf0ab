"""The interface every backend implements, and the stream it yields."""

from __future__ import annotations

from typing import Iterator, Protocol

from gazal_desktop.core.cancel import CancelToken
from gazal_desktop.core.events import Event
from gazal_desktop.core.sampling import Sampling

Message = dict  # {"role": "system" | "user" | "assistant", "content": str}


class BackendError(Exception):
    """A failure explained for a learner; `detail` holds the technical part."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail


class Backend(Protocol):
    name: str

    @property
    def label(self) -> str:
        """What the window shows for it: "Model: FILE.gguf", "Server: URL", "Demo (scripted)"."""

    @property
    def n_ctx(self) -> int: ...

    def count_tokens(self, messages: list[Message]) -> int:
        """Tokens of the rendered prompt (template and generation prompt included)."""

    # Whether a stopped reply can be continued (stream(..., continue_from=(reasoning, answer))).
    supports_continue: bool

    def stream(self, messages: list[Message], sampling: Sampling, cancel: CancelToken | None = None,
               json_schema: dict | None = None, continue_from: tuple[str, str] | None = None) -> Iterator[Event]:
        """Yield PromptStarted, Reasoning/AnswerDelta..., Usage, then exactly one Finished.

        With `json_schema`, the answer is constrained to JSON that the schema accepts (llama.cpp
        grammars locally, the server's structured output otherwise), with no reasoning."""

    def close(self) -> None: ...
