"""A GGUF's chat template, rendered within limits.

A template is a program that comes with the model file. llama-cpp-python runs it in Jinja's
sandbox, which stops it reading files but not from looping for ever or building a string of
many gigabytes: one such template hung every reply (and Stop could not end it), another
exhausted memory. So:

* On load, `check_template` renders a small conversation in a separate process with a time
  limit and a memory limit, and the model is refused with a clear message if it fails. That
  process is killed when it runs over; the app never waits on a template it cannot stop.
* Each render after that runs in `BoundedFormatter`: its sandbox checks a deadline, the
  learner's Stop and the output's size at every call, output and repeat (`*`, `**`, `+`),
  and a prompt longer than MAX_PROMPT_CHARS_PER_TOKEN characters per context token is
  refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
import time

from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

CHECK_SECONDS = 10.0  # a template that takes longer than this on four short messages is refused
CHECK_MEMORY = 1024 * 1024 * 1024  # the check process's address-space limit (where the OS has one)
RENDER_SECONDS = 10.0
MAX_PROMPT_CHARS_PER_TOKEN = 16  # no tokenizer turns more than this many characters into one token
MAX_PIECE = 8 * 1024 * 1024  # the longest string or list one repeat or join may build
SAMPLE = [
    {"role": "system", "content": "You are a clinical reasoning tutor. Educational use only."},
    {"role": "user", "content": "A 58-year-old man has crushing chest pain for 40 minutes. What is the next step?"},
    {"role": "assistant", "content": "Obtain a 12-lead ECG within 10 minutes of arrival."},
    {"role": "user", "content": "The ECG shows ST elevation in II, III and aVF. Which artery?"},
]


class TemplateError(Exception):
    """The model's chat template failed its check or a render, in words."""


class TemplateLimit(SecurityError):
    pass


