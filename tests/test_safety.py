"""The emergency and identifiable-data checks, as tables of cases written for this project."""

from __future__ import annotations

import pytest

from gazal_desktop.safety import DISCLAIMER, DISCLAIMER_VERSION, emergency_signals, phi_spans, redact
from gazal_desktop.safety.normalize import normalize

EMERGENCIES = [
    ("I'm having chest pain right now and my left arm is numb", "cardiac"),
    ("i am having crushing chest pain, what do i do", "cardiac"),
    ("My chest hurts and I'm sweating a lot", "cardiac"),
    ("my dad isn't breathing", "breathing"),
    ("My mom is not breathing properly, help", "breathing"),
    ("I can't breathe", "breathing"),
    ("my baby is choking on a grape", "breathing"),
    ("My husband collapsed and won't wake up", "unresponsive"),
    ("my grandmother is unresponsive on the floor", "unresponsive"),
    ("I just took 30 pills of Tylenol", "overdose"),
    ("I took a whole bottle of my sleeping pills", "overdose"),
    ("my friend swallowed all of her antidepressants an hour ago", "overdose"),
    ("I think I overdosed", "overdose"),
    ("I want to kill myself", "suicide"),
    ("I'm going to end it all tonight", "suicide"),
    ("im suicidal", "suicide"),
    ("I don't want to live anymore", "suicide"),
    ("My face is drooping and my words come out wrong", "stroke"),
    ("my right arm suddenly went numb and weak", "stroke"),
    ("my wife is slurring her words and can't move her arm", "stroke"),
    ("I'm bleeding heavily and it won't stop", "bleeding"),
    ("the bleeding won't stop after the fall", "bleeding"),
    ("my son is having a seizure", "seizure"),
    ("My throat is closing up after eating peanuts", "allergy"),
]

NOT_EMERGENCIES = [
    "A 65-year-old man presents with chest pain radiating to the jaw.",
    "A 24-year-old woman is brought in after ingesting 30 tablets of acetaminophen.",
    "What is the management of an acetaminophen overdose?",
    "How do you assess suicide risk in a patient with depression?",
    "If a patient says \"I want to kill myself\", what should the resident do next?",
    "The patient states 'I can't breathe' and has an SpO2 of 82%.",
    "List the signs of stroke that FAST covers.",
    "Explain why a patient's face droops in Bell's palsy but the forehead is spared in a stroke.",
    "I took 20 mg of atorvastatin for years; how does it work?",
    "I took 2 ibuprofen for a headache yesterday.",
    "My attending asked me to present a case of status epilepticus tomorrow.",
    "Quiz me on the ACLS algorithm for pulseless electrical activity.",
    "I am studying for the exam and my chest X-ray interpretation is weak.",
    "What should I do first when a patient in the ward stops breathing?",
]


@pytest.mark.parametrize("text,kind", EMERGENCIES)
def test_emergencies_are_caught(text, kind):
    signals = emergency_signals(text)
    assert signals, text
    assert kind in {s.kind for s in signals}
    s = signals[0]
    assert normalize(text)[s.start:s.end] == s.text  # offsets into the text as the check read it


@pytest.mark.parametrize("text", NOT_EMERGENCIES)
def test_teaching_content_is_not_an_emergency(text):
    assert emergency_signals(text) == []


PHI = [
    ("Patient John Smith was admitted with pneumonia.", "name", "John Smith"),
    ("Seen by Dr. Amira Haddad on the ward.", "name", "Amira Haddad"),
    ("Mrs. O'Neill reports dizziness.", "name", "O'Neill"),
    ("Thanks,\n— Layla Mansour, MD", "name", "Layla Mansour"),
    ("Call the family at (617) 555-0134 tomorrow.", "phone", "(617) 555-0134"),
    ("Mobile: +44 20 7946 0958", "phone", "+44 20 7946 0958"),
    ("Fax: 212-555-0188", "fax", "212-555-0188"),
    ("Send results to j.doe@example-hospital.org please", "email", "j.doe@example-hospital.org"),
    ("SSN 123-45-6789 on the form", "ssn", "123-45-6789"),
    ("MRN: 00482913", "mrn", "00482913"),
    ("medical record number A12-99321", "mrn", "A12-99321"),
    ("Account #: 7781-2231", "account", "7781-2231"),
    ("Insurance member ID: XKG48219931", "health_plan", "XKG48219931"),
    ("DEA number AB1234563", "license", "AB1234563"),
    ("Pacemaker serial: PZR448812", "device", "PZR448812"),
    ("Admitted on 03/14/2024 with fever", "date", "03/14/2024"),
    ("DOB 1952-07-09", "date", "1952-07-09"),
    ("Surgery was on March 3, 2024.", "date", "March 3, 2024"),
    ("Follow-up on 14 February", "date", "14 February"),
    ("DOB: 7/9", "date", "7/9"),
    ("A 93-year-old woman with hip pain", "age", "93-year-old"),
    ("She is aged 101 and lives alone", "age", "101"),
    ("Lives at 42 Cedar Hill Road, Apt 3", "address", "42 Cedar Hill Road, Apt 3"),
    ("Boston, MA 02115", "zip", "02115"),
    ("See https://portal.example.org/patient/8812", "url", "https://portal.example.org/patient/8812"),
    ("Logged in from 192.168.10.24", "ip", "192.168.10.24"),
]

