"""What a new user tripped over in the first hour, each reproduced and fixed (issue 18)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from gazal_desktop.core.scripted import ScriptedBackend
from gazal_desktop.core.settings import AppSettings
from gazal_desktop.ui.settings_dialog import LayersSpin, apply_appearance


def test_dark_and_light_themes_and_font_size_apply_at_once(qapp):
    original = QApplication.font().pointSize()
    try:
        apply_appearance(AppSettings(theme="dark", font_size=15))
        assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() < 80
        assert QApplication.palette().color(QPalette.ColorRole.WindowText).lightness() > 180
        assert QApplication.font().pointSize() == 15  # no restart
        apply_appearance(AppSettings(theme="light"))
        assert QApplication.palette().color(QPalette.ColorRole.Window).lightness() > 180
        assert QApplication.font().pointSize() == original  # "System" size is back at once
    finally:
        apply_appearance(AppSettings())


def test_gpu_layers_are_said_in_words():
    spin = LayersSpin()
    assert [spin.textFromValue(v) for v in (-2, -1, 0, 12)] == [
        "Recommended by the fit check", "All layers", "None (CPU only)", "12"]
    assert spin.valueFromText("All layers") == -1 and spin.valueFromText("20") == 20


def test_changing_the_context_offers_to_reload_the_model(window, qtbot, monkeypatch):
    backend = ScriptedBackend()
    backend.path = window.data_dir / "model.gguf"  # a loaded local model has a file
    window.set_backend(backend)
    asked, reloaded = [], []

    def accept(dlg):
        dlg.n_ctx.setValue(window.settings.n_ctx * 2)
        return QDialog.DialogCode.Accepted

    from gazal_desktop.ui import settings_dialog

    monkeypatch.setattr(settings_dialog.SettingsDialog, "exec", accept)
    monkeypatch.setattr(QMessageBox, "question", lambda *a: asked.append(a[2]) or QMessageBox.StandardButton.Yes)
    monkeypatch.setattr(window, "reload_model", lambda: reloaded.append(True))
    window.open_settings()
    assert len(asked) == 1 and "context length" in asked[0] and "model.gguf" in asked[0]
    assert reloaded == [True]
    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.StandardButton.No)
    window.open_settings()
    assert "next time a model is loaded" in window.statusBar().currentMessage()


def ask(window, qtbot, replies: list[str], question: str = "Diagnosis?") -> None:
    """With a scripted model: open the first case, send `question`, wait for the reply."""
    window.set_backend(ScriptedBackend(replies))
    window.library_pane.list.setCurrentRow(0)
    qtbot.waitUntil(lambda: window.chat_view.session is not None, timeout=5000)
    window.chat_view.send(question)
    qtbot.waitUntil(lambda: not window.chat_view.generating, timeout=10000)


def test_escape_with_nothing_running_changes_nothing(window, qtbot):
    ask(window, qtbot, ["Answer."])
    before = window.chat_view.state.text()
    qtbot.keyClick(window.chat_view.composer, Qt.Key.Key_Escape)
    assert window.chat_view.state.text() == before and "Stopping" not in before


def test_an_empty_answer_is_said(window, qtbot):
    ask(window, qtbot, [""])
    assert "without writing an answer" in window.chat_view.state.text()


def test_tab_moves_focus_and_ctrl_tab_types_a_tab(window, qtbot):
    window.activateWindow()
    composer = window.chat_view.composer
    composer.setFocus()
    qtbot.keyClick(composer, Qt.Key.Key_Tab)
    assert composer.toPlainText() == ""  # Tab typed nothing
    qtbot.keyClick(composer, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)
    assert composer.toPlainText() == "\t"


def test_messages_and_their_actions_work_from_the_keyboard(window, qtbot):
    ask(window, qtbot, ["First answer.", "Second answer."])
    question, answer = window.chat_view.message_widgets()
    for w in (question, answer):
        assert w.focusPolicy() == Qt.FocusPolicy.StrongFocus
        assert w.copy_button.focusPolicy() == Qt.FocusPolicy.StrongFocus
        assert w.action_button.focusPolicy() == Qt.FocusPolicy.StrongFocus
    qtbot.keyClick(answer, Qt.Key.Key_C)
    assert QGuiApplication.clipboard().text() == "First answer."
    qtbot.keyClick(answer, Qt.Key.Key_R)  # regenerate: a second version
    qtbot.waitUntil(lambda: not window.chat_view.generating, timeout=10000)
    answer = window.chat_view.message_widgets()[1]
    assert len(answer.versions) == 2 and answer.message.content == "Second answer."
    qtbot.keyClick(answer, Qt.Key.Key_Left)
    assert answer.message.content == "First answer."
    qtbot.keyClick(answer, Qt.Key.Key_Right)
    assert answer.message.content == "Second answer."


def test_help_lists_every_shortcut(window, qtbot):
    from gazal_desktop.ui.keys import shortcut_rows

    rows = shortcut_rows(window)
    keys = {k for _, k, _ in rows}
    assert {"Ctrl+N", "Ctrl+,", "Ctrl+Shift+S", "F1", "Ctrl+Enter", "Esc", "C", "R", "E"} <= keys
    window.show_shortcuts()
    table = window.shortcuts_dialog.findChild(__import__("PySide6.QtWidgets", fromlist=["QTableWidget"]).QTableWidget)
    assert table.rowCount() == len(rows)
    window.shortcuts_dialog.close()


def test_delete_and_ctrl_z_work_in_the_library_list(window, qtbot):
    pane = window.library_pane
    before = pane.titles()
    pane.list.setCurrentRow(0)
    pane.list.setFocus()
    qtbot.keyClick(pane.list, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: len(pane.titles()) == len(before) - 1, timeout=5000)
    qtbot.keyClick(pane.list, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: pane.titles() == before, timeout=5000)


def test_a_search_with_no_results_says_so_and_clears_the_hidden_case(window, qtbot):
    pane = window.library_pane
    pane.list.setCurrentRow(0)
    qtbot.waitUntil(lambda: window.chat_view.session is not None and window.chat_view.vignette.isVisible(), timeout=5000)
    pane.search.setText("zzqx-no-such-word")
    qtbot.waitUntil(lambda: pane.no_match.isVisible(), timeout=5000)
    assert "No cases match “zzqx-no-such-word”" in pane.no_match_label.text()
    assert window.case is None and not window.chat_view.vignette.isVisible()  # not left on screen
    pane.clear_filters_button.click()
    qtbot.waitUntil(lambda: pane.list.count() > 0 and not pane.no_match.isVisible(), timeout=5000)
    assert pane.search.text() == ""


def test_an_import_says_what_it_did_in_a_dialog(window, qtbot, tmp_path, monkeypatch):
    import json as _json

    from PySide6.QtWidgets import QFileDialog

    from gazal_desktop.library.exchange import export_pack

    pack = export_pack(window.cases.list()[:3], "Three", "pack-3")
    pack["cases"].append({"title": 5})
    path = tmp_path / "three.json"
    path.write_text(_json.dumps(pack))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    window.import_pack()
    qtbot.waitUntil(lambda: getattr(window, "import_report_box", None) is not None, timeout=5000)
    box = window.import_report_box
    assert "0 added" in box.text() and "3 already in the library" in box.text() and "1 skipped" in box.text()
    assert "case 4" in box.detailedText()
    box.close()


def test_the_window_case_and_model_are_as_the_learner_left_them(qtbot, tmp_path, tiny_gguf):
    from gazal_desktop import app as app_mod
    from gazal_desktop.core.settings import load_settings
    from gazal_desktop.ui.main_window import MainWindow
    from gazal_desktop.ui.session_memory import reopen_last_model, restore
    from gazal_desktop.ui.threads import TaskRunner

    folder = tmp_path / "data"

    def open_window():
        runner = TaskRunner(1)
        lib = app_mod.open_library_or_recover(runner, folder)
        w = MainWindow(folder, load_settings(folder), lib, runner)
        qtbot.addWidget(w)
        restore(w)
        w.show()
        qtbot.waitUntil(lambda: w.library_pane.loaded, timeout=10000)
        return w

    first = open_window()
    first.resize(1030, 710)
    first.split.setSizes([300, 700])
    first.library_pane.list.setCurrentRow(3)
    qtbot.waitUntil(lambda: first.case is not None, timeout=5000)
    case_id = first.case.id
    left = (first.width(), first.height())
    share = first.split.sizes()[0] / sum(first.split.sizes())
    assert left != (1200, 800)  # not the default size
    first.settings.last_model = str(tiny_gguf)
    first.close()

    second = open_window()
    qtbot.waitUntil(lambda: second.case is not None and second.case.id == case_id, timeout=5000)
    # (the offscreen test screen is 800 px wide: Qt keeps a restored window on the screen)
    assert second.height() == left[1] and second.minimumSizeHint().width() <= second.width() <= left[0]
    assert abs(second.split.sizes()[0] / sum(second.split.sizes()) - share) < 0.05  # the splitter as left
    assert reopen_last_model(second) is True  # loads in the background, no question asked
    qtbot.waitUntil(lambda: second.backend is not None, timeout=30000)
    assert tiny_gguf.name in second.model_label.text()
    second.close()

    tiny_gone = load_settings(folder)
    tiny_gone.last_model = str(tmp_path / "moved-away.gguf")
    third = open_window()
    third.settings = tiny_gone
    assert reopen_last_model(third) is False
    assert "no longer at" in third.statusBar().currentMessage() and third.settings.last_model == ""
    third.close()


def test_the_load_dialog_shows_the_settings_and_the_verdict_follows_them(window, qtbot, tiny_gguf):
    from gazal_desktop.core import hardware
    from gazal_desktop.core.hardware import GiB, Hardware

    window.open_model(str(tiny_gguf))
    qtbot.waitUntil(lambda: getattr(window, "load_dialog", None) is not None, timeout=10000)
    dlg = window.load_dialog
    assert dlg.gpu_layers.text() in ("Recommended by the fit check", "All layers", "None (CPU only)")
    before = dlg.verdict.text()
    dlg.kv_type.setCurrentIndex(dlg.kv_type.findData("q8_0"))
    assert dlg.verdict.text() != before  # the estimate follows the KV cache type
    dlg.n_ctx.setValue(dlg.shape.n_ctx_train * 2)
    assert dlg.warning.isVisible() and "trained on" in dlg.warning.text()
    dlg.n_ctx.setValue(min(dlg.shape.n_ctx_train, 1024))
    assert not dlg.warning.isVisible()
    dlg.accept()  # Load: with the context and KV cache chosen here
    qtbot.waitUntil(lambda: window.backend is not None, timeout=30000)
    assert window.backend.settings.kv_type == "q8_0" and window.backend.settings.n_ctx == 1024
    # On a machine too small for it, Load is off and the dialog says why.
    shape = hardware.ModelShape.from_gguf(tiny_gguf)
    tiny = Hardware(ram_total=GiB // 64, ram_available=GiB // 128, gpu_name=None, vram_total=None, vram_free=None,
                    gpu_offload=False)
    from gazal_desktop.ui.load_dialog import LoadModelDialog

    small = LoadModelDialog(shape, tiny, 1024)
    qtbot.addWidget(small)
    assert not small.load_button.isEnabled() and "will not fit" in small.warning.text()


def test_case_rows_carry_specialty_difficulty_and_markers(window, qtbot):
    from gazal_desktop.library.chats import ChatStore, Conversation, StoredMessage
    from gazal_desktop.ui.case_list import ROW_ROLE

    pane = window.library_pane
    item = pane.list.item(0)
    row = item.data(ROW_ROLE)
    case = window.cases.get(item.data(Qt.ItemDataRole.UserRole))
    assert (row.title, row.specialty, row.difficulty) == (case.title, case.specialty, case.difficulty)
    assert case.title in item.toolTip() and case.specialty in item.toolTip()  # the full title, never cut
    chats = ChatStore(window.library)
    conv = chats.start(Conversation(case.id))
    chats.add_message(StoredMessage(conv.id, "user", "Why?"))
    window.library.db.conn.execute("UPDATE quiz_items SET due = '2000-01-01T00:00:00+00:00' WHERE case_id = ?",
                                   (case.id,))
    pane.refresh()
    qtbot.waitUntil(lambda: pane.list.item(0).data(ROW_ROLE).discussions == 1, timeout=5000)
    row = pane.list.item(0).data(ROW_ROLE)
    assert row.due and "1 discussion" in row.detail() and "due today" in pane.list.item(0).toolTip()


def test_one_style_sheet_icons_and_a_readable_context_meter_at_1024x700(window, qtbot):
    from gazal_desktop.ui.settings_dialog import apply_appearance

    apply_appearance(AppSettings(theme="dark"))
    try:
        sheet = QApplication.instance().styleSheet()
        assert "disclaimerBanner" in sheet and 'status="error"' in sheet  # statuses and the banner, both themes
        icons = [a for a in window.findChild(__import__("PySide6.QtWidgets", fromlist=["QToolBar"]).QToolBar,
                                             "mainToolbar").actions()]
        assert len(icons) == 4 and all(not a.icon().isNull() for a in icons)
        window.resize(1024, 700)
        qtbot.wait(50)
        assert (window.width(), window.height()) == (1024, 700)  # fits; a long tag no longer widens it
        assert not window.chat_view.context.isTextVisible()  # the words are beside the bar, not on it
        assert window.chat_view.context_label.text() == window.chat_view.context.format()
    finally:
        apply_appearance(AppSettings())


def test_the_tag_filter_is_searchable_and_takes_several_tags(window, qtbot):
    pane = window.library_pane
    tags = window.cases.tags()
    qtbot.waitUntil(lambda: pane.tag.list.count() == len(tags), timeout=5000)
    pane.tag.search.setText(tags[0][:3])
    assert tags[0] in pane.tag.visible_tags() and len(pane.tag.visible_tags()) < len(tags)
    two = [tags[0], tags[-1]]
    pane.tag.set_selected(two)
    expected = {c.title for c in window.cases.list() if set(c.tags) & set(two)}
    qtbot.waitUntil(lambda: set(pane.titles()) == expected, timeout=5000)
    assert pane.tag.text() == "2 tags"
    pane.clear_filters()
    qtbot.waitUntil(lambda: len(pane.titles()) == window.cases.count(), timeout=5000)
    assert pane.tag.text() == "All tags"


def test_ctrl_l_opens_searchable_reference_ranges_beside_a_quiz(window, qtbot):
    window.tabs.setCurrentWidget(window.study_view)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5000)
    qtbot.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    panel = window.lab_values
    assert panel.isVisible() and not panel.isModal()  # beside the question, not in front of it
    assert "Ranges differ between laboratories" in panel.note.text()
    panel.filter("sodium")
    assert panel.visible_tests() == ["Sodium"]
    panel.filter("paco2")
    assert panel.visible_tests() == ["PaCO2"]
    row = next(r for r in panel.rows if r[1] == "PaCO2")
    assert row[2] == "35-45 mm Hg" and row[3] == "4.7-6.0 kPa"  # conventional and SI side by side
    panel.close()


def test_the_model_label_shows_the_measured_cost_of_the_quantization(window, tmp_path):
    """`gazal-convert report` leaves FILE.gguf.fidelity.json; the status bar says what it found."""
    import json

    from gazal_desktop.core.scripted import ScriptedBackend

    gguf = tmp_path / "Gazal-Q4_K_M.gguf"
    gguf.write_bytes(b"GGUF")
    backend = ScriptedBackend()
    backend.path = gguf
    window.set_backend(backend)
    assert "same top token" not in window.model_label.text()  # no report yet
    (tmp_path / "Gazal-Q4_K_M.gguf.fidelity.json").write_text(json.dumps(
        {"reference": "Gazal-BF16.gguf", "same_top": 0.9712, "kld_mean": 0.0123}))
    window.set_backend(ScriptedBackend())
    backend2 = ScriptedBackend()
    backend2.path = gguf
    window.set_backend(backend2)
    assert window.model_label.text().endswith("vs Gazal-BF16.gguf: same top token 97.1%, KLD 0.012")
