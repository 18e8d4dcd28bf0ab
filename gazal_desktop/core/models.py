"""Local GGUF models: a registry, and downloads from Hugging Face repos.

The registry lists the app's model folder plus files the user pointed at. A download
goes to a hidden ``.NAME.download`` file beside its target, resumes with an HTTP Range
request, is checked against the repo's sha256, and only then is renamed to ``NAME.gguf``:
a partial file is never offered for use.
"""

from __future__ import annotations

import hashlib
import http.client
import socket
import json
import os
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from gazal_convert.errors import ConvertError
from gazal_convert.gguf_info import read_summary

from gazal_desktop.core.atomic import write_text_atomic
from gazal_convert.fetch import is_network_error
from gazal_desktop.core.cancel import CancelToken
from gazal_desktop.core.paths import models_dir

CHUNK = 1024 * 1024
PARTIAL_SUFFIX = ".download"


class ModelError(Exception):
    """A problem with a model file or download, in words for the learner."""


class DownloadCancelled(ModelError):
    pass


@dataclass(frozen=True)
class ModelEntry:
    path: Path
    size: int
    name: str
    file_type: str  # e.g. "Q4_K_M"
    added: bool  # pointed at by the user rather than in the models folder
    missing: bool = False


def _file_type_label(ftype: int | None) -> str:
    import gguf

    try:
        return gguf.LlamaFileType(int(ftype)).name.replace("MOSTLY_", "").replace("ALL_", "")
    except (TypeError, ValueError):
        return "?"


def describe_gguf(path: Path) -> ModelEntry:

    try:
        s = read_summary(path)
    except ConvertError as exc:
        raise ModelError(str(exc)) from None
    return ModelEntry(path, s.file_size, str(s.metadata.get("general.name") or path.stem),
                      _file_type_label(s.metadata.get("general.file_type")), added=False)


class ModelRegistry:
    def __init__(self, data_dir: Path) -> None:
        self.folder = models_dir(data_dir)
        self.index = data_dir / "models.json"

    def _added(self) -> list[str]:
        try:
            return list(json.loads(self.index.read_text(encoding="utf-8")).get("added", []))
        except (OSError, ValueError, AttributeError):
            return []

    def _save(self, added: list[str]) -> None:
        write_text_atomic(self.index, json.dumps({"added": added}, indent=2))

    def list(self) -> list[ModelEntry]:
        out = []
        for p in sorted(self.folder.glob("*.gguf")):
            if p.name.startswith("."):
                continue
            try:
                out.append(describe_gguf(p))
            except ModelError:
                continue  # a damaged file in the folder is not offered
        for s in self._added():
            p = Path(s)
            if not p.is_file():
                out.append(ModelEntry(p, 0, p.stem, "?", added=True, missing=True))
                continue
            try:
                e = describe_gguf(p)
                out.append(ModelEntry(e.path, e.size, e.name, e.file_type, added=True))
            except ModelError:
                out.append(ModelEntry(p, 0, p.stem, "?", added=True, missing=True))
        return out

    def add(self, path: str | Path) -> ModelEntry:
        """Remember a GGUF the user opened (validated first)."""
        p = Path(path).expanduser().resolve()
        entry = describe_gguf(p)
        added = self._added()
        if str(p) not in added and p.parent != self.folder.resolve():
            added.append(str(p))
            self._save(added)
        return ModelEntry(entry.path, entry.size, entry.name, entry.file_type, added=True)

    def forget(self, path: str | Path) -> None:
        self._save([s for s in self._added() if s != str(Path(path).expanduser().resolve())])


# -- Hugging Face ------------------------------------------------------------------------
@dataclass(frozen=True)
class RemoteFile:
    repo_id: str
    filename: str
    size: int
    sha256: str | None
    revision: str | None = None


OFFLINE = ("Could not reach Hugging Face to {what}: this computer seems to have no internet connection (or a "
           "firewall or proxy blocks it). Check the connection and try again, or use a model you already have: "
           "Model ▸ Open GGUF file…, or convert a checkpoint folder on this computer.")


def list_repo_ggufs(repo_id: str, revision: str | None = None, endpoint: str | None = None,
                    token: str | None = None) -> list[RemoteFile]:
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

    try:
        info = HfApi(endpoint=endpoint, token=token).model_info(repo_id, revision=revision, files_metadata=True)
    except RepositoryNotFoundError:
        raise ModelError(f"No Hugging Face repo {repo_id} (or it is private: log in first)") from None
    except HfHubHTTPError as exc:
        raise ModelError(f"Could not list {repo_id}: {exc}") from None
    except Exception as exc:
        if is_network_error(exc):
            raise ModelError(OFFLINE.format(what=f"list the files of {repo_id}")) from None
        if isinstance(exc, OSError):
            raise ModelError(f"Could not list {repo_id}: {exc}") from None
        raise
    files = []
    for s in info.siblings or []:
        if s.rfilename.lower().endswith(".gguf"):
            sha = s.lfs.sha256 if s.lfs is not None else None
            files.append(RemoteFile(repo_id, s.rfilename, int(s.size or 0), sha, info.sha or revision))
    return sorted(files, key=lambda f: f.size)


