"""gazal-convert: Qwen3 checkpoints (safetensors) to GGUF, quantized with llama.cpp.

Installed as ``gazal_convert``. Plain Python: never imports Qt.
"""

from gazal_convert.errors import ConvertError

__all__ = ["ConvertError"]
