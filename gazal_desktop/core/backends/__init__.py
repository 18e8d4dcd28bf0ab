"""Backends: one streaming interface, a local llama.cpp and an OpenAI-compatible server."""

from gazal_desktop.core.backends.base import Backend, BackendError

__all__ = ["Backend", "BackendError"]
