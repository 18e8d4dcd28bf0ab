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
    """The saved settings. A damaged file never stops the app: it is kept aside as
    settings.damaged.json, the defaults are used, and `settings.problem` says so. A value of
    the wrong type falls back to its default alone."""
    path = settings_path(data_dir)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict):
            raise ValueError("not a JSON object")
    except FileNotFoundError:
        return AppSettings()
    except (ValueError, UnicodeDecodeError, OSError) as exc:
        try:
            path.replace(path.with_suffix(".damaged.json"))  # keep it; start from defaults
        except OSError:
            pass
        settings = AppSettings()
        settings.problem = (f"The settings file could not be read ({exc}); the defaults are used and the old "
                            f"file was kept as {path.with_suffix('.damaged.json').name}.")
        return settings
    defaults = AppSettings()
    good, bad = {}, []
    for f in fields(AppSettings):
        if f.name not in raw:
            continue
        value, default = raw[f.name], getattr(defaults, f.name)
        if isinstance(value, type(default)) and not (isinstance(value, bool) and not isinstance(default, bool)):
            good[f.name] = value
        else:
            bad.append(f.name)
    settings = AppSettings(**good)
    if bad:
        settings.problem = f"Some settings had values that could not be used and were reset: {', '.join(bad)}."
    return settings


def save_settings(data_dir: Path, settings: AppSettings) -> None:
    write_text_atomic(settings_path(data_dir), json.dumps(asdict(settings), indent=2))
