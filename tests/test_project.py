"""Project-level promises: help for every option, the Qt boundary, the entry points (the wheel: test_packaging)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gazal_convert.cli import build_inspect_parser, build_parser

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("parser", [build_parser(), build_inspect_parser()], ids=["convert", "inspect"])
def test_every_cli_option_has_help(parser):
    for action in parser._actions:
        assert action.help, f"{action.option_strings or action.dest} has no help text"


def test_readme_documents_every_convert_option():
    readme = (ROOT / "README.md").read_text()
    for action in build_parser()._actions:
        for opt in action.option_strings:
            if opt.startswith("--") and opt != "--help":
                assert opt in readme, f"README does not mention {opt}"
    assert "gazal-convert inspect" in readme


def test_ci_runs_the_readme_test_command_verbatim():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    test_lines = [l.strip() for l in readme.splitlines() if "pytest" in l and l.strip().startswith("python")]
    assert len(test_lines) == 1, test_lines
    assert test_lines[0] in ci


def test_core_library_safety_and_converter_never_import_qt():
    code = (
        "import sys, importlib.abc\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name.split('.')[0] in ('PySide6', 'shiboken6'):\n"
        "            raise ImportError('Qt imported outside gazal_desktop.ui: ' + name)\n"
        "sys.meta_path.insert(0, Block())\n"
        "import pkgutil, importlib\n"
        "import gazal_convert, gazal_desktop.core, gazal_desktop.library, gazal_desktop.safety\n"
        "for pkg in (gazal_convert, gazal_desktop.core, gazal_desktop.library):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
        "print('ok')\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr


def test_resources_load_through_importlib():
    from gazal_desktop import resources

    assert "<svg" in resources.read_text("app-icon.svg")


def test_console_scripts_answer(tmp_path):
    bindir = Path(sys.executable).parent
    res = subprocess.run([str(bindir / "gazal-convert"), "--help"], capture_output=True, text=True)
    assert res.returncode == 0 and "--list-quants" in res.stdout and "inspect" in res.stdout
    res = subprocess.run([str(bindir / "gazal-desktop"), "--version"], capture_output=True, text=True)
    assert res.returncode == 0 and "gazal-desktop" in res.stdout


# What each layer may import from the project: ui above library above core above the
# converter; safety at the bottom. (Qt itself is checked by the test above.)
LAYERS = {
    "gazal_desktop.safety": set(),
    "gazal_convert": {"gazal_desktop.safety", "gazal_desktop"},  # the not-a-medical-device note, the version
    "gazal_desktop.core": {"gazal_desktop.safety", "gazal_convert", "gazal_desktop"},
    "gazal_desktop.library": {"gazal_desktop.core", "gazal_desktop.safety", "gazal_convert", "gazal_desktop"},
}


def _project_imports(path: Path) -> set[str]:
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        found |= {n for n in names if n.split(".")[0] in ("gazal_desktop", "gazal_convert")}
    return found


@pytest.mark.parametrize("layer", list(LAYERS))
def test_layers_import_only_what_is_below_them(layer):
    folders = {"gazal_desktop.safety": [ROOT / "gazal_desktop" / "safety.py"], "gazal_convert": [ROOT / "convert"],
               "gazal_desktop.core": [ROOT / "gazal_desktop" / "core"],
               "gazal_desktop.library": [ROOT / "gazal_desktop" / "library"]}[layer]
    files = [f for p in folders for f in ([p] if p.is_file() else sorted(p.rglob("*.py")))]
    allowed = LAYERS[layer] | {layer}
    bad = []
    for f in files:
        for name in _project_imports(f):
            if not any(name == a or name.startswith(a + ".") for a in allowed if a != "gazal_desktop") \
                    and name != "gazal_desktop":
                bad.append(f"{f.relative_to(ROOT)} imports {name}")
    assert not bad, "\n".join(bad)
