"""The words every screen, export and GGUF carries: the disclaimer (and its version, which
makes the gate ask again when it changes), the one-line model note, the emergency message,
and the safety rules the model is told in its system prompt.

The limits named here follow the Gazal-R1 model card: static knowledge, regional bias,
invented facts and references, reasoning that reads well when it is wrong.
"""

from __future__ import annotations

DISCLAIMER_VERSION = "2026-11-2"

DISCLAIMER_TITLE = "Educational use only - not a medical device"

DISCLAIMER = (
    "Gazal Desktop and the Gazal-R1 model are research and education tools. They are NOT a "
    "medical device and must not be used to diagnose, treat or make decisions about real "
    "patients. Do not use this software in an emergency or for time-critical decisions: call "
    "your local emergency number. Do not enter identifiable patient data.\n\n"
    "What the model cannot do: its knowledge is fixed at training time and is never updated "
    "(guidelines, drug approvals and doses change); it carries regional bias (drug names, doses "
    "and guidelines differ between countries); it can invent facts, doses and references that "
    "look real; and its shown reasoning can read convincingly when it is wrong. Every output "
    "must be verified by a qualified professional, current guidelines or your faculty."
)

# One line, for places with little room: GGUF metadata, window banners, file footers.
MODEL_NOTE = (
    "Research/education model for clinical-reasoning practice on case vignettes. "
    "Not a medical device; static knowledge that can be out of date or invented; outputs must be "
    "verified by a qualified professional; never for emergencies or real patient care."
)

EMERGENCY_MESSAGE = (
    "This app cannot help in an emergency. If you or someone with you may be in danger, call your "
    "local emergency number now (911 in the US and Canada, 112 in the EU, 999 in the UK). "
    "If someone swallowed something harmful, call poison control (1-800-222-1222 in the US) or the "
    "emergency number. If you are thinking about suicide, contact a crisis line such as 988 in the US."
)

# Appended to the tutor's system prompt (core/chat.py).
MODEL_SAFETY_RULES = (
    "Safety rules: if the user describes a real person, their own symptoms or an emergency, do not "
    "assess it; tell them to contact local emergency services or their own clinician, and offer to "
    "discuss a fictional teaching case instead. Never invent citations, guideline names or trial "
    "results; say when you are unsure. Mark every drug dose as to be checked against a current local "
    "formulary."
)

__all__ = ["DISCLAIMER_VERSION", "DISCLAIMER_TITLE", "DISCLAIMER", "MODEL_NOTE", "EMERGENCY_MESSAGE",
           "MODEL_SAFETY_RULES"]
