"""Command line: ``gazal-convert [SOURCE] ...``, ``--list-quants`` and ``inspect FILE``."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

from gazal_convert.errors import ConvertError, Interrupted, describe_os_error
from gazal_convert.fetch import DEFAULT_REPO, is_repo_id, resolve_source
from gazal_convert.progress import BarProgress, JsonProgress, Progress
from gazal_convert.quants import DEFAULT_QUANT, QUANT_TYPES, get_quant
from gazal_convert.sizes import human_bytes

DESCRIPTION = """\
Convert a Qwen3 checkpoint (Hugging Face safetensors) to GGUF for llama.cpp and quantize it.
f32, f16, bf16 and q8_0 are written directly; q4_k_m and the other mixes are quantized from the
checkpoint by ggml with llama.cpp's per-tensor rules (no intermediate file); --two-step makes them
with llama.cpp's quantizer from a bf16/f16 intermediate GGUF instead. Outputs are written to a temporary file and
renamed only when complete.

Other commands:
  gazal-convert --list-quants [SOURCE]   output types, bits per weight, size for SOURCE
  gazal-convert inspect FILE.gguf         read a GGUF back and test-generate with llama.cpp
  gazal-convert report QUANT.gguf --reference REF.gguf
                                          what the quantization changed: KL divergence, same top
                                          token, perplexity, on a medical text
