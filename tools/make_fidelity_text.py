"""Write resources/fidelity_text.md: the default text of `gazal-convert report`, assembled from
the starter library's own original prose (vignettes, answer keys, teaching points and the
explanation of every option). Run again after the starter cases change.

    python tools/make_fidelity_text.py
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = ("# Gazal fidelity text\n\n*Original educational medical prose from the Gazal starter library (fictional "
          "cases). Used to measure what a quantization changes in the model's predictions. Not medical advice.*\n")


def main() -> None:
    pack = json.loads((ROOT / "resources" / "starter_cases.json").read_text(encoding="utf-8"))
    parts = [HEADER]
    for c in pack["cases"]:
        parts.append(f"\n## {c['title']}\n\n{c['vignette']}\n\nDiagnosis: {c['diagnosis']}.\n\n"
                     f"Key findings: {c['key_findings']}\n\nManagement: {c['management']}\n\n"
                     f"Teaching points: {c['teaching_points']}\n")
        if c.get("mcq_options"):
            parts.append(f"\n{c['mcq_question']}\n")
            for opt, why in zip(c["mcq_options"], c.get("mcq_explanations") or [""] * len(c["mcq_options"])):
                parts.append(f"- {opt}: {why}\n")
    out = ROOT / "resources" / "fidelity_text.md"
    out.write_text("".join(parts), encoding="utf-8")
    print(f"wrote {out} ({len(''.join(parts).split()):,} words)")


if __name__ == "__main__":
    main()
