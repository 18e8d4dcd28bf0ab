"""The window's model actions: open a GGUF (fit check and load dialog), load in the background
with Cancel, reload after a settings change, download, convert, connect to a server."""

from __future__ import annotations


from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog, QProgressDialog

from gazal_desktop.core.cancel import CancelToken
from gazal_desktop.core.settings import save_settings


class ModelActions:
    """Mixed into MainWindow (uses its settings, runners, status bar and set_backend)."""

    def open_model(self, path: str | None = None, confirm: bool = True) -> None:
        """Fit check, then the load dialog (context, GPU layers, KV cache, flash attention,
        the verdict following them). `confirm=False` (reopening last time's model) loads with
        the saved settings unless the model will not fit."""
        if not path:
            path, _ = QFileDialog.getOpenFileName(self, "Open a GGUF model", "", "GGUF models (*.gguf)")
        if not path:
            return
        from gazal_desktop.core import hardware

        def fit():
            shape = hardware.ModelShape.from_gguf(path)
            hw = hardware.detect()
            return shape, hw, hardware.recommend(shape, hw, self.settings.n_ctx)

        def decide(result):
            shape, hw, f = result
            if not confirm:
                if f.verdict == "won't fit":
                    _show_error(self, "This model will not fit in this computer's memory.",
                               f"{shape.name}: {f.describe(shape.n_layer)}\n" + "\n".join(f.notes))
                    return
                self._load(path, self._choices_from(f))
                return
            from gazal_desktop.ui.load_dialog import LoadModelDialog

            dlg = LoadModelDialog(shape, hw, self.settings.n_ctx, self.settings.n_gpu_layers, self)
            self.load_dialog = dlg
            dlg.accepted.connect(lambda: self._load(path, dlg.choices()))
            dlg.open()

        self.runner.run(fit, decide, lambda e, tb: _show_error(self, f"This file cannot be used as a model: {e}", tb))

    def _choices_from(self, f) -> dict:
        layers = f.n_gpu_layers if self.settings.n_gpu_layers == -2 else self.settings.n_gpu_layers
        return dict(n_ctx=f.n_ctx, n_gpu_layers=layers, kv_type="f16", flash_attn=None)

    def _load(self, path: str, choices: dict) -> None:
        from gazal_desktop.core.backends.local import LocalBackend, LocalSettings

        cancel = CancelToken()
        dialog = QProgressDialog("Loading the model…", "Cancel", 0, 100, self)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.canceled.connect(cancel.cancel)
        dialog.show()
        settings = LocalSettings(n_threads=self.settings.n_threads or None, **choices)

        def done(backend):
            dialog.close()
            self.set_backend(backend)
            self.settings.last_model = str(path)  # reopened at the next start
            if backend.fallback_reason:
                self.statusBar().showMessage(backend.fallback_reason, 20000)

        def failed(exc, tb):
            dialog.close()
            _show_error(self, f"The model could not be loaded. {exc}", getattr(exc, "detail", "") or tb)

        self.model_runner.run(lambda report: LocalBackend.load(path, settings, lambda p: report(int(p * 100)), cancel),
                              done, failed, on_progress=dialog.setValue)

    def download_model(self) -> None:
        from gazal_desktop.core.paths import models_dir
        from gazal_desktop.ui.model_setup import DownloadDialog

        dlg = DownloadDialog(models_dir(self.data_dir), self)
        dlg.downloaded.connect(lambda path: (dlg.accept(), self.open_model(path)))
        dlg.show()

    def convert_model(self) -> None:
        from gazal_desktop.core.paths import models_dir
        from gazal_desktop.ui.model_setup import ConvertDialog

        dlg = ConvertDialog(models_dir(self.data_dir), self)
        dlg.converted.connect(lambda path: (dlg.accept(), self.open_model(path)))
        dlg.show()

    def connect_server(self) -> None:
        url, ok = QInputDialog.getText(self, "Connect to a server", "Server address (for example http://127.0.0.1:8080/v1):",
                                       text=self.settings.server_url)
        if not ok or not url:
            return
        from gazal_desktop.core.backends.openai_compat import OpenAIBackend

        def connect():
            b = OpenAIBackend(url, self.settings.server_model)
            b.check()
            return b

        def done(b):
            self.settings.server_url = url
            self.set_backend(b)
            try:
                save_settings(self.data_dir, self.settings)
            except OSError:
                self.statusBar().showMessage("Connected; the address could not be saved for next time (disk).", 10000)

        self.runner.run(connect, done, lambda e, tb: _show_error(self, str(e), getattr(e, "detail", "") or tb))

    def reload_model(self) -> None:
        """Load the open model again with the current settings (the fit check runs again)."""
        from gazal_desktop.core import hardware

        path = str(self.backend.path)

        def fit():
            shape = hardware.ModelShape.from_gguf(path)
            return hardware.recommend(shape, hardware.detect(), self.settings.n_ctx)

        def reload(f) -> None:
            if f.verdict == "won't fit":
                _show_error(self, "With these settings the model will not fit in this computer's memory; it stays "
                                 "loaded as it was.", "\n".join(f.notes))
                return
            self._load(path, self._choices_from(f))

        self.runner.run(fit, reload, lambda e, tb: _show_error(self, f"The model could not be reloaded: {e}", tb))



def _show_error(parent, message: str, detail: str = "") -> None:
    from gazal_desktop.ui.main_window import show_error

    show_error(parent, message, detail)
