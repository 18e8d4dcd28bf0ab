"""The application: the gate, the library pane, saving chats, and model-setup errors."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from gazal_desktop import app as app_mod
from gazal_desktop.core.scripted import ScriptedBackend
from gazal_desktop.core.settings import AppSettings, load_settings
from gazal_desktop.library.chats import ChatStore
from gazal_desktop.safety import DISCLAIMER_VERSION
from gazal_desktop.ui.gate import DisclaimerGate


def _when_modal(action, attempts=200):
    """Act on the next modal dialog once it is shown."""
    def poll(n=attempts):
        dlg = QApplication.activeModalWidget()
        if dlg is None:
            if n:
                QTimer.singleShot(10, lambda: poll(n - 1))
            return
        action(dlg)

    QTimer.singleShot(10, poll)


def test_gate_needs_all_three_acknowledgements_and_is_remembered(qtbot, tmp_path):
    gate = DisclaimerGate()
    qtbot.addWidget(gate)
    assert not gate.continue_button.isEnabled()
    gate.checks[0].setChecked(True)
    gate.checks[1].setChecked(True)
    assert not gate.continue_button.isEnabled()
    gate.checks[2].setChecked(True)
    assert gate.continue_button.isEnabled()

    settings = AppSettings()

    def accept(dlg):
        for c in dlg.checks:
            c.setChecked(True)
        dlg.continue_button.click()

    _when_modal(accept)
    assert app_mod.ensure_disclaimer(settings, tmp_path) is True
    stored = load_settings(tmp_path)
    assert stored.disclaimer_version == DISCLAIMER_VERSION and stored.disclaimer_accepted_at
    # Accepted once: no dialog on the next start.
    assert app_mod.ensure_disclaimer(stored, tmp_path) is True


def test_declining_quits(qtbot, tmp_path):
    _when_modal(lambda dlg: dlg.decline_button.click())
    assert app_mod.ensure_disclaimer(AppSettings(), tmp_path) is False
    assert load_settings(tmp_path).disclaimer_version == ""


def test_a_new_disclaimer_version_asks_again(qtbot, tmp_path):
    old = AppSettings(disclaimer_version="2020-01-1", disclaimer_accepted_at="2020-01-01T00:00:00+00:00")
    shown = []
    _when_modal(lambda dlg: (shown.append(type(dlg)), dlg.reject()))
    assert app_mod.ensure_disclaimer(old, tmp_path) is False
    assert shown == [DisclaimerGate]


def test_library_loads_starter_cases_and_searches_as_you_type(window, qtbot):
    pane = window.library_pane
    assert pane.list.count() >= 40
    qtbot.keyClicks(pane.search, "pericard")
    qtbot.waitUntil(lambda: pane.titles() == ["Sharp chest pain that eases when sitting forward"], timeout=5000)
    pane.search.clear()
    idx = pane.specialty.findData("Pharmacology")
    pane.specialty.setCurrentIndex(idx)
    qtbot.waitUntil(lambda: pane.list.count() == 5, timeout=5000)


def test_delete_and_undo(window, qtbot):
    pane = window.library_pane
    before = pane.list.count()
    pane.list.setCurrentRow(0)
    title = pane.list.currentItem().text()
    pane.delete_case()
    qtbot.waitUntil(lambda: pane.list.count() == before - 1, timeout=5000)
    assert window.undo_button.isVisible() and title not in pane.titles()
    window.undo_button.click()
    qtbot.waitUntil(lambda: pane.list.count() == before, timeout=5000)
    assert title in pane.titles()


def test_new_case_through_the_editor(window, qtbot):
    pane = window.library_pane

    def fill(dlg):
        dlg.title.setText("Hyperkalemia on the ward")
        dlg.vignette.setPlainText("A 70-year-old with CKD has K 6.9 and peaked T waves.")
        dlg.specialty.setCurrentText("Internal medicine")
        dlg.accept()

    _when_modal(fill)
    pane.new_case()
    qtbot.waitUntil(lambda: "Hyperkalemia on the ward" in pane.titles(), timeout=5000)


def test_selecting_a_case_with_a_model_chats_and_saves(window, qtbot):
    window.set_backend(ScriptedBackend())
    pane = window.library_pane
    pane.list.setCurrentRow(0)
    qtbot.waitUntil(lambda: window.chat_view.session is not None, timeout=5000)
    assert window.chat_view.vignette.text() == window.case.vignette
    window.chat_view.send("What is the diagnosis?")
    qtbot.waitUntil(lambda: not window.chat_view.generating, timeout=10000)
    window.runner.wait()
    chats = ChatStore(window.library)
    (conv,) = chats.conversations(window.case.id)
    roles = [(m.role, m.status) for m in chats.messages(conv.id)]
    assert roles == [("user", "complete"), ("assistant", "complete")]


def test_a_broken_model_file_gives_a_clear_error(window, qtbot, tmp_path):
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + b"\x00" * 64)
    seen = {}

    def read(dlg):
        seen["text"] = dlg.text()
        seen["detail"] = dlg.detailedText()
        dlg.accept()

    _when_modal(read)
    window.open_model(str(bad))
    qtbot.waitUntil(lambda: "text" in seen, timeout=10000)
    assert "cannot be used as a model" in seen["text"] and "truncated" in seen["text"]
    assert window.backend is None


def test_reopening_a_case_shows_its_saved_discussion(window, qtbot):
    window.set_backend(ScriptedBackend())
    pane = window.library_pane
    pane.list.setCurrentRow(0)
    qtbot.waitUntil(lambda: window.chat_view.session is not None, timeout=5000)
    window.chat_view.send("First question")
    qtbot.waitUntil(lambda: not window.chat_view.generating, timeout=10000)
    window.runner.wait()
    pane.list.setCurrentRow(1)
    qtbot.waitUntil(lambda: window.chat_view.session is not None and window.chat_view.session.messages == [], timeout=5000)
    pane.list.setCurrentRow(0)
    qtbot.waitUntil(lambda: len(window.chat_view.message_widgets()) == 2, timeout=5000)
    assert window.chat_view.message_widgets()[0].message.content == "First question"
    window.new_discussion()
    qtbot.waitUntil(lambda: window.chat_view.message_widgets() == [], timeout=5000)


def test_settings_edit_presets_and_persist(window, qtbot):
    from gazal_desktop.ui.settings_dialog import SettingsDialog

    dlg = SettingsDialog(window.settings, window.presets, str(window.data_dir))
    qtbot.addWidget(dlg)
    assert dlg.preset.itemText(0) == "Gazal-R1 model card"
    assert (dlg.temperature.value(), dlg.top_p.value(), dlg.top_k.value(), dlg.max_tokens.value()) == (0.7, 0.8, 20, 2048)
    assert dlg.reasoning_budget.value() == 4096  # reasoning has its own budget: the answer always arrives
    dlg.preset.setCurrentText("Short (model card: 2,048 tokens in all)")
    assert dlg.reasoning_mode.currentData() == "none" and dlg.sampling().reasoning_budget is None
    assert not dlg.reasoning_budget.isEnabled()
    dlg.reasoning_mode.setCurrentIndex(dlg.reasoning_mode.findData("unlimited"))
    assert dlg.sampling().reasoning_budget == 0  # unlimited: closed only when the answer's room is reached
    dlg.preset.setCurrentText("Gazal-R1 model card")
    dlg.temperature.setValue(0.3)
    dlg.n_ctx.setValue(16384)
    dlg.theme.setCurrentIndex(dlg.theme.findData("dark"))
    new = dlg.result_settings()
    assert new.n_ctx == 16384 and new.theme == "dark"
    assert window.presets.get("Gazal-R1 model card").temperature == 0.3
    assert window.presets.is_modified("Gazal-R1 model card")
    dlg._reset()
    assert window.presets.get("Gazal-R1 model card").temperature == 0.7


def test_regenerated_replies_are_saved_as_versions_not_duplicates(window, qtbot):
    window.set_backend(ScriptedBackend(["<think>a</think>First.", "<think>b</think>Second."]))
    window.library_pane.list.setCurrentRow(2)
    qtbot.waitUntil(lambda: window.chat_view.session is not None, timeout=5000)
    window.chat_view.send("Diagnosis?")
    qtbot.waitUntil(lambda: not window.chat_view.generating, timeout=10000)
    with qtbot.waitSignal(window.chat_view.generation_finished, timeout=10000):
        window.chat_view.message_widgets()[1].action_button.click()  # Regenerate
    state = (len(window.chat_view.message_widgets()), [len(w.versions) for w in window.chat_view.message_widgets()],
             [m.content for m in window.chat_view.session.messages])
    assert state == (2, [1, 2], ["Diagnosis?", "Second."]), state
    window.runner.wait()
    chats = ChatStore(window.library)
    (conv,) = chats.conversations(window.case.id)
    everything = chats.messages(conv.id)
    assert [m.content for m in everything] == ["Diagnosis?", "First.", "Second."]
    assert everything[2].replaces_id == everything[1].id
    assert [m.content for m in chats.current_messages(conv.id)] == ["Diagnosis?", "Second."]


def test_the_empty_chat_says_study_works_without_a_model(window, qtbot):
    assert "Study tab works without a model" in window.chat_view.empty_state.text()
    button = next(b for b in window.chat_view.setup_buttons.findChildren(type(window.undo_button))
                  if b.text() == "Study without a model")
    button.click()
    assert window.tabs.currentWidget() is window.study_view
