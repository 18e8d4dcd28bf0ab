"""Everything that depends on llama-cpp-python's internals, fenced in one place.

llama-cpp-python is pinned below its next minor version (pyproject.toml) because each item
here reaches past its public API; each says why. A new version is taken by running the suite,
tests/gpu included on a GPU build, and reading this file against the new source.
"""

from __future__ import annotations

import contextlib
import ctypes
import threading
from typing import Callable

import numpy as np

from gazal_desktop.core.cancel import CancelToken

_LOAD_LOCK = threading.Lock()


class GrammarDecoder:
    """UTF-8 decoding that agrees with llama.cpp's grammar about what one character is.

    The grammar takes a lead byte's length at face value, so a model with odd weights can emit
    a byte sequence that the grammar counts as one character but Python's decoder turns into
    several replacement characters (and a string over its maxLength). Here each such sequence
    becomes exactly one U+FFFD, so the output keeps the lengths the schema set.
    """

    _LEN = [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4]  # by the lead byte's high nibble

    def __init__(self) -> None:
        self.pending = b""

    def decode(self, data: bytes, final: bool = False) -> str:
        buf, out, i = self.pending + data, [], 0
        while i < len(buf):
            n = self._LEN[buf[i] >> 4]
            if i + n > len(buf):
                if not final:
                    break
                n = len(buf) - i
            try:
                out.append(buf[i:i + n].decode("utf-8"))
            except UnicodeDecodeError:
                out.append("\ufffd")
            i += n
        self.pending = buf[i:]
        return "".join(out)


class AbortSwitch:
    """llama.cpp asks this between graph nodes whether to abort the running decode.

    Stop then interrupts even a long prompt batch within milliseconds (CPU backend),
    without slicing the prompt into small, slow batches.
    """

    def __init__(self) -> None:
        import llama_cpp

        self.cancel: CancelToken | None = None
        self.c_callback = llama_cpp.ggml_abort_callback(self._check)

    def _check(self, _data) -> bool:
        c = self.cancel
        return bool(c is not None and c.cancelled)


@contextlib.contextmanager
def patched_defaults(progress: Callable[[float], bool], abort: AbortSwitch, auto_flash: bool = False):
    """llama-cpp-python has no arguments for load progress or decode abort; set llama.cpp's
    callbacks on the default params it starts from, for the duration of one load."""
    import llama_cpp
    import llama_cpp.llama as llama_mod

    module = llama_mod.llama_cpp
    model_defaults = module.llama_model_default_params
    context_defaults = module.llama_context_default_params

    def cb(value: float, _user) -> bool:
        try:
            return bool(progress(float(value)))
        except Exception:
            return True

    c_progress = llama_cpp.llama_progress_callback(cb)

    def patched_model():
        params = model_defaults()
        params.progress_callback = c_progress
        return params

    def patched_context():
        params = context_defaults()
        params.abort_callback = abort.c_callback
        return params

    # llama-cpp-python maps flash_attn=False to llama.cpp's "disabled"; for "auto" it is read
    # as llama.cpp's own auto value during this one load.
    disabled = getattr(module, "LLAMA_FLASH_ATTN_TYPE_DISABLED", None)
    auto = getattr(module, "LLAMA_FLASH_ATTN_TYPE_AUTO", None)
    with _LOAD_LOCK:
        module.llama_model_default_params = patched_model
        module.llama_context_default_params = patched_context
        if auto_flash and disabled is not None and auto is not None:
            module.LLAMA_FLASH_ATTN_TYPE_DISABLED = auto
        try:
            yield
        finally:
            module.llama_model_default_params = model_defaults
            module.llama_context_default_params = context_defaults
            if disabled is not None:
                module.LLAMA_FLASH_ATTN_TYPE_DISABLED = disabled


class VocabInfo:
    """What the backend needs of the model's vocabulary.

    `llm._model` (llama-cpp-python's LlamaModel) is private: there is no public way to the
    special tokens' text, add_bos, or the end-of-generation test. `piece` calls
    llama_token_to_piece itself because llama-cpp-python's helper pads its output to 32 bytes
    with NULs and drops longer pieces.
    """

    def __init__(self, llm) -> None:
        import llama_cpp

        model = llm._model
        eos, bos = model.token_eos(), model.token_bos()
        self.eos_text = model.token_get_text(eos) if eos >= 0 else ""
        self.bos_text = model.token_get_text(bos) if bos >= 0 else ""
        self.add_bos = bool(model.add_bos_token())
        self._vocab = model.vocab
        self._eog = llama_cpp.llama_vocab_is_eog
        self._to_piece = llama_cpp.llama_token_to_piece
        self._buf = ctypes.create_string_buffer(256)

    def is_eog(self, token: int) -> bool:
        return bool(self._eog(self._vocab, token))

    def piece(self, token: int) -> bytes:
        """A token's bytes."""
        buf = self._buf
        n = self._to_piece(self._vocab, token, buf, len(buf), 0, False)
        if n < 0:  # longer than the buffer: grow and retry
            self._buf = buf = ctypes.create_string_buffer(-n)
            n = self._to_piece(self._vocab, token, buf, len(buf), 0, False)
        return buf.raw[:n]


def reuse_prefix(llm, tokens: list[int]) -> int:
    """Keep the KV cache for the longest common prefix with what it holds; drop the rest.

    llama-cpp-python keeps the evaluated tokens in the private `_input_ids`/`n_tokens` and the
    context in `_ctx`; its own prefix reuse (in generate) cannot be told to stop before the
    last token or to drop a suffix, which reading a finished exchange ahead of time needs.
    """
    held = llm.n_tokens
    limit = min(held, len(tokens) - 1)  # always re-read at least one token for fresh logits
    differ = np.flatnonzero(llm._input_ids[:limit] != np.asarray(tokens[:limit]))
    common = int(differ[0]) if differ.size else limit
    if common < held:
        if not llm._ctx.kv_cache_seq_rm(-1, common, -1):
            llm.reset()
            common = 0
        llm.n_tokens = common
    return common
