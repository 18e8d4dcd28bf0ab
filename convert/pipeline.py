"""Preflight and run a conversion: checkpoint -> GGUF (-> llama.cpp quantizer -> GGUF).

:func:`prepare` checks everything it can before a byte is written (architecture, files,
shapes, tokenizer, free disk, existing outputs); :func:`execute` writes through
temporaries beside the output and renames only on success.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import gguf

from gazal_convert import atomic
from gazal_convert.architectures import ModelConverter, converter_for
from gazal_convert.checkpoint import Checkpoint
from gazal_convert.errors import ConvertError
from gazal_convert.metadata import SourceInfo, add_general
from gazal_convert.progress import Progress
from gazal_convert.quants import QuantType, intermediate_for
from gazal_convert.sizes import human_bytes
from gazal_convert.vocab import Qwen2Vocab
from gazal_convert.writer import PlannedTensor, data_bytes, plan_streamed, plan_tensors, write_gguf

DISK_MARGIN = 64 * 1024 * 1024  # header, alignment and filesystem slack


@dataclass
class ConversionPlan:
    source: SourceInfo
    checkpoint: Checkpoint
    converter: ModelConverter
    vocab: Qwen2Vocab
    quant: QuantType
    output: Path
    # The GGUF written straight from the checkpoint: the output itself for direct types,
    # else the bf16/f16 file the quantizer reads.
    direct_type: QuantType
    direct_tensors: list[PlannedTensor]
    keep_intermediate: Path | None  # where the intermediate goes when it is kept
    output_estimate: int
    intermediate_bytes: int
    imatrix: dict | None = None  # per-column importance by tensor name (--imatrix)

    @property
    def needs_quantizer(self) -> bool:
        return self.direct_type is not self.quant

    @property
    def path_used(self) -> str:
        """Which path makes the output, in words (printed before the run)."""
        if not self.needs_quantizer:
            return (f"{self.quant.label}, quantized from the checkpoint by ggml (no intermediate file)"
                    if self.quant.streamed else self.quant.label)
        return f"{self.direct_type.label} intermediate, then {self.quant.label} by llama.cpp's quantizer"

    @property
    def disk_needed(self) -> int:
        return self.output_estimate + self.intermediate_bytes + DISK_MARGIN


def estimate_size(tensors: list[PlannedTensor] | None, quant: QuantType, shapes: list[tuple[int, ...]]) -> int:
    """Bytes of tensor data for `quant`: exact for direct types, from bits/weight otherwise."""
    if tensors is not None and quant.direct:
        return data_bytes(tensors)
    total = 0
    for shape in shapes:
        n = 1
        for d in shape:
            n *= d
        total += n * 4 if len(shape) == 1 else int(n * quant.bpw / 8)
    return total


def default_output_name(source: SourceInfo, quant: QuantType) -> str:
    return f"{source.model_name}-{quant.label}.gguf"


def prepare(
    source: SourceInfo,
    quant: QuantType,
    outfile: Path | None = None,
    outdir: Path | None = None,
    keep_intermediate: bool = False,
    force: bool = False,
    two_step: bool = False,
    imatrix: Path | None = None,
) -> ConversionPlan:
    """`two_step`: make a streamed mix through the intermediate GGUF and llama.cpp's quantizer
    anyway (to compare, or to keep the intermediate). `imatrix`: llama-imatrix's file, used by
    the mixes quantized here."""
    ckpt = Checkpoint.open(source.folder)
    conv = converter_for(ckpt)
    tensors = conv.output_tensors()
    vocab = Qwen2Vocab(ckpt.path, conv.vocab_size)

    output = outfile if outfile is not None else (outdir or Path.cwd()) / default_output_name(source, quant)
    output = output.expanduser().absolute()
    if output.suffix != ".gguf":
        raise ConvertError(f"The output should end in .gguf: {output}")
    if output.is_dir():
        raise ConvertError(f"{output} is a folder; use --outdir for a folder or --outfile for a file")
    if not output.parent.is_dir():
        raise ConvertError(f"Output folder does not exist: {output.parent}")

    streamed = quant.streamed and not two_step and not keep_intermediate
    importance = None
    if imatrix is not None:
        if not streamed:
            raise ConvertError(f"--imatrix works when gazal-convert quantizes from the checkpoint, not with "
                               f"--two-step or --keep-intermediate (llama.cpp's quantizer takes the matrix only from "
                               f"C++), and not for {quant.name}: drop those options, or use llama.cpp's "
                               f"llama-quantize --imatrix on a bf16 GGUF.")
        from gazal_convert.direct_quant import load_imatrix

        importance = load_imatrix(imatrix)
    if streamed:
        direct_type = quant
        planned = plan_streamed(tensors, quant, intermediate_for(ckpt.dtypes), conv.n_layers,
                                conv.n_head // max(1, conv.n_head_kv), importance is not None)
    else:
        direct_type = quant if quant.direct else intermediate_for(ckpt.dtypes)
        planned = plan_tensors(tensors, direct_type)
    shapes = [t.source.shape for t in tensors]
    out_est = data_bytes(planned) if streamed else estimate_size(planned, quant, shapes)
    inter_bytes = 0 if quant.direct or streamed else data_bytes(planned)

    kept = None
    if keep_intermediate and not quant.direct:
        kept = output.with_name(f"{source.model_name}-{direct_type.label}.gguf")
    for target in filter(None, [output, kept]):
        if target.exists() and not force:
            raise ConvertError(f"{target} already exists. Use --force to replace it.")

    plan = ConversionPlan(source, ckpt, conv, vocab, quant, output, direct_type, planned, kept, out_est, inter_bytes,
                          importance)
    free = shutil.disk_usage(output.parent).free
    if plan.disk_needed > free:
        parts = f"output ~{human_bytes(out_est)}"
        if inter_bytes:
            parts = f"intermediate {direct_type.label} {human_bytes(inter_bytes)} + " + parts
        raise ConvertError(
            f"Not enough free disk in {output.parent}: need {human_bytes(plan.disk_needed)} "
            f"({parts}), {human_bytes(free)} free."
        )
    return plan


def execute(plan: ConversionPlan, threads: int, progress: Progress) -> Path:
    """Run a prepared plan. On any failure or Ctrl-C, every temporary is removed."""
    atomic.remove_stale_temps(plan.output)
    if plan.keep_intermediate:
        atomic.remove_stale_temps(plan.keep_intermediate)
    out_tmp = atomic.temp_path_for(plan.output)
    inter_final = plan.keep_intermediate
    inter_tmp = None
    if plan.needs_quantizer:
        inter_tmp = atomic.temp_path_for(inter_final or plan.output.with_name(plan.output.stem + ".intermediate.gguf"))
    try:
        direct_path = inter_tmp if inter_tmp is not None else out_tmp
        _write_direct(plan, direct_path, threads, progress)
        if inter_tmp is None:
            atomic.commit(out_tmp, plan.output)
            return plan.output
        from gazal_convert.quantize import quantize_gguf

        sizes = {p.name: p.nbytes for p in plan.direct_tensors}
        quantize_gguf(inter_tmp, out_tmp, plan.quant, sizes, threads, progress)
        atomic.commit(out_tmp, plan.output)
        if inter_final is not None:
            atomic.commit(inter_tmp, inter_final)
            inter_tmp = None
        return plan.output
    except OSError as exc:
        raise atomic.disk_full_error(plan.output, exc) from None
    finally:
        atomic.discard(out_tmp)
        atomic.discard(inter_tmp)


def _write_direct(plan: ConversionPlan, path: Path, threads: int, progress: Progress) -> None:
    conv, vocab = plan.converter, plan.vocab

    def add_metadata(w: gguf.GGUFWriter) -> None:
        add_general(w, plan.source, plan.direct_type.ftype, plan.checkpoint.generation_config)
        conv.add_hparams(w)
        vocab.add_to_gguf(w)

    write_gguf(path, conv.gguf_arch, plan.direct_tensors, add_metadata, progress, threads, plan.imatrix)
