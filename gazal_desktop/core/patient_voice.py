"""The simulated patient's voice: the model answers the learner's question in the patient's
words, through the same ChatSession and backend path as a discussion, with a prompt built
from the patient script's history only (core.patient.patient_prompt).

Without a model, the patient still answers: with the script's own words for what the
question elicited, labelled as scripted. Nothing is invented either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from gazal_desktop.core.backends.base import Backend, Message
from gazal_desktop.core.cancel import CancelToken
from gazal_desktop.core.chat import ChatMessage, ChatSession
from gazal_desktop.core.events import Event
from gazal_desktop.core.patient import Encounter, patient_prompt
from gazal_desktop.core.sampling import Sampling

# Brief reasoning, a short answer: a patient speaks in a sentence or three.
PATIENT_SAMPLING = Sampling(temperature=0.7, top_p=0.8, top_k=20, max_tokens=200, reasoning_budget=192)
OPENING_CUE = "(The student greets you and asks what brings you in today.)"


@dataclass
class PatientChat(ChatSession):
    """A ChatSession whose system message is the patient prompt alone (no case vignette)."""

    def _system(self) -> Message:
        return {"role": "system", "content": self.system_prompt}


def patient_chat(backend: Backend, enc: Encounter, sampling: Sampling | None = None) -> PatientChat:
    """The dialogue so far as a chat: the learner's questions as the user's turns, the
    patient's words as the assistant's. Examinations and results are not part of it."""
    messages = [ChatMessage("user", OPENING_CUE)]
    messages += [ChatMessage(role, text) for role, text in enc.patient_history()]
    return PatientChat(backend=backend, vignette="", sampling=sampling or PATIENT_SAMPLING,
                       system_prompt=patient_prompt(enc.script), messages=messages, prefill_after_reply=False)


def answer(backend: Backend | None, enc: Encounter, cancel: CancelToken | None = None) -> Iterator[Event]:
    """Stream the patient's answer to the newest question (already recorded by `enc.ask`).
    The caller records the finished reply's text with `enc.patient_said`."""
    chat = patient_chat(backend, enc)
    yield from chat.reply(cancel)


def scripted_answer(enc: Encounter) -> str:
    """What the patient says without a model: the script's words for what the newest question
    asked about (also when asked again), or a plain "not sure"."""
    asked = enc.turns[-1].ids if enc.turns and enc.turns[-1].kind == "ask" else []
    by_id = {h.id: h for h in enc.script.history}
    said = [by_id[i].fact for i in asked if i in by_id]
    return " ".join(said) if said else "I'm not sure what you mean. Could you ask me another way?"
