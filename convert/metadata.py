"""general.* metadata: name, license, base model, source, sampling defaults, the note."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gguf

from gazal_desktop import __version__
from gazal_desktop.safety import MODEL_NOTE


@dataclass(frozen=True)
class SourceInfo:
    folder: Path
    repo_id: str | None = None
    revision: str | None = None

    @property
    def model_name(self) -> str:
        if self.repo_id:
            return self.repo_id.split("/")[-1]
        return self.folder.resolve().name


def read_model_card(folder: Path) -> dict[str, Any]:
    """YAML front matter of README.md (license, base_model...), or {}."""
    readme = folder / "README.md"
    if not readme.is_file():
        return {}
    try:
        from huggingface_hub.repocard import metadata_load

        return metadata_load(readme) or {}
    except Exception:  # a malformed card must not stop a conversion
        return {}


def add_general(w: gguf.GGUFWriter, source: SourceInfo, file_type: int, generation: dict[str, Any]) -> None:
    card = read_model_card(source.folder)
    w.add_type(gguf.GGUFType.MODEL)
    w.add_name(source.model_name)
    w.add_description(MODEL_NOTE)
    w.add_quantized_by(f"gazal-convert {__version__}")
    if isinstance(card.get("license"), str):
        w.add_license(card["license"])
    if source.repo_id:
        w.add_source_repo_url(f"https://huggingface.co/{source.repo_id}")
        w.add_source_url(f"https://huggingface.co/{source.repo_id}")
    bases = card.get("base_model")
    if isinstance(bases, str):
        bases = [bases]
    if isinstance(bases, list) and bases:
        w.add_base_model_count(len(bases))
        for i, base in enumerate(bases):
            base = str(base)
            w.add_base_model_name(i, base.split("/")[-1])
            if "/" in base:
                w.add_base_model_organization(i, base.split("/")[0])
                w.add_base_model_repo_url(i, f"https://huggingface.co/{base}")
    tags = card.get("tags")
    if isinstance(tags, list) and tags:
        w.add_tags([str(t) for t in tags])
    w.add_file_type(int(file_type))
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    add_sampling_defaults(w, generation)


def add_sampling_defaults(w: gguf.GGUFWriter, generation: dict[str, Any]) -> None:
    """generation_config.json's sampling, as llama.cpp's general.sampling.* keys."""
    if not generation.get("do_sample", True):
        return
    if isinstance(generation.get("temperature"), (int, float)):
        w.add_sampling_temp(float(generation["temperature"]))
    if isinstance(generation.get("top_p"), (int, float)):
        w.add_sampling_top_p(float(generation["top_p"]))
    if isinstance(generation.get("top_k"), int):
        w.add_sampling_top_k(int(generation["top_k"]))
    if isinstance(generation.get("min_p"), (int, float)):
        w.add_sampling_min_p(float(generation["min_p"]))
    if isinstance(generation.get("repetition_penalty"), (int, float)):
        w.add_sampling_penalty_repeat(float(generation["repetition_penalty"]))
