"""Model converters, registered by the Hugging Face architecture name.

A converter checks a checkpoint against its config (names, shapes), maps tensor names
to GGUF names and writes the architecture's hyperparameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import gguf

from gazal_convert.checkpoint import Checkpoint, TensorSource
from gazal_convert.errors import ConvertError

_REGISTRY: dict[str, type["ModelConverter"]] = {}


def register(*hf_names: str) -> Callable[[type["ModelConverter"]], type["ModelConverter"]]:
    def wrap(cls: type[ModelConverter]) -> type[ModelConverter]:
        for n in hf_names:
            _REGISTRY[n] = cls
        return cls

    return wrap


def supported_architectures() -> list[str]:
    return sorted(_REGISTRY)


def converter_for(checkpoint: Checkpoint) -> "ModelConverter":
    archs = checkpoint.config.get("architectures") or []
    name = archs[0] if archs else checkpoint.config.get("model_type", "<none given>")
    cls = _REGISTRY.get(name)
    if cls is None:
        raise ConvertError(
            f"Unsupported architecture {name!r} in {checkpoint.path / 'config.json'}. "
            f"gazal-convert supports: {', '.join(supported_architectures())}."
        )
    return cls(checkpoint)


@dataclass(frozen=True)
class OutputTensor:
    """One tensor of the GGUF: its GGUF name and where its data comes from."""

    name: str
    source: TensorSource
    keep_f32: bool  # norms and other 1-D tensors stay F32 whatever the output type


class ModelConverter:
    gguf_arch: str = ""

    def __init__(self, checkpoint: Checkpoint) -> None:
        self.ckpt = checkpoint
        self.config = checkpoint.config

    def output_tensors(self) -> list[OutputTensor]:  # pragma: no cover - interface
        raise NotImplementedError

    def add_hparams(self, writer: gguf.GGUFWriter) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    # -- config helpers -------------------------------------------------------------
    def _int(self, key: str, default: int | None = None) -> int:
        value = self.config.get(key, default)
        if value is None:
            raise ConvertError(f"config.json has no {key!r}, which a {self.gguf_arch} model needs")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ConvertError(f"config.json: {key!r} should be a whole number, got {value!r}") from None


@dataclass(frozen=True)
class RopeConfig:
    theta: float
    scaling_type: str | None  # "yarn", "linear" or None
    factor: float | None
    original_context: int | None


def read_rope(config: dict[str, Any]) -> RopeConfig:
    """Rope settings from either checkpoint layout.

    transformers 4 writes ``rope_theta`` and ``rope_scaling`` at the top level;
    transformers 5 nests both in ``rope_parameters`` (``rope_type`` "default" = none).
    """
    params = config.get("rope_parameters")
    if isinstance(params, dict):
        theta = params.get("rope_theta", config.get("rope_theta"))
        scaling: dict[str, Any] | None = params
    else:
        theta = config.get("rope_theta")
        scaling = config.get("rope_scaling")
    if theta is None:
        theta = 10000.0  # the transformers default when a config leaves it out
    rtype = None
    factor = None
    orig = None
    if isinstance(scaling, dict):
        rtype = scaling.get("rope_type") or scaling.get("type")
        if rtype in (None, "default"):
            rtype = None
        else:
            if rtype not in ("yarn", "linear"):
                raise ConvertError(f"rope scaling type {rtype!r} is not supported (yarn and linear are)")
            factor = float(scaling.get("factor", 1.0))
            o = scaling.get("original_max_position_embeddings")
            orig = int(o) if o is not None else None
    return RopeConfig(float(theta), rtype, factor, orig)


@register("Qwen3ForCausalLM")
class Qwen3Converter(ModelConverter):
    gguf_arch = "qwen3"
    IGNORED = ("rotary_emb.inv_freq",)

    def __init__(self, checkpoint: Checkpoint) -> None:
        super().__init__(checkpoint)
        self.n_layers = self._int("num_hidden_layers")
        self.hidden = self._int("hidden_size")
        self.n_head = self._int("num_attention_heads")
        self.n_head_kv = self._int("num_key_value_heads", self.n_head)
        # Qwen3 sets head_dim explicitly (128 in Qwen3-32B, where hidden/heads would be 80).
        self.head_dim = self._int("head_dim", self.hidden // self.n_head)
        self.ffn = self._int("intermediate_size")
        self.vocab_size = self._int("vocab_size")
        self.ctx = self._int("max_position_embeddings", 40960)
        self.rms_eps = float(self.config.get("rms_norm_eps", 1e-6))
        self.tied = bool(self.config.get("tie_word_embeddings", False))
        self.rope = read_rope(self.config)
        self.name_map = gguf.get_tensor_name_map(gguf.MODEL_ARCH.QWEN3, self.n_layers)

    def expected_shapes(self) -> dict[str, tuple[int, ...]]:
        h, hd, ffn = self.hidden, self.head_dim, self.ffn
        shapes: dict[str, tuple[int, ...]] = {
            "model.embed_tokens.weight": (self.vocab_size, h),
            "model.norm.weight": (h,),
        }
        if not self.tied:
            shapes["lm_head.weight"] = (self.vocab_size, h)
        for i in range(self.n_layers):
            p = f"model.layers.{i}."
            shapes.update(
                {
                    p + "input_layernorm.weight": (h,),
                    p + "post_attention_layernorm.weight": (h,),
                    p + "self_attn.q_proj.weight": (self.n_head * hd, h),
                    p + "self_attn.k_proj.weight": (self.n_head_kv * hd, h),
                    p + "self_attn.v_proj.weight": (self.n_head_kv * hd, h),
                    p + "self_attn.o_proj.weight": (h, self.n_head * hd),
                    p + "self_attn.q_norm.weight": (hd,),
                    p + "self_attn.k_norm.weight": (hd,),
                    p + "mlp.gate_proj.weight": (ffn, h),
                    p + "mlp.up_proj.weight": (ffn, h),
                    p + "mlp.down_proj.weight": (h, ffn),
                }
            )
            if self.config.get("attention_bias"):
                shapes[p + "self_attn.q_proj.bias"] = (self.n_head * hd,)
                shapes[p + "self_attn.k_proj.bias"] = (self.n_head_kv * hd,)
                shapes[p + "self_attn.v_proj.bias"] = (self.n_head_kv * hd,)
        return shapes

    def output_tensors(self) -> list[OutputTensor]:
        tensors = self.ckpt.tensors
        expected = self.expected_shapes()
        missing = [n for n in expected if n not in tensors]
        if missing:
            hint = ""
            if missing == ["lm_head.weight"]:
                hint = " (config.json says tie_word_embeddings is false, so lm_head is needed)"
            raise ConvertError(
                f"The checkpoint is missing {len(missing)} tensor(s): {', '.join(missing[:4])}"
                + (" ..." if len(missing) > 4 else "")
                + hint
            )
        bad = [
            f"{n} is {list(tensors[n].shape)}, config.json implies {list(s)}"
            for n, s in expected.items()
            if tensors[n].shape != s
        ]
        if bad:
            raise ConvertError("Tensor shapes do not match config.json: " + "; ".join(bad[:3]))
        extra = [
            n
            for n in tensors
            if n not in expected
            and not n.endswith(self.IGNORED)
            and not (self.tied and n == "lm_head.weight")
        ]
        if extra:
            raise ConvertError(
                f"The checkpoint has {len(extra)} tensor(s) a Qwen3 model does not use "
                f"(e.g. {', '.join(extra[:3])}); is config.json from a different model?"
            )
        out = []
        for name in expected:  # a fixed, readable order: embeddings, norm, output, layers
            gguf_name = self.name_map.get_name(name, try_suffixes=(".weight", ".bias"))
            if gguf_name is None:  # pragma: no cover - the map covers every expected name
                raise ConvertError(f"No GGUF name for tensor {name}")
            src = tensors[name]
            out.append(OutputTensor(gguf_name, src, keep_f32=len(src.shape) == 1))
        return out

    def add_hparams(self, w: gguf.GGUFWriter) -> None:
        w.add_block_count(self.n_layers)
        w.add_context_length(self.ctx)
        w.add_embedding_length(self.hidden)
        w.add_feed_forward_length(self.ffn)
        w.add_head_count(self.n_head)
        w.add_head_count_kv(self.n_head_kv)
        w.add_key_length(self.head_dim)
        w.add_value_length(self.head_dim)
        w.add_rope_freq_base(self.rope.theta)
        w.add_layer_norm_rms_eps(self.rms_eps)
        if self.rope.scaling_type == "yarn":
            w.add_rope_scaling_type(gguf.RopeScalingType.YARN)
            w.add_rope_scaling_factor(self.rope.factor or 1.0)
            w.add_rope_scaling_orig_ctx_len(self.rope.original_context or self.ctx)
        elif self.rope.scaling_type == "linear":
            w.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
            w.add_rope_scaling_factor(self.rope.factor or 1.0)
