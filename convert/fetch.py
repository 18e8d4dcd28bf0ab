"""Get a checkpoint: a local folder, or the needed files of a Hugging Face repo.

Downloads go to the normal Hugging Face cache (HF_HOME / HF_HUB_CACHE), resume after an
interruption (huggingface-hub keeps ``.incomplete`` blobs) and honour HF_HUB_OFFLINE.
"""

from __future__ import annotations

import fnmatch
import re
import shutil
import threading
from pathlib import Path

from gazal_convert.errors import ConvertError
from gazal_convert.progress import Progress
from gazal_convert.sizes import human_bytes

DEFAULT_REPO = "TachyHealth/Gazal-R1-32B-GRPO-preview"

# What a conversion reads; nothing else (no .bin/.pth duplicates, no optimizer states).
ALLOW_PATTERNS = [
    "config.json",
    "generation_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "chat_template.jinja",
    "chat_template.json",
    "*.safetensors",
    "model.safetensors.index.json",
    "README.md",
]

REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


def is_repo_id(source: str) -> bool:
    return bool(REPO_ID.match(source)) and not source.startswith((".", "/"))


def resolve_source(source: str, revision: str | None, progress: Progress) -> tuple[Path, str | None]:
    """Return (checkpoint folder, repo id or None)."""
    path = Path(source).expanduser()
    if path.exists():
        if not path.is_dir():
            raise ConvertError(f"{source} is a file; give the checkpoint folder (the one with config.json)")
        return path, None
    if not is_repo_id(source):
        raise ConvertError(f"No such folder: {source} (and it is not a Hugging Face repo id like org/name)")
    return fetch_repo(source, revision, progress), source


def is_network_error(exc: BaseException) -> bool:
    """A failure to reach the Hub (no network, DNS, refused, timed out, TLS), whichever HTTP
    library huggingface-hub uses underneath (requests before 1.0, httpx after)."""
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return True
    for cls in type(exc).__mro__:
        root = cls.__module__.split(".")[0]
        if root in ("httpx", "httpx2", "httpcore", "requests", "urllib3", "ssl") and cls.__name__ != "HTTPStatusError":
            return True
    return False


def offline_message(repo_id: str, exc: BaseException) -> str:
    return (f"Could not reach the Hugging Face Hub to get {repo_id} ({type(exc).__name__}: {exc}). "
            "Check the internet connection and run again (a download resumes where it stopped), "
            "or convert a checkpoint folder you already have: gazal-convert /path/to/folder")


def _wanted(name: str) -> bool:
    return any(fnmatch.fnmatch(name, p) for p in ALLOW_PATTERNS)


def fetch_repo(repo_id: str, revision: str | None, progress: Progress) -> Path:
    from huggingface_hub import constants, snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )
    from huggingface_hub.utils import disable_progress_bars, enable_progress_bars

    total, n_files = 0, 0
    if not constants.HF_HUB_OFFLINE:
        total, n_files = _check_download_space(repo_id, revision)
    disable_progress_bars()  # one bar of ours instead of one per file
    monitor = _CacheMonitor(Path(constants.HF_HUB_CACHE), repo_id, total, n_files, progress)
    try:
        if total:
            monitor.start()
        folder = snapshot_download(repo_id, revision=revision, allow_patterns=ALLOW_PATTERNS)
    except LocalEntryNotFoundError:
        raise ConvertError(
            f"{repo_id} is not in the local Hugging Face cache and downloads are off "
            "(HF_HUB_OFFLINE is set, or the Hub cannot be reached). Connect and retry, or pass a local folder."
        ) from None
    except GatedRepoError:
        raise ConvertError(
            f"{repo_id} is gated: accept its terms on huggingface.co, then log in (hf auth login) or set HF_TOKEN"
        ) from None
    except RepositoryNotFoundError:
        raise ConvertError(f"No Hugging Face repo {repo_id} (or it is private: set HF_TOKEN)") from None
    except RevisionNotFoundError:
        raise ConvertError(f"{repo_id} has no revision {revision!r}") from None
    except HfHubHTTPError as exc:
        raise ConvertError(f"Download from {repo_id} failed: {exc}. Run again to resume.") from None
    except Exception as exc:
        if is_network_error(exc):
            raise ConvertError(offline_message(repo_id, exc)) from None
        if isinstance(exc, OSError):
            raise ConvertError(f"Download from {repo_id} failed: {exc}. Run again to resume.") from None
        raise
    finally:
        monitor.stop()
        enable_progress_bars()
    return Path(folder)


def _check_download_space(repo_id: str, revision: str | None) -> tuple[int, int]:
    """Bytes still to fetch and their file count; refuse early when they cannot fit."""
    from huggingface_hub import HfApi, constants, try_to_load_from_cache
    from huggingface_hub.errors import HfHubHTTPError

    try:
        info = HfApi().model_info(repo_id, revision=revision, files_metadata=True)
    except HfHubHTTPError:
        return 0, 0  # the download itself reports what is wrong
    except Exception as exc:
        if is_network_error(exc):
            raise ConvertError(offline_message(repo_id, exc)) from None
        if isinstance(exc, OSError):
            return 0, 0
        raise
    todo = [
        s for s in (info.siblings or [])
        if _wanted(s.rfilename)
        and not isinstance(try_to_load_from_cache(repo_id, s.rfilename, revision=info.sha), str)
    ]
    need = sum(s.size or 0 for s in todo)
    cache = Path(constants.HF_HUB_CACHE)
    cache.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(cache).free
    if need > free:
        raise ConvertError(
            f"Not enough free disk for the download: {repo_id} needs {human_bytes(need)} in "
            f"{cache}, which has {human_bytes(free)} free. Free space or set HF_HUB_CACHE to a bigger disk."
        )
    return need, len(todo)


class _CacheMonitor:
    """Reports download progress by watching the repo's blob folder grow."""

    def __init__(self, cache: Path, repo_id: str, total: int, n_files: int, progress: Progress) -> None:
        self.blobs = cache / ("models--" + repo_id.replace("/", "--")) / "blobs"
        self.total, self.n_files, self.progress = total, n_files, progress
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def _sizes(self) -> tuple[int, int]:
        size, done = 0, 0
        try:
            for p in self.blobs.iterdir():
                try:
                    size += p.stat().st_size
                except OSError:
                    continue
                done += not p.name.endswith(".incomplete")
        except OSError:
            pass
        return size, done

    def start(self) -> None:
        self._base, self._base_done = self._sizes()
        self.progress.start("Downloading", self.total, self.n_files)
        self._seen, self._seen_done = 0, 0
        self._thread = threading.Thread(target=self._run, name="download-monitor", daemon=True)
        self._thread.start()

    def _tick(self) -> None:
        with self._lock:
            size, done = self._sizes()
            grown = max(0, min(self.total, size - self._base) - self._seen)
            files = max(0, done - self._base_done - self._seen_done)
            self._seen += grown
            self._seen_done += files
        if grown or files:
            self.progress.advance(grown, items=files)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            self._tick()

    def stop(self) -> None:
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._tick()
            self.progress.finish()
            self._thread = None
