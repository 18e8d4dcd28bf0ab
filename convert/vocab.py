"""The Qwen2/Qwen3 byte-level BPE tokenizer, written the way llama.cpp reads it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gguf

from gazal_convert.checkpoint import read_json
from gazal_convert.errors import ConvertError

# The pre-tokenizer split of Qwen2/Qwen3 tokenizer.json files; llama.cpp implements
# exactly this as pre-tokenizer "qwen2". A different split would tokenize differently.
QWEN2_SPLIT = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)


class Qwen2Vocab:
    """tokenizer.json + tokenizer_config.json of a Qwen2/Qwen3 checkpoint."""

    def __init__(self, folder: Path, n_vocab: int) -> None:
        self.folder = folder
        tok = read_json(folder / "tokenizer.json", required=True, what="tokenizer")
        model = tok.get("model") if isinstance(tok, dict) else None
        if not isinstance(model, dict) or model.get("type") != "BPE" or not isinstance(model.get("vocab"), dict):
            raise ConvertError(f"{folder / 'tokenizer.json'} is not a byte-level BPE tokenizer")
        self._check_pre_tokenizer(tok.get("pre_tokenizer"))
        vocab: dict[str, int] = model["vocab"]
        added = tok.get("added_tokens") or []
        by_id: dict[int, tuple[str, gguf.TokenType]] = {
            i: (t, gguf.TokenType.NORMAL) for t, i in vocab.items()
        }
        for a in added:
            kind = gguf.TokenType.CONTROL if a.get("special") else gguf.TokenType.USER_DEFINED
            by_id[int(a["id"])] = (a["content"], kind)
        top = max(by_id) + 1
        if top > n_vocab:
            raise ConvertError(
                f"The tokenizer has ids up to {top - 1}, but config.json vocab_size is {n_vocab}: "
                "the embedding matrix would have no row for them"
            )
        self.n_tokenizer = len(by_id)
        self.tokens: list[str] = []
        self.types: list[int] = []
        for i in range(n_vocab):
            if i in by_id:
                text, kind = by_id[i]
            else:  # rows of the embedding the tokenizer never produces
                text, kind = f"[PAD{i}]", gguf.TokenType.UNUSED
            self.tokens.append(text)
            self.types.append(int(kind))
        self.n_vocab = n_vocab

    @staticmethod
    def _check_pre_tokenizer(pre: Any) -> None:
        patterns: list[str] = []

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                if node.get("type") == "Split":
                    pat = node.get("pattern", {})
                    patterns.append(pat.get("Regex") or pat.get("String") or "")
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)

        walk(pre)
        if patterns and QWEN2_SPLIT not in patterns:
            raise ConvertError(
                "tokenizer.json splits text with a pattern that is not Qwen2's; llama.cpp's "
                "'qwen2' pre-tokenizer would tokenize this model differently"
            )

    def add_to_gguf(self, w: gguf.GGUFWriter) -> None:
        w.add_tokenizer_model("gpt2")
        w.add_tokenizer_pre("qwen2")
        w.add_token_list(self.tokens)
        w.add_token_types(self.types)
        special = gguf.SpecialVocab(self.folder, load_merges=True, n_vocab=self.n_vocab)
        if not special.merges:
            raise ConvertError(f"{self.folder / 'tokenizer.json'} has no BPE merges")
        special.add_to_gguf(w, quiet=True)
        self.chat_template = special.chat_template
