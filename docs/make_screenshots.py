"""Launch the real app on a virtual screen and save screenshots into docs/.

    xvfb-run -s "-screen 0 1400x900x24" python docs/make_screenshots.py
    QT_QPA_PLATFORM=offscreen python docs/make_screenshots.py     (no X server: same pictures)

Uses a fresh data folder and the scripted demonstration backend (`gazal-desktop --demo`),
so the pictures show the interface, not a model's output quality.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parent
os.environ.setdefault("GAZAL_DATA_DIR", tempfile.mkdtemp(prefix="gazal-shots-"))

from PySide6.QtCore import QEventLoop, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from gazal_desktop import app as app_mod  # noqa: E402
from gazal_desktop.core.paths import data_dir  # noqa: E402
from gazal_desktop.core.scripted import ScriptedBackend  # noqa: E402
from gazal_desktop.core.settings import AppSettings  # noqa: E402
from gazal_desktop.ui.gate import DisclaimerGate  # noqa: E402
from gazal_desktop.ui.main_window import MainWindow  # noqa: E402
from gazal_desktop.ui.settings_dialog import apply_appearance  # noqa: E402
from gazal_desktop.ui.threads import TaskRunner  # noqa: E402


def wait(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def wait_for(cond, timeout_ms: int = 20000) -> None:
    waited = 0
    while not cond() and waited < timeout_ms:
        wait(20)
        waited += 20


def main() -> None:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_appearance(AppSettings(theme="light"))  # the app's style sheet, as at start
    gate = DisclaimerGate()
    gate.checks[0].setChecked(True)
    gate.checks[1].setChecked(True)
    gate.resize(620, 360)
    gate.show()
    wait(300)
    gate.grab().save(str(OUT / "gate.png"))
    gate.close()

    folder = data_dir()
    runner = TaskRunner(1)
    lib = app_mod.open_library_or_recover(runner, folder)
    window = MainWindow(folder, AppSettings(), lib, runner)
    window.resize(1300, 820)
    window.show()
    wait_for(lambda: window.library_pane.loaded)
    window.library_pane.search.setText("chest pain")
    wait(600)
    window.grab().save(str(OUT / "library.png"))

    window.set_backend(ScriptedBackend(delay=0.02))
    window.library_pane.search.setText("nitroglycerin")
    wait(600)
    window.library_pane.list.setCurrentRow(0)
    wait_for(lambda: window.chat_view.session is not None)
    window.chat_view.send("What is the most likely diagnosis, and what should we do first?")
    wait_for(lambda: window.chat_view.state.text() == "Thinking…" and len(window.chat_view.message_widgets()) == 2)
    wait(900)
    window.grab().save(str(OUT / "chat-reasoning-expanded.png"))
    wait_for(lambda: not window.chat_view.generating, 60000)
    wait(400)
    window.grab().save(str(OUT / "chat-reasoning-collapsed.png"))

    study = window.study_view
    window.tabs.setCurrentWidget(study)
    wait_for(lambda: "new" in study.home.detail.text())
    wait(300)
    window.grab().save(str(OUT / "study-home.png"))
    study.home.count.setValue(4)
    study.home.start_button.click()
    wait_for(lambda: study.currentWidget() is study.player)
    player = study.player
    for n in range(4):
        item = player.session.current
        if n == 0:
            player.strike((item.answer + 2) % len(item.options))
        player.choose(item.answer if n != 1 else (item.answer + 1) % len(item.options))
        player.advance()
        wait(300)
        if n == 0:
            player.explanation.verticalScrollBar().setValue(0)
            window.grab().save(str(OUT / "study-tutor.png"))
        player.advance()
    wait_for(lambda: study.currentWidget() is study.review)
    study.show_progress()
    wait_for(lambda: study.currentWidget() is study.progress)
    wait(300)
    window.grab().save(str(OUT / "study-progress.png"))

    # Patient mode: a scripted patient voice (in the order asked), then Gazal's reasoning.
    demo = window.backend
    window.set_backend(ScriptedBackend([
        "<think>Step 1: Answer as the patient.</think>It came on all of a sudden this morning, while I was making "
        "breakfast.",
        "<think>Step 1: Answer as the patient.</think>Yes, I flew back from Singapore three days ago. Fourteen "
        "hours on the plane.",
        "<think>Step 1: Answer as the patient.</think>Just the combined pill. Nothing else.",
        "<think>Step 1: Sudden pleuritic chest pain and breathlessness three days after a long-haul flight.\n"
        "Step 2: Combined oral contraceptive and a swollen, tender left calf: a DVT is likely.\n"
        "Step 3: Tachycardia and hypoxemia with a normal chest radiograph point to pulmonary embolism.\n"
        "Step 4: Her Wells score is high, so a pregnancy test and then CTPA, without a D-dimer first.\n"
        "Step 5: Hemodynamically stable: anticoagulate and stop the combined pill.</think>\n\n"
        "## Primary Diagnosis\nAcute pulmonary embolism with a left leg DVT."], delay=0.005))
    window.tabs.setCurrentIndex(0)
    window.library_pane.search.setText("")
    wait(600)
    window.library_pane.select(window.cases.get_by_uid("starter-016").id)
    patient = window.patient_view
    wait_for(lambda: window.case is not None and window.case.uid == "starter-016")
    window.tabs.setCurrentWidget(patient)
    patient.start()
    wait_for(lambda: patient.enc is not None)
    for mode, text in ((0, "When did this start?"), (0, "Have you travelled anywhere recently?"),
                       (0, "Do you take any medicines, like the pill?"), (1, "Legs"), (2, "Pregnancy test"),
                       (2, "CT pulmonary angiography")):
        patient.mode.setCurrentIndex(mode)
        patient.input.setText(text)
        patient.send()
        wait_for(lambda: not patient.answering)
    patient.mode.setCurrentIndex(0)
    wait(300)
    window.grab().save(str(OUT / "patient-encounter.png"))
    patient.leading.setText("Pulmonary embolism")
    patient.differential.setPlainText("Pneumonia\nPneumothorax\nPericarditis")
    patient.reasoning.setPlainText("1. Sudden pleuritic chest pain and breathlessness after a long flight\n"
                                   "2. On the combined pill with a swollen, tender left calf\n"
                                   "3. High probability: a pregnancy test, then CTPA")
    patient.commit()
    patient.ask_gazal()
    wait_for(lambda: bool(patient.enc.gazal_steps))
    wait(300)
    bar = patient.debrief.text.verticalScrollBar()
    bar.setValue(bar.maximum())  # the steps side by side, at the end of the debrief
    wait(200)
    window.grab().save(str(OUT / "patient-debrief.png"))
    patient.leave()
    window.set_backend(demo)

    # The dark theme, applied at once (no restart), on the same window.
    apply_appearance(AppSettings(theme="dark"))
    window.tabs.setCurrentIndex(0)
    window.library_pane.search.setText("")
    wait(600)
    window.library_pane.list.setCurrentRow(2)
    wait_for(lambda: window.chat_view.session is not None)
    window.chat_view.send("Which drug interaction explains this, and what is the next step?")
    wait_for(lambda: not window.chat_view.generating, 60000)
    wait(400)
    window.grab().save(str(OUT / "dark-chat.png"))
    window.tabs.setCurrentWidget(study)
    study.show_home()
    wait(400)
    window.grab().save(str(OUT / "dark-study-home.png"))
    window.close()
    print("saved:", ", ".join(p.name for p in sorted(OUT.glob("*.png"))))


if __name__ == "__main__":
    main()
