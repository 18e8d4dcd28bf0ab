"""Reading a GGUF's header without loading it: what the app and `inspect` both need.

Shared by gazal-convert inspect and the desktop app's core (model registry, fit estimate,
loader), so core depends on this small module rather than on the inspect command.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gazal_convert.errors import ConvertError
from gazal_convert.sizes import human_bytes

GGUF_MAGIC = b"GGUF"


@dataclass
class GGUFSummary:
    path: Path
    file_size: int
    version: int
    metadata: dict[str, Any]
    tensor_types: Counter = field(default_factory=Counter)
    tensor_type_bytes: Counter = field(default_factory=Counter)
    tensors: dict[str, str] = field(default_factory=dict)  # name -> type
    n_params: int = 0
    n_tokens: int = 0
    n_merges: int = 0

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture", "?"))


def _field_value(f: Any) -> Any:
    import gguf

    types = f.types
    if not types:
        return None
    if types[0] == gguf.GGUFValueType.ARRAY:
        n = len(f.data)
        if len(types) > 1 and types[1] == gguf.GGUFValueType.STRING:
            if n > 16:
                return f"<{n} strings>"
        elif n > 16:
            return f"<{n} values>"
    return f.contents()


def read_summary(path: str | Path) -> GGUFSummary:
    """Parse a GGUF's header and tensor table; a clear ConvertError for bad files."""
    import gguf

    path = Path(path)
    if not path.is_file():
        raise ConvertError(f"No such file: {path}")
    size = path.stat().st_size
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic != GGUF_MAGIC:
        raise ConvertError(f"{path} is not a GGUF file (it does not start with 'GGUF')")
    try:
        reader = gguf.GGUFReader(path)
    except Exception as exc:  # the reader raises ValueError/IndexError/struct errors
        raise ConvertError(f"{path} is truncated or malformed: its header cannot be read ({exc})") from None
    meta: dict[str, Any] = {}
    for name, f in reader.fields.items():
        if name.startswith("GGUF."):
            continue
        try:
            meta[name] = _field_value(f)
        except Exception:
            meta[name] = "<unreadable>"
    summary = GGUFSummary(path, size, int(reader.fields["GGUF.version"].parts[-1][0]), meta)
    for key, attr in (("tokenizer.ggml.tokens", "n_tokens"), ("tokenizer.ggml.merges", "n_merges")):
        if key in reader.fields:
            setattr(summary, attr, len(reader.fields[key].data))
    for t in reader.tensors:
        end = t.data_offset + t.n_bytes
        if end > size:
            raise ConvertError(
                f"{path} is truncated: tensor {t.name} needs {human_bytes(end - size)} more than the "
                f"file holds ({human_bytes(size)}). Convert or download it again."
            )
        tname = t.tensor_type.name
        summary.tensors[t.name] = tname
        summary.tensor_types[tname] += 1
        summary.tensor_type_bytes[tname] += int(t.n_bytes)
        summary.n_params += int(t.n_elements)
    if not reader.tensors:
        raise ConvertError(f"{path} holds no tensors: it is not a model")
    return summary
