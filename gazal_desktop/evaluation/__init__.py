"""gazal-eval: medical multiple-choice evaluation of a local GGUF or a server (no Qt).

items.py reads MedQA, MedMCQA and MMLU-Pro JSONL (and the starter deck); extract.py finds
the chosen option in a reasoning model's answer; run.py runs, resumes and scores; cli.py is
the console script.
"""
