"""Sampling defaults and the user's presets."""

from __future__ import annotations

import pytest

from gazal_desktop.core.sampling import BUILTIN_PRESETS, MODEL_CARD, PresetStore, Sampling


def test_defaults_are_the_model_cards():
    s = Sampling()
    assert (s.temperature, s.top_p, s.top_k, s.max_tokens) == (0.7, 0.8, 20, 2048)
    assert list(BUILTIN_PRESETS)[0] == MODEL_CARD


def test_presets_are_saved_edited_and_reset(tmp_path):
    path = tmp_path / "presets.json"
    store = PresetStore(path)
    assert store.names()[0] == MODEL_CARD
    store.save("Exam drill", Sampling(temperature=0.2, max_tokens=512))
    store.save(MODEL_CARD, Sampling(temperature=0.6))  # editing a built-in
    again = PresetStore(path)
    assert again.get("Exam drill").max_tokens == 512
    assert again.get(MODEL_CARD).temperature == 0.6 and again.is_modified(MODEL_CARD)
    again.delete(MODEL_CARD)  # back to the model card's values
    assert PresetStore(path).get(MODEL_CARD) == BUILTIN_PRESETS[MODEL_CARD]
    card = BUILTIN_PRESETS[MODEL_CARD]
    assert (card.temperature, card.top_p, card.top_k, card.max_tokens, card.reasoning_budget) == (0.7, 0.8, 20, 2048, 4096)
    assert "Exam drill" in PresetStore(path).names()


def test_bad_values_are_refused_and_a_damaged_file_is_set_aside(tmp_path):
    with pytest.raises(ValueError, match="top_p"):
        Sampling(top_p=1.5).validated()
    path = tmp_path / "presets.json"
    path.write_text("{broken")
    store = PresetStore(path)
    assert store.names() == list(BUILTIN_PRESETS)
    assert (tmp_path / "presets.damaged.json").read_text() == "{broken"


@pytest.mark.parametrize("content", ["{not json", "[1, 2, 3]", "\udcff".encode("utf-8", "surrogatepass").decode("latin-1"), "null"])
def test_a_damaged_settings_file_never_stops_the_app(tmp_path, content):
    from gazal_desktop.core.settings import AppSettings, load_settings

    (tmp_path / "settings.json").write_text(content, encoding="latin-1")
    s = load_settings(tmp_path)
    assert s == AppSettings() and "defaults are used" in s.problem
    assert (tmp_path / "settings.damaged.json").exists() and not (tmp_path / "settings.json").exists()


def test_settings_of_the_wrong_type_fall_back_one_by_one(tmp_path):
    import json

    from gazal_desktop.core.settings import load_settings

    (tmp_path / "settings.json").write_text(json.dumps({"n_ctx": "big", "theme": "dark", "n_threads": True,
                                                        "disclaimer_version": "2026-11-1"}))
    s = load_settings(tmp_path)
    assert (s.n_ctx, s.theme, s.n_threads, s.disclaimer_version) == (8192, "dark", 0, "2026-11-1")
    assert "n_ctx" in s.problem and "n_threads" in s.problem