CLINICAL = [
    "A 58-year-old man with BP 150/90 mm Hg, HR 104/min, RR 22/min, SpO2 94% on room air.",
    "Give aspirin 325 mg, then ticagrelor 180 mg; heparin 60 units/kg bolus.",
    "Labs: Na 131 mEq/L, K 5.8 mmol/L, creatinine 1.4 mg/dL, WBC 12,000/mm3, platelets 150000/uL.",
    "An 89-year-old woman presents with confusion; GCS 13; temperature 38.5 C.",
    "ECG: ST elevation in II, III, aVF; QTc 480 ms; troponin 2.3 ng/mL.",
    "Patient presents with fever. Patient denies chest pain.",
    "Dr. Patient-safety rounds: the team discusses day 3 of antibiotics, 5/5 strength.",
    "INR 3.2 on warfarin 5 mg daily; HbA1c 9.1%; eGFR 42 mL/min/1.73 m2.",
    "Step 1: consider PE (Wells score 4.5). Step 2: CT pulmonary angiogram.",
]


@pytest.mark.parametrize("text,kind,value", PHI)
def test_identifiers_are_found(text, kind, value):
    spans = phi_spans(text)
    assert any(s.kind == kind and s.text == value for s in spans), spans
    for s in spans:
        assert text[s.start:s.end] == s.text


@pytest.mark.parametrize("text", CLINICAL)
def test_clinical_numbers_are_left_alone(text):
    assert phi_spans(text) == []


def test_redaction_replaces_each_identifier():
    text = "Patient Omar Haddad, MRN 55123987, DOB 02/11/1950, phone 617-555-0134. BP 128/76, K 4.1."
    out = redact(text)
    assert out == "Patient [NAME], MRN [MRN], DOB [DATE], phone [PHONE]. BP 128/76, K 4.1."
    assert phi_spans(out) == []


def test_the_disclaimer_says_what_matters():
    assert DISCLAIMER_VERSION
    for phrase in ("NOT a medical device", "qualified professional", "emergency", "identifiable patient data",
                   "never updated", "regional bias", "invent facts, doses and references", "reasoning can read convincingly"):
        assert phrase in DISCLAIMER


# -- the examples quoted in the issue that asked for checks that generalize ----------------

QUOTED_EMERGENCIES = [
    "my dad just collapsed and isnt breathing what do i do",
    "baby turning blue",
    "help my husband is on the floor and hes not responding",
    "I dont want to be here anymore. the rope is ready",
    "my 2 year old swallowed a button battery 10 minutes ago",
    "There is a man lying in the street not breathing, I'm with him now",
    "suddenly the worst headache of my life and I threw up, I'm alone at home",
    "i injected way too much insulin and im shaking and confused",
]


@pytest.mark.parametrize("text", QUOTED_EMERGENCIES)
def test_the_quoted_emergencies_are_caught(text):
    assert emergency_signals(text), text


@pytest.mark.parametrize("text,value", [
    ("Seen John Smith today", "John Smith"),
    ("Maria Gonzalez, 54F", "Maria Gonzalez"),
    ("Smith, John A. 68M", "Smith, John A."),
    ("her son David", "David"),
    ("Springfield, IL", "Springfield, IL"),
    ("from Dearborn, Michigan", "Dearborn, Michigan"),
    ("ZIP 94110", "94110"),
    ("policy# XYZ778812", "XYZ778812"),
    ("seen on 12/03", "12/03"),
    ("a ninety-three year old woman", "ninety-three year old"),
    ("Seen John Smith, MRN 12345678, DOB 03/14/1950", "John Smith"),
])
def test_the_quoted_identifiers_are_found(text, value):
    assert value in [s.text for s in phi_spans(text)]


@pytest.mark.parametrize("text", ["INR 4.5-10 without bleeding", "start 2.5-10 mg daily", "Pt Alert and oriented",
                                  "Patient Ambulating independently"])
def test_the_quoted_false_alarms_are_gone(text):
    assert phi_spans(text) == []


def test_the_labelled_sets_meet_the_targets_on_both_parts():
    """benchmarks/safety_eval.py's figures: recall >= 0.95 with false alarms <= 5%, on the part
    the rules were tuned on and on the part written after they were finished."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from safety_eval import evaluate

    for which in ("emergency", "identifiers"):
        res = evaluate(which)
        for part in ("tune", "held-out"):
            (hit, n), (fa, nn) = res[part]["recall"], res[part]["false_alarms"]
            assert n >= 25 and nn >= 25, (which, part)
            assert hit / n >= 0.95 and fa / nn <= 0.05, (which, part, res[part]["misses"])


def test_the_scan_index_finds_what_an_exhaustive_scan_finds():
    """Each pattern is tried only where its first words stand; trying every pattern at every
    position must give the same result on every labelled text."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
    from safety_eval import load_emergency, load_identifiers

    texts = [r["text"] for r in load_emergency() + load_identifiers()]
    for text in texts:
        assert emergency_signals(text) == emergency_signals(text, exhaustive=True), text
        assert phi_spans(text) == phi_spans(text, exhaustive=True), text


def test_the_framing_matches_the_model_card():
    from gazal_desktop.core.chat import SYSTEM_PROMPT
    from gazal_desktop.safety import EMERGENCY_MESSAGE

    assert DISCLAIMER_VERSION == "2026-11-2"  # bumped, so the gate asks everyone again
    assert "poison control" in EMERGENCY_MESSAGE
    for rule in ("real person", "do not assess it", "emergency services", "Never invent citations", "dose"):
        assert rule in SYSTEM_PROMPT
