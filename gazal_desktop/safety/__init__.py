"""Safety framing and checks shared by the app, every export and the converter's GGUF metadata.

- framing: the disclaimer and its version, the model note, the emergency message and the
  safety rules in the model's system prompt;
- emergency: real emergencies happening now, which this app must not try to handle;
- identifiers: identifiers of the HIPAA Safe Harbor list, found and redacted, so real
  patient data does not slip into a teaching library.

Rule- and list-based on purpose: predictable, explainable, offline, fast enough to run on
every keystroke. No Qt here. Measured with `python benchmarks/safety_eval.py`.
"""

from gazal_desktop.safety.emergency import EmergencySignal, emergency_signals
from gazal_desktop.safety.framing import (
    DISCLAIMER, DISCLAIMER_TITLE, DISCLAIMER_VERSION, EMERGENCY_MESSAGE, MODEL_NOTE, MODEL_SAFETY_RULES,
)
from gazal_desktop.safety.identifiers import LABELS, PhiSpan, phi_spans, redact

__all__ = [
    "DISCLAIMER", "DISCLAIMER_TITLE", "DISCLAIMER_VERSION", "EMERGENCY_MESSAGE", "MODEL_NOTE", "MODEL_SAFETY_RULES",
    "EmergencySignal", "emergency_signals", "PhiSpan", "phi_spans", "redact", "LABELS",
]
