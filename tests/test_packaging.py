"""The wheel a user installs: every package in it, installed non-editable into a fresh
environment, every module importable from there, both programs answering, the self-test green."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE_ROOTS = {"gazal_desktop": ROOT / "gazal_desktop", "gazal_desktop.resources": ROOT / "resources",
                 "gazal_convert": ROOT / "convert"}


def source_packages() -> set[str]:
    """Every import package in the checkout: each folder with an __init__.py."""
    found = set()
    for name, folder in PACKAGE_ROOTS.items():
        for init in folder.rglob("__init__.py"):
            rel = init.parent.relative_to(folder)
            if "__pycache__" in rel.parts or (name == "gazal_desktop" and rel.parts[:1] == ("resources",)):
                continue
            found.add(".".join((name, *rel.parts)) if rel.parts else name)
    return found


def source_modules() -> set[str]:
    mods = set()
    for pkg in source_packages():
        folder = PACKAGE_ROOTS.get(pkg) or next(
            PACKAGE_ROOTS[root] / Path(*pkg[len(root) + 1:].split(".")) for root in sorted(PACKAGE_ROOTS, key=len, reverse=True)
            if pkg.startswith(root + "."))
        for py in folder.glob("*.py"):
            mods.add(pkg if py.stem == "__init__" else f"{pkg}.{py.stem}")
    return mods


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """Built from a clean copy of the source: a stale build/ folder from an earlier build would
    put packages in the wheel that pyproject.toml no longer lists."""
    out = tmp_path_factory.mktemp("wheel")
    src = tmp_path_factory.mktemp("src") / "gazal-desktop"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", ".venv*", "build", "dist", "*.egg-info", "__pycache__", ".gpu", ".pytest_cache", "*.gguf"))
    res = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(src)],
        capture_output=True, text=True,
    )
    assert res.returncode == 0, res.stderr
    (whl,) = out.glob("gazal_desktop-*.whl")
    return whl


@pytest.fixture(scope="module")
def fresh_env(wheel, tmp_path_factory) -> Path:
    """A new virtual environment with the wheel installed (not editable).

    Its dependencies are this environment's, seen through a folder of links that leaves out
    the project itself (and its editable hook), so only the wheel can provide gazal_desktop.
    """
    root = tmp_path_factory.mktemp("fresh")
    env = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    deps = root / "deps"
    deps.mkdir()
    site = Path(sysconfig.get_paths()["purelib"])
    for entry in site.iterdir():
        low = entry.name.lower()
        if low.startswith(("gazal", "__editable__", "_gazal")) or entry.suffix == ".pth":
            continue
        (deps / entry.name).symlink_to(entry)
    py = env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    env_site = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                   capture_output=True, text=True, check=True).stdout.strip())
    (env_site / "zz-deps.pth").write_text(str(deps) + "\n")
    res = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "--no-deps", "--no-index",
                          "-q", str(wheel)], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return env


def _run(venv: Path, *args: str, **kw) -> subprocess.CompletedProcess:
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    exe = bindir / args[0] if (bindir / args[0]).exists() else args[0]
    clean = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    clean.update(kw.pop("env", {}))
    return subprocess.run([str(exe), *args[1:]], capture_output=True, text=True, env=clean, cwd=venv.parent, **kw)


def test_every_package_in_the_tree_is_in_the_wheel(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    in_wheel = {n[:-len("/__init__.py")].replace("/", ".") for n in names if n.endswith("/__init__.py")}
    assert source_packages() <= in_wheel, f"missing from the wheel: {sorted(source_packages() - in_wheel)}"
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"gazal_desktop", "gazal_convert"}  # nothing called "convert" or "resources" at the top
    assert "gazal_desktop/resources/app-icon.svg" in names and "gazal_desktop/resources/starter_cases.json" in names
    assert "gazal_desktop/resources/style.qss" in names  # the one style sheet for both themes
    for lst in ("first_names.txt", "last_names.txt", "us_places.txt", "us_counties.txt"):
        assert f"gazal_desktop/resources/safety/{lst}" in names  # the identifier check's name and place lists


def test_the_installed_safety_checks_find_a_name_from_the_shipped_lists(fresh_env):
    code = ("from gazal_desktop.safety import phi_spans, emergency_signals\n"
            "print([s.text for s in phi_spans('Seen John Smith today, from Dearborn, Michigan')])\n"
            "print(bool(emergency_signals('my dad just collapsed and isnt breathing')))\n")
    res = _run(fresh_env, "python", "-c", code)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split("\n")[:2] == ["['John Smith', 'Dearborn, Michigan']", "True"]


def test_every_module_imports_from_the_installed_wheel(fresh_env):
    mods = sorted(source_modules())
    code = (
        "import importlib, sys, pathlib\n"
        f"mods = {mods!r}\n"
        "for m in mods:\n"
        "    importlib.import_module(m)\n"
        "import gazal_desktop, gazal_convert\n"
        "print(pathlib.Path(gazal_desktop.__file__).resolve())\n"
        "print(pathlib.Path(gazal_convert.__file__).resolve())\n"
    )
    res = _run(fresh_env, "python", "-c", code, env={"QT_QPA_PLATFORM": "offscreen"})
    assert res.returncode == 0, res.stderr
    for line in res.stdout.split():
        assert Path(line).is_relative_to(fresh_env.resolve()), f"imported from outside the wheel's install: {line}"


def test_installed_programs_answer(fresh_env):
    res = _run(fresh_env, "gazal-convert", "--help")
    assert res.returncode == 0 and "--list-quants" in res.stdout
    res = _run(fresh_env, "gazal-desktop", "--version")
    assert res.returncode == 0 and res.stdout.startswith("gazal-desktop ")


def test_installed_self_test_converts_loads_and_chats(fresh_env):
    """What a learner (or the bundle's smoke test) runs to check an install end to end."""
    res = _run(fresh_env, "gazal-desktop", "--self-test", timeout=600, env={"QT_QPA_PLATFORM": "offscreen"})
    assert res.returncode == 0, res.stdout + res.stderr
    lines = res.stdout.splitlines()
    for step in ("llama.cpp build", "case library", "main window", "convert a tiny Qwen3", "load the GGUF",
                 "discuss a case"):
        assert any(l.startswith("ok   " + step) for l in lines), res.stdout
    assert "tokens streamed and saved" in res.stdout and lines[-1].startswith("self-test passed")
