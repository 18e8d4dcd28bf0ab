"""Read a Hugging Face checkpoint folder without loading its weights.

Only headers are parsed here: each tensor becomes a :class:`TensorSource` that knows the
file, byte offset, dtype and shape of its data, so the writer can stream it.
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gazal_convert.errors import ConvertError

# safetensors dtype -> bytes per element. Other dtypes (int8, fp8...) are not Qwen3 releases.
DTYPE_SIZES = {"BF16": 2, "F16": 2, "F32": 4}

INDEX_NAME = "model.safetensors.index.json"


@dataclass(frozen=True)
class TensorSource:
    name: str
    dtype: str
    shape: tuple[int, ...]
    path: Path
    offset: int  # absolute offset of the first byte in `path`
    nbytes: int

    @property
    def n_elements(self) -> int:
        return math.prod(self.shape)


@dataclass
class Checkpoint:
    """A checkpoint folder: parsed JSON files plus a table of tensors."""

    path: Path
    config: dict[str, Any]
    tensors: dict[str, TensorSource]
    generation_config: dict[str, Any] = field(default_factory=dict)
    tokenizer_config: dict[str, Any] = field(default_factory=dict)

    @property
    def total_bytes(self) -> int:
        return sum(t.nbytes for t in self.tensors.values())

    @property
    def dtypes(self) -> set[str]:
        return {t.dtype for t in self.tensors.values()}

    @classmethod
    def open(cls, path: str | Path) -> "Checkpoint":
        path = Path(path)
        if not path.is_dir():
            raise ConvertError(f"Checkpoint folder not found: {path}")
        config = read_json(path / "config.json", required=True, what="model config")
        if not isinstance(config, dict):
            raise ConvertError(f"{path / 'config.json'} is not a JSON object")
        tensors = read_tensor_table(path)
        gen = read_json(path / "generation_config.json", required=False, what="generation config") or {}
        tok_cfg = read_json(path / "tokenizer_config.json", required=False, what="tokenizer config") or {}
        return cls(path=path, config=config, tensors=tensors, generation_config=gen, tokenizer_config=tok_cfg)


def read_json(path: Path, *, required: bool, what: str) -> Any:
    if not path.is_file():
        if required:
            raise ConvertError(
                f"Missing {path.name} ({what}) in {path.parent}. "
                "Point gazal-convert at a Hugging Face checkpoint folder."
            )
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConvertError(f"{path} ({what}) is not valid JSON: {exc}") from None


def read_tensor_table(folder: Path) -> dict[str, TensorSource]:
    """Every tensor of the checkpoint, from the index (sharded) or the lone file(s)."""
    index_path = folder / INDEX_NAME
    if index_path.is_file():
        index = read_json(index_path, required=True, what="safetensors index")
        weight_map = index.get("weight_map") if isinstance(index, dict) else None
        if not isinstance(weight_map, dict) or not weight_map:
            raise ConvertError(f"{index_path} has no weight_map")
        shard_names = sorted(set(weight_map.values()))
        missing = [s for s in shard_names if not (folder / s).is_file()]
        if missing:
            raise ConvertError(
                f"{len(missing)} shard(s) listed in {INDEX_NAME} are missing from {folder}: "
                + ", ".join(missing[:5])
                + (" ..." if len(missing) > 5 else "")
                + ". An interrupted download? Fetch the checkpoint again."
            )
        shards = {name: read_safetensors_header(folder / name) for name in shard_names}
        table: dict[str, TensorSource] = {}
        for tensor_name, shard in weight_map.items():
            src = shards[shard].get(tensor_name)
            if src is None:
                raise ConvertError(
                    f"{INDEX_NAME} says {tensor_name} is in {shard}, but that file does not hold it"
                )
            table[tensor_name] = src
        return table

    files = sorted(folder.glob("*.safetensors"))
    if not files:
        others = [p.name for p in folder.iterdir() if p.suffix in (".bin", ".pt", ".pth", ".gguf")]
        hint = f" (found {', '.join(others[:3])}: only safetensors checkpoints are read)" if others else ""
        raise ConvertError(f"No .safetensors weights in {folder}{hint}")
    table = {}
    for f in files:
        for name, src in read_safetensors_header(f).items():
            if name in table:
                raise ConvertError(f"Tensor {name} appears in both {table[name].path.name} and {f.name}")
            table[name] = src
    return table


def read_safetensors_header(path: Path) -> dict[str, TensorSource]:
    """Parse one .safetensors header and check that every tensor's bytes are in the file."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            raise ConvertError(f"{path.name} is truncated ({size} bytes): not a safetensors file")
        (header_len,) = struct.unpack("<Q", head)
        if header_len > min(size - 8, 100 * 1024 * 1024):
            raise ConvertError(f"{path.name} is truncated or not a safetensors file (bad header length)")
        raw = fh.read(header_len)
    try:
        header = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ConvertError(f"{path.name} has a corrupt safetensors header") from None
    if not isinstance(header, dict):
        raise ConvertError(f"{path.name} has a corrupt safetensors header")
    data_start = 8 + header_len
    out: dict[str, TensorSource] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype = info["dtype"]
            shape = tuple(int(d) for d in info["shape"])
            begin, end = (int(x) for x in info["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise ConvertError(f"{path.name}: malformed header entry for {name}") from None
        if begin < 0 or end < begin or any(d < 0 for d in shape):
            raise ConvertError(
                f"{path.name}: tensor {name} has impossible data offsets {[begin, end]} or shape {list(shape)}: "
                "a corrupt or hand-edited header. Fetch the checkpoint again."
            )
        if dtype not in DTYPE_SIZES:
            raise ConvertError(
                f"{path.name}: tensor {name} is {dtype}; gazal-convert reads BF16, F16 and F32 checkpoints"
            )
        expected = math.prod(shape) * DTYPE_SIZES[dtype]
        if end - begin != expected:
            raise ConvertError(
                f"{path.name}: tensor {name} has shape {list(shape)} {dtype} ({expected} bytes) "
                f"but the header gives it {end - begin} bytes"
            )
        if data_start + end > size:
            short = data_start + end - size
            raise ConvertError(
                f"{path.name} is truncated: tensor {name} ends {short} bytes past the end of the file. "
                "An interrupted download? Fetch the checkpoint again."
            )
        out[name] = TensorSource(name, dtype, shape, path, data_start + begin, end - begin)
    return out
