"""Sampling settings and named presets the user can edit.

The model card's settings come first: temperature 0.7, top_p 0.8, top_k 20, up to 2048 new
tokens.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from gazal_desktop.core.atomic import write_text_atomic


@dataclass(frozen=True)
class Sampling:
    temperature: float = 0.7
    top_p: float = 0.8
    top_k: int = 20
    min_p: float = 0.0
    repeat_penalty: float = 1.0
    max_tokens: int = 2048
    seed: int | None = None
    # Tokens the model may spend reasoning before its <think> is closed for it (Qwen's closing
    # sentence and </think>, see core/budget.py). With a budget, max_tokens counts the answer
    # alone; 0 (budget.UNLIMITED): reasoning runs until only the answer's share of the context
    # is left; None: one max_tokens for reasoning and answer together.
    reasoning_budget: int | None = None

    def validated(self) -> "Sampling":
        problems = []
        if not 0 <= self.temperature <= 5:
            problems.append("temperature must be between 0 and 5")
        if not 0 < self.top_p <= 1:
            problems.append("top_p must be in (0, 1]")
        if self.top_k < 0:
            problems.append("top_k must be 0 (off) or more")
        if not 0 <= self.min_p < 1:
            problems.append("min_p must be in [0, 1)")
        if self.max_tokens < 1:
            problems.append("max_tokens must be at least 1")
        if self.reasoning_budget is not None and self.reasoning_budget < 0:
            problems.append("reasoning_budget must be 0 (unlimited), a positive number, or None (one limit for reasoning and answer)")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @classmethod
    def from_dict(cls, data: dict) -> "Sampling":
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known}).validated()


MODEL_CARD = "Gazal-R1 model card"

BUILTIN_PRESETS: dict[str, Sampling] = {
    # The model card's sampling; reasoning gets its own budget so the answer always arrives.
    MODEL_CARD: Sampling(reasoning_budget=4096),
    "Focused (lower temperature)": Sampling(temperature=0.3, top_p=0.8, top_k=20, reasoning_budget=4096),
    "Deterministic (greedy)": Sampling(temperature=0.0, top_p=1.0, top_k=1, seed=0, reasoning_budget=4096),
    "Short (model card: 2,048 tokens in all)": Sampling(),
    "Short answers": Sampling(max_tokens=768, reasoning_budget=1024),
    "Unlimited reasoning": Sampling(reasoning_budget=0),
}


class PresetStore:
    """Presets in a JSON file: built-ins first, then the user's; edits survive restarts."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._user: dict[str, Sampling] = {}
        if path.is_file():
            try:
                raw = json.loads(path.read_text(encoding="utf-8"))
                self._user = {name: Sampling.from_dict(d) for name, d in raw.get("presets", {}).items()}
            except (ValueError, TypeError, AttributeError):
                # A damaged file must not stop the app; keep it for the user to inspect.
                path.replace(path.with_suffix(".damaged.json"))
                self._user = {}

    def names(self) -> list[str]:
        return list(BUILTIN_PRESETS) + [n for n in self._user if n not in BUILTIN_PRESETS]

    def get(self, name: str) -> Sampling:
        if name in self._user:
            return self._user[name]
        return BUILTIN_PRESETS[name]

    def resolve(self, name: str | None) -> Sampling:
        """The preset called `name`; a name that no longer exists (deleted, renamed, from an
        older settings file) falls back to the first built-in, the model card's."""
        if name and name in self.names():
            return self.get(name)
        return self.get(self.names()[0])

    def is_modified(self, name: str) -> bool:
        return name in BUILTIN_PRESETS and name in self._user

    def save(self, name: str, sampling: Sampling) -> None:
        if not name.strip():
            raise ValueError("a preset needs a name")
        self._user[name] = sampling.validated()
        self._write()

    def delete(self, name: str) -> None:
        """Delete a user preset, or reset an edited built-in to its default."""
        self._user.pop(name, None)
        self._write()

    def _write(self) -> None:
        data = {"presets": {n: asdict(s) for n, s in self._user.items()}}
        write_text_atomic(self.path, json.dumps(data, indent=2))


__all__ = ["Sampling", "PresetStore", "BUILTIN_PRESETS", "MODEL_CARD"]
