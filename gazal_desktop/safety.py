"""Safety framing shared by the app, every export and the converter's GGUF metadata.

No Qt here: the converter and the core import this module.
"""

from __future__ import annotations

DISCLAIMER_VERSION = "2026-11-1"

DISCLAIMER_TITLE = "Educational use only - not a medical device"

DISCLAIMER = (
    "Gazal Desktop and the Gazal-R1 model are research and education tools. They are NOT a "
    "medical device and must not be used to diagnose, treat or make decisions about real "
    "patients. Every output can be wrong and must be verified by a qualified health "
    "professional. Do not use this software in an emergency or for time-critical decisions: "
    "call your local emergency number. Do not enter identifiable patient data."
)

# One line, for places with little room: GGUF metadata, window banners, file footers.
MODEL_NOTE = (
    "Research/education model for clinical-reasoning practice on case vignettes. "
    "Not a medical device; outputs must be verified by a qualified professional; "
    "never for emergencies or real patient care."
)