def partial_path(final: Path) -> Path:
    return final.with_name(f".{final.name}{PARTIAL_SUFFIX}")


def download_gguf(
    remote: RemoteFile,
    dest_dir: Path,
    progress: Callable[[int, int], None] | None = None,
    cancel: CancelToken | None = None,
    endpoint: str | None = None,
    token: str | None = None,
) -> Path:
    """Download (or resume) `remote` into `dest_dir`, verify it, and return the final path."""
    from huggingface_hub import hf_hub_url
    from huggingface_hub.utils import build_hf_headers

    cancel = cancel or CancelToken()
    final = dest_dir / Path(remote.filename).name
    part = partial_path(final)
    if final.exists():
        raise ModelError(f"{final.name} is already in {dest_dir}")
    have = part.stat().st_size if part.exists() else 0
    if have > remote.size:
        part.unlink()
        have = 0
    free = shutil.disk_usage(dest_dir).free
    if remote.size - have > free:
        raise ModelError(
            f"Not enough free disk: {final.name} needs {(remote.size - have) / 1e9:.1f} GB more in {dest_dir}, "
            f"which has {free / 1e9:.1f} GB free."
        )
    digest = hashlib.sha256()
    if have:  # the hash must cover the bytes already on disk
        with open(part, "rb") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
    url = hf_hub_url(remote.repo_id, remote.filename, revision=remote.revision, endpoint=endpoint)
    headers = build_hf_headers(token=token)
    if have:
        headers["Range"] = f"bytes={have}-"
    req = urllib.request.Request(url, headers=headers)
    done = have
    if progress:
        progress(done, remote.size)
    try:
        resp = urllib.request.urlopen(req, timeout=60)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have == remote.size:
            resp = None
        else:
            raise ModelError(f"The download of {remote.filename} failed: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, (OSError, TimeoutError)) and not isinstance(reason, PermissionError):
            raise ModelError(OFFLINE.format(what=f"download {remote.filename}") + " What was already downloaded "
                             "is kept: it resumes from there.") from None
        raise ModelError(f"The download of {remote.filename} failed: {reason}. "
                         "Nothing is lost: it resumes from where it stopped.") from None
    if resp is not None:
        unregister = cancel.on_cancel(lambda: _shut(resp))
        try:
            if have and resp.status == 200:  # the server ignored Range: start over
                digest, done = hashlib.sha256(), 0
                mode = "wb"
            else:
                mode = "ab" if have else "wb"
            with open(part, mode) as out:
                while True:
                    if cancel.cancelled:
                        raise DownloadCancelled("Download paused; it resumes from here next time.")
                    try:
                        chunk = resp.read(CHUNK)
                    except (OSError, ValueError, AttributeError, http.client.HTTPException) as exc:  # closed by Stop
                        if cancel.cancelled:
                            raise DownloadCancelled("Download paused; it resumes from here next time.") from None
                        raise ModelError(f"The download of {remote.filename} was interrupted ({exc}). "
                                         "Run it again to resume.") from None
                    if not chunk:
                        break
                    if remote.size and done + len(chunk) > remote.size:
                        # never more than the repo announced: a wrong or hostile server could fill the disk
                        out.close()
                        part.unlink(missing_ok=True)
                        raise ModelError(f"The server sent more than the {remote.size:,} bytes {remote.filename} "
                                         "has in the repo, so the download was stopped and deleted. "
                                         "Try again later or from another mirror.")
                    out.write(chunk)
                    digest.update(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, remote.size)
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            raise ModelError(f"Could not write {part}: {exc.strerror or exc}") from None
        finally:
            unregister()
            _close_quietly(resp)
    if done != remote.size:
        raise ModelError(f"The download of {remote.filename} stopped at {done:,} of {remote.size:,} bytes. "
                         "Run it again to resume.")
    if remote.sha256 and digest.hexdigest() != remote.sha256:
        part.unlink()
        raise ModelError(f"{remote.filename} is corrupted (its sha256 does not match the repo's); "
                         "the damaged file was deleted. Download it again.")
    os.replace(part, final)
    return final


def _close_quietly(resp) -> None:
    try:
        resp.close()
    except Exception:
        pass


def _shut(resp) -> None:
    """Pause/Cancel: shut the socket the download reads from. Closing the response alone does
    not wake a read that waits for the next bytes of a slow link (Pause took 120 s)."""
    sock = getattr(getattr(getattr(resp, "fp", None), "raw", None), "_sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    _close_quietly(resp)