_limits = threading.local()


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox with a deadline, a cancel check and size limits."""

    intercepted_binops = frozenset({"*", "**", "+"})

    def _tick(self) -> None:
        deadline = getattr(_limits, "deadline", None)
        if deadline is not None and time.monotonic() > deadline:
            raise TemplateLimit("the chat template ran past its time limit")
        cancel = getattr(_limits, "cancel", None)
        if cancel is not None and cancel.cancelled:
            raise TemplateLimit("stopped")

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 (Jinja's signature)
        __self._tick()
        return super().call(__context, __obj, *args, **kwargs)

    def call_binop(self, context, operator, left, right):
        self._tick()
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > MAX_PIECE:
                    raise TemplateLimit("the chat template builds a string too large to be a prompt")
        elif operator == "**":
            if isinstance(right, int) and abs(right) > 4096:
                raise TemplateLimit("the chat template computes a number too large")
        elif operator == "+":
            if isinstance(left, (str, list)) and isinstance(right, (str, list)) and len(left) + len(right) > MAX_PIECE:
                raise TemplateLimit("the chat template builds a string too large to be a prompt")
        return super().call_binop(context, operator, left, right)


def _finalize(value):
    _tick_output(value)
    return value


def _tick_output(value) -> None:
    budget = getattr(_limits, "chars_left", None)
    if budget is None:
        return
    n = len(value) if isinstance(value, str) else 16
    _limits.chars_left = budget - n
    if _limits.chars_left < 0:
        raise TemplateLimit("the chat template's output is longer than any prompt this model can read")
    deadline = getattr(_limits, "deadline", None)
    if deadline is not None and time.monotonic() > deadline:
        raise TemplateLimit("the chat template ran past its time limit")


def bounded_formatter(template: str, eos: str, bos: str, add_generation_prompt: bool = True):
    """llama-cpp-python's Jinja2ChatFormatter (its extensions and filters, so prompts are the
    same) with its environment rebuilt on BoundedSandbox."""
    import jinja2
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    fmt = Jinja2ChatFormatter(template, eos_token=eos, bos_token=bos, add_generation_prompt=add_generation_prompt)
    env = BoundedSandbox(loader=jinja2.BaseLoader(), trim_blocks=True, lstrip_blocks=True, finalize=_finalize,
                         extensions=[Jinja2ChatFormatter.IgnoreGenerationTags, jinja2.ext.loopcontrols])
    env.filters["tojson"] = fmt.tojson
    fmt._environment = env.from_string(template)
    return fmt


def prompt_limit(n_ctx: int, messages) -> int:
    """The longest prompt a template may make: what the context could hold, or a few times
    what it was given (a too-long message is the context check's to report, not this)."""
    given = sum(len(str(m.get("content") or "")) for m in messages)
    return max(n_ctx * MAX_PROMPT_CHARS_PER_TOKEN, 4 * given) + 65536


def render_bounded(formatter, messages, max_chars: int, cancel=None, seconds: float = RENDER_SECONDS) -> str:
    """formatter(messages=...).prompt within a deadline, the learner's Stop and `max_chars`."""
    _limits.deadline = time.monotonic() + seconds
    _limits.cancel = cancel
    _limits.chars_left = max_chars
    try:
        prompt = formatter(messages=messages).prompt
    except TemplateLimit as exc:
        raise TemplateError(f"The model's chat template could not build the prompt: {exc}.") from None
    except MemoryError:
        raise TemplateError("The model's chat template ran out of memory building the prompt.") from None
    finally:
        _limits.deadline = _limits.cancel = _limits.chars_left = None
    if len(prompt) > max_chars:
        raise TemplateError("The model's chat template made a prompt longer than any this model can read.")
    return prompt


# -- the check on load, in its own process ----------------------------------------------------
def _child_command() -> list[str]:
    if getattr(sys, "frozen", False):  # the bundled app: its own executable has the switch
        return [sys.executable, "--check-template"]
    return [sys.executable, "-m", "gazal_desktop.core.backends.chat_template"]


def check_template(template: str, eos: str, bos: str, seconds: float | None = None) -> None:
    """Render SAMPLE with the model's template in a separate, killable process with a time and
    a memory limit. Raises TemplateError saying what went wrong."""
    key = hashlib.sha256(f"{template}\0{eos}\0{bos}".encode()).hexdigest()
    if key in _PASSED:
        return  # the same template already passed in this run (every model of a family shares it)
    seconds = CHECK_SECONDS if seconds is None else seconds
    request = json.dumps({"template": template, "eos": eos, "bos": bos})
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    try:
        res = subprocess.run(_child_command(), input=request, capture_output=True, text=True, encoding="utf-8",
                             timeout=seconds, env=env)
    except subprocess.TimeoutExpired:
        raise TemplateError(f"The model's chat template did not finish a four-message conversation in {seconds:.0f} s "
                            "(a loop that does not end?). This model file cannot be used safely; convert it "
                            "again with gazal-convert or use another file.") from None
    out = res.stdout.strip().splitlines()[-1:] if res.stdout.strip() else []
    try:
        verdict = json.loads(out[0]) if out else {}
    except ValueError:
        verdict = {}
    if res.returncode != 0 or not verdict.get("ok"):
        why = verdict.get("error") or (res.stderr.strip().splitlines() or ["it stopped"])[-1]
        if res.returncode < 0 or "MemoryError" in why:
            why = "it ran out of memory"
        raise TemplateError(f"The model's chat template failed on a four-message conversation ({why}). This model "
                            "file cannot be used safely; convert it again with gazal-convert or use another file.")
    _PASSED.add(key)


_PASSED: set[str] = set()


def _child_main() -> int:
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (CHECK_MEMORY, CHECK_MEMORY))
    except (ImportError, ValueError, OSError):
        pass  # Windows: the time limit still holds
    req = json.loads(sys.stdin.read())
    try:
        fmt = bounded_formatter(req["template"], req["eos"], req["bos"])
        prompt = render_bounded(fmt, SAMPLE, max_chars=MAX_PIECE, seconds=CHECK_SECONDS)
        ok = SAMPLE[-1]["content"] in prompt
        print(json.dumps({"ok": ok, "chars": len(prompt),
                          "error": "" if ok else "the last message is missing from the prompt it makes"}))
    except MemoryError:
        print(json.dumps({"ok": False, "error": "it ran out of memory"}))
    except Exception as exc:  # the verdict names any failure; the parent decides
        print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}))
    return 0


if __name__ == "__main__":
    sys.exit(_child_main())
