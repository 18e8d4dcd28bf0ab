"""Moving cases in and out: JSON (full fidelity), Markdown, case packs, MedQA JSONL."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

from gazal_desktop.core.mcq_formats import parse_mcq
from gazal_desktop.library.cases import Case, CaseStore
from gazal_desktop.library.chats import ChatStore, Conversation, StoredMessage
from gazal_desktop.core.chat import STATUS_WORDS
from gazal_desktop.library.db import LibraryError
from gazal_desktop.safety import DISCLAIMER, DISCLAIMER_TITLE, DISCLAIMER_VERSION

EXPORT_FORMAT = "gazal-library-export"
PACK_FORMAT = "gazal-case-pack"


@dataclass
class ImportReport:
    added: int = 0
    updated: int = 0
    duplicates: list[str] = field(default_factory=list)  # titles skipped as already present
    errors: list[str] = field(default_factory=list)  # "line 12: ..." etc.

    def summary(self) -> str:
        parts = [f"{self.added} added"]
        if self.updated:
            parts.append(f"{self.updated} updated")
        if self.duplicates:
            parts.append(f"{len(self.duplicates)} already in the library")
        if self.errors:
            parts.append(f"{len(self.errors)} skipped with errors")
        return ", ".join(parts)


def _disclaimer_block() -> dict:
    return {"title": DISCLAIMER_TITLE, "text": DISCLAIMER, "version": DISCLAIMER_VERSION}


# -- JSON, full fidelity --------------------------------------------------------------------
def export_json(cases: CaseStore, chats: ChatStore, case_ids: list[int] | None = None) -> dict:
    """Cases with their conversations and messages, ids left out (they are local)."""
    selected = [cases.get(i) for i in case_ids] if case_ids else cases.list(include_deleted=True, sort="created")
    out = []
    for c in selected:
        d = c.to_dict()
        d.pop("id")
        convs = []
        for conv in chats.conversations(c.id):
            cd = asdict(conv)
            cd.pop("id"), cd.pop("case_id")
            msgs = []
            ids = {}
            for i, m in enumerate(chats.messages(conv.id)):
                ids[m.id] = i
                md = asdict(m)
                md.pop("conversation_id")
                md.pop("id")
                md.pop("uid")  # local identity: an import gives each message a new one
                md["replaces"] = ids.get(md.pop("replaces_id"))  # index within the conversation
                msgs.append(md)
            cd["messages"] = msgs
            convs.append(cd)
        d["conversations"] = convs
        out.append(d)
    return {"format": EXPORT_FORMAT, "version": 1, "disclaimer": _disclaimer_block(), "cases": out}


def import_json(cases: CaseStore, chats: ChatStore, data: dict) -> ImportReport:
    if not isinstance(data, dict) or data.get("format") != EXPORT_FORMAT:
        raise LibraryError("This file is not a Gazal Desktop library export")
    report = ImportReport()
    items = data.get("cases", [])
    if not isinstance(items, list):
        raise LibraryError("This export's 'cases' is not a list")
    for n, item in enumerate(items, 1):
        try:
            if not isinstance(item, dict):
                raise LibraryError(f"a case must be an object, not {type(item).__name__}")
            convs = item.get("conversations", [])
            if not isinstance(convs, list) or not all(isinstance(c, dict) and isinstance(c.get("messages", []), list)
                                                     and all(isinstance(m, dict) and m.get("role") in ("user", "assistant")
                                                             for m in c.get("messages", [])) for c in convs):
                raise LibraryError("its discussions are not in the export's shape")
            case = Case.from_dict({k: v for k, v in item.items() if k != "conversations"}).validated()
        except (LibraryError, TypeError) as exc:
            title = item.get("title") if isinstance(item, dict) and isinstance(item.get("title"), str) else ""
            report.errors.append(f"case {n}{f' ({title})' if title else ''}: {exc}")
            continue
        existing = cases.get_by_uid(case.uid) or cases.find_by_hash(case.content_hash())
        if existing is not None:
            report.duplicates.append(case.title)
            continue
        try:
            saved = cases.add(case)
        except LibraryError as exc:
            report.errors.append(f"{case.title or '(untitled)'}: {exc}")
            continue
        for cd in convs:
            msgs = cd.pop("messages", [])
            conv = chats.start(Conversation(saved.id, **{k: v for k, v in cd.items()
                                                        if k in ("title", "model_file", "quantization", "sampling")}))
            new_ids: list[int] = []
            for md in msgs:
                replaces = md.pop("replaces", None)
                m = chats.add_message(StoredMessage(
                    conv.id, md["role"], md.get("content", ""), md.get("reasoning", ""), md.get("steps", []),
                    md.get("stats", {}), md.get("status", "complete"),
                    new_ids[replaces] if isinstance(replaces, int) and replaces < len(new_ids) else None,
                    superseded=bool(md.get("superseded", False))))
                _restore_times(chats, "messages", m.id, md)
                new_ids.append(m.id)
            _restore_times(chats, "conversations", conv.id, cd)  # after the messages touched it
        report.added += 1
    return report


def _restore_times(chats: ChatStore, table: str, row_id: int, d: dict) -> None:
    if d.get("created_at") and d.get("updated_at"):
        with chats.lib.transaction():
            chats.conn.execute(f"UPDATE {table} SET created_at = ?, updated_at = ? WHERE id = ?",
                               (d["created_at"], d["updated_at"], row_id))


# -- Markdown ----------------------------------------------------------------------------------
def export_markdown(case: Case, conversations: list[tuple[Conversation, list[StoredMessage]]] = ()) -> str:
    lines = [f"# {case.title}", "", f"> **{DISCLAIMER_TITLE}.** Educational case vignette.", ""]
    meta = [x for x in (case.specialty, case.difficulty, ", ".join(case.tags)) if x]
    if meta:
        lines += [f"*{' · '.join(meta)}*", ""]
    lines += ["## Vignette", "", case.vignette.strip(), ""]
    if case.mcq_options:
        lines += ["## Question", "", case.mcq_question.strip() or "Choose the single best answer.", ""]
        lines += [f"{chr(65 + i)}. {opt}" for i, opt in enumerate(case.mcq_options)] + [""]
    key = [("Diagnosis", case.diagnosis), ("Key findings", case.key_findings), ("Management", case.management),
           ("Teaching points", case.teaching_points)]
    if any(v for _, v in key) or case.mcq_answer is not None:
        lines += ["## Answer key", ""]
        if case.mcq_options and case.mcq_answer is not None:
            lines += [f"**Answer:** {chr(65 + case.mcq_answer)}. {case.mcq_options[case.mcq_answer]}", ""]
            if case.mcq_explanations:
                lines += [f"- **{chr(65 + i)}.** {why.strip()}" for i, why in enumerate(case.mcq_explanations)
                          if why.strip()] + [""]
        lines += [f"**{k}:** {v.strip()}\n" for k, v in key if v.strip()]
    for conv, msgs in conversations:
        # The discussion as it reads: edited-away branches and earlier versions left out.
        replaced = {m.replaces_id for m in msgs if m.replaces_id is not None}
        msgs = [m for m in msgs if not m.superseded and m.id not in replaced]
        title = conv.title or f"Discussion ({conv.created_at[:10]})"
        lines += [f"## {title}", ""]
        if conv.model_file:
            lines += [f"*Model: {conv.model_file}{' (' + conv.quantization + ')' if conv.quantization else ''}*", ""]
        for m in msgs:
            who = "Learner" if m.role == "user" else "Gazal"
            status = f" *({STATUS_WORDS.get(m.status) or m.status})*" if m.status != "complete" else ""
            lines += [f"**{who}:**{status}", ""]
            if m.reasoning.strip():
                lines += ["<details><summary>Reasoning</summary>", "", m.reasoning.strip(), "", "</details>", ""]
            lines += [m.content.strip(), ""]
    if case.source:
        lines += [f"*Source: {case.source}*", ""]
    lines += ["---", "", f"**{DISCLAIMER_TITLE}.** {DISCLAIMER} (Disclaimer version {DISCLAIMER_VERSION}.)", ""]
    return "\n".join(lines)


# -- case packs ---------------------------------------------------------------------------------
def import_any(cases: CaseStore, chats: ChatStore, data) -> ImportReport:
    """What File ▸ Import reads: a case pack, or a library export (with its discussions), so
    that whatever the app exported can be imported again."""
    kind = data.get("format") if isinstance(data, dict) else None
    if kind == PACK_FORMAT:
        return import_pack(cases, data)
    if kind == EXPORT_FORMAT:
        return import_json(cases, chats, data)
    raise LibraryError("This file is neither a Gazal case pack nor a Gazal Desktop library export"
                       + (f" (its format is {str(kind)[:60]!r})." if kind else " (it has no 'format' field)."))


def export_pack(cases: list[Case], title: str, pack_id: str, release: int = 1) -> dict:
    items = []
    for c in cases:
        d = c.to_dict()
        for k in ("id", "created_at", "updated_at", "deleted_at", "origin", "origin_hash"):
            d.pop(k, None)
        items.append(d)
    return {"format": PACK_FORMAT, "version": 1, "pack": {"id": pack_id, "title": title, "release": release,
            "note": "Educational case vignettes. " + DISCLAIMER_TITLE + "."}, "disclaimer": _disclaimer_block(),
            "cases": items}


def import_pack(store: CaseStore, data: dict, origin: str = "pack") -> ImportReport:
    """Add a teacher's pack. Cases already present (same id, or the same content under a
    different id) are skipped. A newer release of a pack refreshes cases the learner has not
    edited and never touches ones they have."""
    if not isinstance(data, dict) or data.get("format") != PACK_FORMAT:
        raise LibraryError("This file is not a Gazal case pack")
    report = ImportReport()
    new_cases = []
    items = data.get("cases", [])
    if not isinstance(items, list):
        raise LibraryError("This pack's 'cases' is not a list")
    for n, item in enumerate(items, 1):
        try:
            case = replace(Case.from_dict(item), origin=origin, id=None, created_at="", updated_at="",
                           deleted_at=None).validated()
        except (TypeError, LibraryError) as exc:
            title = item.get("title") if isinstance(item, dict) and isinstance(item.get("title"), str) else ""
            report.errors.append(f"case {n}{f' ({title})' if title else ''}: {exc}")
            continue
        case.origin_hash = case.content_hash()
        existing = store.get_by_uid(case.uid)
        if existing is not None:
            if existing.content_hash() == case.origin_hash:
                report.duplicates.append(case.title)
            elif existing.origin_hash == existing.content_hash() and existing.deleted_at is None:
                store.update(replace(case, id=existing.id, created_at=existing.created_at))  # unedited: refresh
                report.updated += 1
            else:
                report.duplicates.append(case.title)  # the learner edited or deleted it: keep theirs
            continue
        if store.find_by_hash(case.origin_hash) is not None:
            report.duplicates.append(case.title)
            continue
        new_cases.append(case)
    report.added += store.add_many(new_cases)
    return report


# -- MedQA ---------------------------------------------------------------------------------------
_STEM = re.compile(r"(?s)^(.*?)([^.?!]*\?)\s*$")


IMPORT_BATCH = 200  # cases per transaction: about a tenth of a second of the write lock at a time


def _option_explanations(raw: object, letters: list[str]) -> list[str]:
    """Per-option explanations in an import line, when it has them: {"A": "...", ...} or a list
    in option order. Anything else (or none) gives no explanations."""
    if isinstance(raw, dict):
        out = [str(raw.get(k) or "").strip() for k in letters]
    elif isinstance(raw, list) and len(raw) == len(letters):
        out = [str(x or "").strip() for x in raw]
    else:
        return []
    return out if any(out) else []


def import_medqa_jsonl(store: CaseStore, lines, source: str = "MedQA import",
                       progress: Callable[[int], None] | None = None) -> ImportReport:
    """MedQA-style JSONL (question, options {A: ...}, answer_idx, meta_info; MedMCQA and MMLU-Pro
    lines too, core.mcq_formats) -> quiz-ready cases.

    A bad line is reported by its number; every other line is still imported. Cases are
    committed IMPORT_BATCH at a time (`progress` gets the number of lines read after each).
    """
    report = ImportReport()
    good: list[Case] = []
    seen: set[str] = set()
    n = 0

    def flush() -> None:
        report.added += store.add_many(good)
        good.clear()
        if progress is not None:
            progress(n)

    for n, raw in enumerate(lines, 1):
        if len(good) >= IMPORT_BATCH:
            flush()
        raw = raw.strip()
        if not raw:
            continue
        try:
            item = json.loads(raw)
        except ValueError as exc:
            report.errors.append(f"line {n}: not valid JSON ({exc.msg})")
            continue
        try:
            f = parse_mcq(item)
        except ValueError as exc:
            report.errors.append(f"line {n}: {exc}")
            continue
        options, answer = f.options, f.answer
        m = _STEM.match(f.question)
        vignette, stem = (m.group(1).strip(), m.group(2).strip()) if m and m.group(1).strip() else (f.question, "")
        explanations = _option_explanations(item.get("explanations", item.get("option_explanations")), f.letters)
        overall = item.get("explanation", item.get("exp"))
        title = " ".join(vignette.split()[:9]).rstrip(",.;:") + ("…" if len(vignette.split()) > 9 else "")
        case = Case(
            title=title, vignette=vignette, mcq_question=stem or "Choose the single best answer.",
            mcq_options=options, mcq_answer=answer, diagnosis=options[answer],
            tags=[f.format] + ([f.subject] if f.subject else []),
            source=source, origin="medqa", mcq_explanations=explanations,
            teaching_points=overall.strip() if isinstance(overall, str) else "",
        )
        try:
            case.validated()
        except LibraryError as exc:
            report.errors.append(f"line {n}: {exc}")
            continue
        digest = case.content_hash()
        if digest in seen or store.find_by_hash(digest) is not None:
            report.duplicates.append(case.title)
            continue
        seen.add(digest)
        good.append(case)
    flush()
    return report


def read_json_file(path: Path) -> dict:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise LibraryError(f"Cannot read {Path(path).name}: {exc}") from None


def load_starter_library(store: CaseStore) -> ImportReport:
    """The bundled starter cases: added on first run, refreshed by later releases unless edited."""
    from gazal_desktop import resources

    return import_pack(store, json.loads(resources.read_text("starter_cases.json")), origin="starter")
