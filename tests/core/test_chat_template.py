"""A model's chat template is a program from the file: it is checked in a killable process
on load, and every render after runs within a time, Stop and size limit."""

from __future__ import annotations

import json
import shutil
import time

import pytest

from gazal_convert.cli import main as convert_main
from gazal_convert.synthetic import CHAT_TEMPLATE, SyntheticSpec
from gazal_desktop.core.backends import chat_template as ct
from gazal_desktop.core.backends.base import BackendError
from gazal_desktop.core.cancel import CancelToken

HANG = "{% for i in range(100000) %}{% for j in range(100000) %}{{ '' }}{% endfor %}{% endfor %}"
HANG_SILENT = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
REPEAT = "{{ 'x' * 10000000000 }}"
DOUBLING = "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}"
DROPS = "{% for m in messages[:1] %}{{ m.content }}{% endfor %}"


def test_the_real_template_passes_its_check():
    ct.check_template(CHAT_TEMPLATE, "<|im_end|>", "")


@pytest.mark.parametrize("template, said", [
    (HANG, "did not finish"), (HANG_SILENT, "did not finish"), (REPEAT, "too large"),
    (DOUBLING, "memory|did not finish"), (DROPS, "missing"), ("{{ raise_exception('no') }}", "failed"),
])
def test_a_hostile_template_is_refused_in_words_within_its_limit(template, said):
    t = time.monotonic()
    with pytest.raises(ct.TemplateError) as err:
        ct.check_template(template, "<|im_end|>", "", seconds=3)
    # (a doubling string ends at the memory limit, or at the time limit on a busy machine)
    assert any(part in str(err.value) for part in said.split("|")) and "cannot be used safely" in str(err.value)
    assert time.monotonic() - t < 20  # killed at its limit, not waited on


def test_a_render_stops_at_its_deadline_at_stop_and_at_its_size():
    fmt = ct.bounded_formatter(HANG, "<|im_end|>", "")
    t = time.monotonic()
    with pytest.raises(ct.TemplateError, match="time limit"):
        ct.render_bounded(fmt, ct.SAMPLE, max_chars=10_000, seconds=0.5)
    assert time.monotonic() - t < 5
    stopped = CancelToken()
    stopped.cancel()
    with pytest.raises(ct.TemplateError, match="stopped"):
        ct.render_bounded(fmt, ct.SAMPLE, max_chars=10_000, cancel=stopped)
    long = ct.bounded_formatter("{% for m in messages %}{{ m.content * 50 }}{% endfor %}", "", "")
    with pytest.raises(ct.TemplateError, match="longer than any"):
        ct.render_bounded(long, ct.SAMPLE, max_chars=2_000)
    good = ct.bounded_formatter(CHAT_TEMPLATE, "<|im_end|>", "")
    assert ct.SAMPLE[-1]["content"] in ct.render_bounded(good, ct.SAMPLE, max_chars=10_000)


def test_a_gguf_with_a_looping_template_is_refused_on_load(models, tmp_path, monkeypatch):
    from gazal_desktop.core.backends.local import LocalBackend, LocalSettings

    src = tmp_path / "ckpt"
    shutil.copytree(models.checkpoint(SyntheticSpec()), src)
    cfg_path = src / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg["chat_template"] = HANG
    cfg_path.write_text(json.dumps(cfg))
    (src / "chat_template.jinja").unlink(missing_ok=True)
    assert convert_main([str(src), "--quant", "q8_0", "--outdir", str(tmp_path), "--progress", "none"]) == 0
    gguf = next(tmp_path.glob("*.gguf"))
    monkeypatch.setattr(ct, "CHECK_SECONDS", 3.0)
    t = time.monotonic()
    with pytest.raises(BackendError) as err:
        LocalBackend.load(gguf, LocalSettings(n_ctx=256))
    assert "did not finish" in str(err.value) and "cannot be used safely" in str(err.value)
    assert time.monotonic() - t < 20