"""


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gazal-convert", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "source", nargs="?", default=DEFAULT_REPO,
        help=f"checkpoint folder or Hugging Face repo id (default: {DEFAULT_REPO})",
    )
    p.add_argument("--quant", default=DEFAULT_QUANT, metavar="TYPE",
                   help=f"output type (default: {DEFAULT_QUANT}); see --list-quants")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--outfile", type=Path, metavar="PATH", help="output .gguf file")
    out.add_argument("--outdir", type=Path, metavar="DIR",
                     help="output folder; the file is named MODEL-QUANT.gguf (default: current folder)")
    p.add_argument("--two-step", action="store_true",
                   help="make q4_k_m and the other mixes through a bf16/f16 intermediate GGUF and llama.cpp's "
                        "quantizer instead (the same tensors, more disk and memory)")
    p.add_argument("--imatrix", type=Path, metavar="FILE",
                   help="importance matrix from llama.cpp's llama-imatrix (.dat or .gguf) for the quantized tensors")
    p.add_argument("--keep-intermediate", action="store_true",
                   help="keep the bf16/f16 GGUF the quantizer started from, as MODEL-BF16.gguf beside the output")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1, metavar="N",
                   help="threads for converting and for llama.cpp's quantizer (default: all cores)")
    p.add_argument("--force", action="store_true", help="replace an existing output file")
    p.add_argument("--revision", metavar="REV", help="branch, tag or commit of a Hugging Face repo")
    p.add_argument("--progress", choices=["bar", "json", "none"], default="bar",
                   help="progress as terminal bars, JSON lines on stdout, or nothing (default: bar)")
    p.add_argument("--list-quants", action="store_true",
                   help="list output types with bits per weight, size for SOURCE and a quality note")
    return p


def build_inspect_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gazal-convert inspect",
        description="Read a GGUF back (architecture, sizes, tensor types, tokenizer, chat template), "
        "then load it in llama.cpp and generate a few tokens. Exits non-zero on a bad file.",
    )
    p.add_argument("file", type=Path, help="the .gguf file")
    p.add_argument("--no-load", action="store_true", help="only read the file; do not load it in llama.cpp")
    p.add_argument("--prompt", default="A 58-year-old man presents with crushing chest pain. The most likely",
                   help="prompt for the test generation")
    p.add_argument("--tokens", type=int, default=8, metavar="N", help="tokens to generate (default: 8)")
    p.add_argument("--gpu-layers", type=int, default=0, metavar="N",
                   help="layers to offload to the GPU for the test (default: 0, CPU)")
    p.add_argument("--template", action="store_true", help="print the whole chat template")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    return p


def build_report_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gazal-convert report",
        description="Measure what a quantization changed: both models read a medical text in windows; for each "
        "scored token, the KL divergence of the quantized model's next-token distribution from the reference's, "
        "whether both rank the same token first, and each model's perplexity. One model is loaded at a time. The "
        "report is saved beside QUANT.gguf, where the app shows it.",
    )
    p.add_argument("quant", type=Path, help="the quantized .gguf")
    p.add_argument("--reference", type=Path, required=True, help="the reference .gguf (bf16, f16 or q8_0)")
    p.add_argument("--text", type=Path, help="a UTF-8 text file (default: the bundled medical text)")
    p.add_argument("--ctx", type=int, default=512, help="tokens per window (default 512; half of each is scored)")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--gpu-layers", type=int, default=0, help="layers on the GPU (-1: all)")
    p.add_argument("--no-save", action="store_true", help="do not write FILE.gguf.fidelity.json")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    return p


def report_main(argv: list[str]) -> int:
    from gazal_convert.fidelity import report, save

    args = build_report_parser().parse_args(argv)
    if args.ctx < 16:
        raise ConvertError("--ctx must be at least 16")
    text = None
    if args.text is not None:
        try:
            text = args.text.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise ConvertError(f"{args.text} is not UTF-8 text") from None
    bars: dict[str, object] = {}

    def progress(stage: str, k: int, n: int) -> None:
        if args.json:
            return
        from tqdm import tqdm

        bar = bars.get(stage) or bars.setdefault(stage, tqdm(total=n, desc=f"{stage} model", unit="window",
                                                             file=sys.stderr, dynamic_ncols=True))
        bar.update(k - bar.n)
        if k == n:
            bar.close()

    rep = report(args.quant, args.reference, text, args.text.name if args.text else "", args.ctx, args.threads,
                 args.gpu_layers, progress)
    where = None if args.no_save else save(rep, args.quant)
    if args.json:
        print(json.dumps(rep.to_dict(), indent=1))
    else:
        print(f"{rep.quant} vs {rep.reference} on {rep.text} ({rep.tokens:,} tokens): {rep.summary()}")
        if where:
            print(f"Saved {where}")
    return 0


def _on_sigterm(signum, frame):  # the desktop app stops a background conversion this way
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if threading.current_thread() is not threading.main_thread():
        return _main(argv)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return _main(argv)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _main(argv: list[str]) -> int:
    if argv[:1] == ["inspect"]:
        return _run_guarded(lambda: inspect_main(argv[1:]), Progress())
    if argv[:1] == ["report"]:
        return _run_guarded(lambda: report_main(argv[1:]), Progress())
    args = build_parser().parse_args(argv)
    progress = {"bar": BarProgress, "json": JsonProgress, "none": Progress}[args.progress]()
    json_mode = args.progress == "json"
    if args.list_quants:
        return _run_guarded(lambda: list_quants(args.source, args.revision), progress, json_mode)
    return _run_guarded(lambda: convert_main(args, progress), progress, json_mode)


def _run_guarded(fn, progress: Progress, json_mode: bool = False) -> int:
    try:
        try:
            return fn()
        except OSError as exc:  # a read-only or vanished folder, a full disk outside the writer
            raise ConvertError(describe_os_error(exc)) from None
    except (ConvertError, KeyboardInterrupt) as exc:
        progress.finish()
        if isinstance(exc, KeyboardInterrupt):
            exc = Interrupted("Interrupted. No partial output was kept.")
        if json_mode:
            print(json.dumps({"event": "error", "message": str(exc), "exit_code": exc.exit_code}), flush=True)
        print(f"gazal-convert: error: {exc}", file=sys.stderr, flush=True)
        if any(t.name == "llama-quantize" and t.is_alive() for t in threading.enumerate()):
            # llama.cpp cannot be stopped mid-call; its temporary is already deleted.
            os._exit(exc.exit_code)
        return exc.exit_code


def convert_main(args: argparse.Namespace, progress: Progress) -> int:
    from gazal_convert.metadata import SourceInfo
    from gazal_convert.pipeline import execute, prepare

    quant = get_quant(args.quant)
    if args.threads < 1:
        raise ConvertError("--threads must be at least 1")
    if args.outdir is not None and not args.outdir.is_dir():
        raise ConvertError(f"--outdir {args.outdir} is not a folder")
    folder, repo = resolve_source(args.source, args.revision, progress)
    plan = prepare(
        SourceInfo(folder, repo, args.revision), quant, outfile=args.outfile, outdir=args.outdir,
        keep_intermediate=args.keep_intermediate, force=args.force, two_step=args.two_step, imatrix=args.imatrix,
    )
    c = plan.converter
    progress.message(
        f"{plan.source.model_name}: {c.gguf_arch}, {c.n_layers} layers, hidden {c.hidden}, head_dim {c.head_dim}, "
        f"{len(plan.direct_tensors)} tensors, {human_bytes(plan.checkpoint.total_bytes)} "
        f"{'/'.join(sorted(plan.checkpoint.dtypes))}"
    )
    progress.message(f"Writing {plan.output} ({plan.path_used}, ~{human_bytes(plan.output_estimate)})")
    out = execute(plan, args.threads, progress)
    size = out.stat().st_size
    if args.progress == "json":
        print(json.dumps({"event": "done", "output": str(out), "bytes": size}), flush=True)
    else:
        print(f"Wrote {out} ({human_bytes(size)})", file=sys.stderr)
        if plan.keep_intermediate:
            print(f"Kept {plan.keep_intermediate}", file=sys.stderr)
    return 0


def list_quants(source: str, revision: str | None) -> int:
    shapes, note = _source_shapes(source, revision)
    from gazal_convert.pipeline import estimate_size

    print(f"{'type':<8} {'bits/weight':>11} {'size':>10}  quality")
    for q in QUANT_TYPES.values():
        size = f"~{human_bytes(estimate_size(None, q, shapes))}" if shapes else "?"
        how = "" if q.direct else (" [quantized from the checkpoint]" if q.streamed else " [llama.cpp quantizer]")
        default = " (default)" if q.name == DEFAULT_QUANT else ""
        print(f"{q.name:<8} {q.bpw:>11.2f} {size:>10}  {q.note}{how}{default}")
    print(note)
    return 0


def _source_shapes(source: str, revision: str | None) -> tuple[list[tuple[int, ...]], str]:
    """Tensor shapes from the source's config.json alone (no weights are fetched)."""
    from gazal_convert.architectures import converter_for
    from gazal_convert.checkpoint import Checkpoint, read_json

    path = Path(source).expanduser()
    config_path = path / "config.json" if path.is_dir() else None
    if config_path is None and is_repo_id(source):
        try:
            from huggingface_hub import hf_hub_download

            config_path = Path(hf_hub_download(source, "config.json", revision=revision))
        except Exception as exc:
            return [], f"Sizes need {source}'s config.json, which could not be read: {type(exc).__name__}."
    if config_path is None or not config_path.is_file():
        return [], f"Sizes need a checkpoint folder or repo id; {source} is neither."
    config = read_json(config_path, required=True, what="model config")
    conv = converter_for(Checkpoint(config_path.parent, config, {}))
    shapes = list(conv.expected_shapes().values())
    n = sum(_prod(s) for s in shapes)
    return shapes, f"Sizes are for {source} ({n / 1e9:.2f} B parameters); llama.cpp mixes are estimates."


def _prod(shape: tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


def inspect_main(argv: list[str]) -> int:
    from gazal_convert.inspection import format_summary, load_and_generate, read_summary

    args = build_inspect_parser().parse_args(argv)
    summary = read_summary(args.file)
    if args.json:
        print(json.dumps({
            "file": str(summary.path), "bytes": summary.file_size, "architecture": summary.architecture,
            "n_params": summary.n_params, "tensor_types": dict(summary.tensor_types),
            "metadata": {k: v for k, v in summary.metadata.items() if isinstance(v, (str, int, float, bool))},
        }, indent=2))
    else:
        print(format_summary(summary, full_template=args.template))
    if args.no_load:
        return 0
    text, tps = load_and_generate(args.file, args.prompt, args.tokens, args.gpu_layers)
    print(f"\nllama.cpp loaded it and generated {args.tokens} tokens at {tps:.1f} tokens/s:", file=sys.stderr)
    print(f"  {args.prompt}{text}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
