"""gazal-eval: medical MCQ accuracy of a local GGUF or an OpenAI-compatible server.

    gazal-eval medqa_test.jsonl --gguf Gazal-R1-32B-Q4_K_M.gguf --out runs/q4.jsonl
    gazal-eval --starter --server http://127.0.0.1:8080/v1 --greedy

Every response goes to the --out JSONL as it is made: run the same command again to resume,
and read the file to audit what the model said and which letter was read from it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gazal_desktop.evaluation.items import read_jsonl, starter_items
from gazal_desktop.evaluation.run import EvalError, read_results, report_text, run, sampling_for, summarize


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gazal-eval", description=__doc__.split("\n\n")[0])
    p.add_argument("items", nargs="?", help="JSONL in MedQA, MedMCQA or MMLU-Pro shape")
    p.add_argument("--starter", action="store_true", help="the 40 starter questions (a quick set)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--gguf", help="a local GGUF file (llama.cpp)")
    src.add_argument("--server", help="an OpenAI-compatible server, for example http://127.0.0.1:8080/v1")
    p.add_argument("--model", default="", help="the model name to ask the server for")
    p.add_argument("--out", help="results JSONL (default: beside the items, .results.jsonl)")
    p.add_argument("--greedy", action="store_true", help="greedy decoding instead of the model card's sampling")
    p.add_argument("--max-tokens", type=int, default=8192)
    p.add_argument("--reasoning-budget", type=int, default=6144, help="0: unlimited (default 6144)")
    p.add_argument("--limit", type=int, help="only the first N items")
    p.add_argument("--ctx", type=int, default=12288, help="context length for a local GGUF")
    p.add_argument("--threads", type=int, help="CPU threads for a local GGUF")
    p.add_argument("--gpu-layers", type=int, default=0, help="layers on the GPU for a local GGUF (-1: all)")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if bool(args.items) == bool(args.starter):
        print("gazal-eval: give a JSONL file of items or --starter (not both)", file=sys.stderr)
        return 2
    if args.starter:
        items, errors = starter_items(), []
    else:
        try:
            items, errors = read_jsonl(Path(args.items), args.limit)
        except OSError as e:
            print(f"gazal-eval: cannot read {args.items}: {e.strerror or e}", file=sys.stderr)
            return 2
    items = items[:args.limit] if args.limit else items
    for e in errors[:10]:
        print(f"skipped {e}", file=sys.stderr)
    if not items:
        print("gazal-eval: no items to run", file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else (Path("starter.results.jsonl") if args.starter
                                           else Path(args.items).with_suffix(".results.jsonl"))
    try:
        backend = _backend(args)
    except Exception as e:  # a missing file, a bad GGUF, a server that does not answer: said in words
        print(f"gazal-eval: {e}", file=sys.stderr)
        return 1
    sampling = sampling_for(args.greedy, args.max_tokens, args.reasoning_budget)

    def progress(k, n, rec):
        mark = "✓" if rec["correct"] else ("?" if rec["predicted"] is None else "✗")
        print(f"{k:>5}/{n}  {mark} {rec['id']}  read {rec['predicted'] or '-'}, key {rec['answer']}  "
              f"{rec['seconds']:.1f} s", file=sys.stderr, flush=True)

    stopped = None
    try:
        records = run(items, backend, out, sampling, progress)
    except KeyboardInterrupt:
        stopped = "Stopped: run the same command again to go on."
    except EvalError as e:
        stopped = f"{e}. What was answered is kept: run the same command again to go on."
    finally:
        close = getattr(backend, "close", None)
        if close:
            close()
    if stopped:
        done = read_results(out)
        records = {it.id: done[it.id] for it in items if it.id in done}
        print(stopped, file=sys.stderr)
    summary = summarize(records.values())
    if args.json:
        print(json.dumps({**summary.to_dict(), "items": len(items), "results": str(out)}, indent=1))
    else:
        print(report_text(summary, f"{len(records)} of {len(items)} items answered; accuracy"))
        print(f"Responses: {out}")
    return 0 if not stopped else 1


def _backend(args):
    if args.server:
        from gazal_desktop.core.backends.openai_compat import OpenAIBackend

        return OpenAIBackend(args.server, model=args.model)
    from gazal_desktop.core.backends.local import LocalBackend, LocalSettings

    return LocalBackend.load(args.gguf, LocalSettings(n_ctx=args.ctx, n_threads=args.threads,
                                                      n_gpu_layers=args.gpu_layers))


if __name__ == "__main__":
    sys.exit(main())
