"""The app's settings: a JSON file in the data folder, written atomically."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from gazal_desktop.core.atomic import write_text_atomic


@dataclass
class AppSettings:
    disclaimer_version: str = ""  # the version the learner accepted ("" = never)
    disclaimer_accepted_at: str = ""
    theme: str = "system"  # system, light, dark
    font_size: int = 0  # 0 = the system's
    preset: str = "Gazal-R1 model card"
    n_ctx: int = 8192
    n_gpu_layers: int = -2  # -2 = recommended by the fit check
    n_threads: int = 0  # 0 = all cores
    backend: str = "local"  # local or server
    server_url: str = ""
    server_model: str = ""
    last_model: str = ""
    extra: dict = field(default_factory=dict)

    def accept_disclaimer(self, version: str) -> None:
        self.disclaimer_version = version
        self.disclaimer_accepted_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")

    def needs_disclaimer(self, version: str) -> bool:
        return self.disclaimer_version != version


def settings_path(data_dir: Path) -> Path:
    return data_dir / "settings.json"


def load_settings(data_dir: Path) -> AppSettings:
    path = settings_path(data_dir)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        known = {f.name for f in fields(AppSettings)}
        return AppSettings(**{k: v for k, v in raw.items() if k in known})
    except FileNotFoundError:
        return AppSettings()
    except (ValueError, TypeError):
        path.replace(path.with_suffix(".damaged.json"))  # keep it; start from defaults
        return AppSettings()


def save_settings(data_dir: Path, settings: AppSettings) -> None:
    write_text_atomic(settings_path(data_dir), json.dumps(asdict(settings), indent=2))
