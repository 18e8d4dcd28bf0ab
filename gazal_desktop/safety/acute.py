"""The vocabulary of acute events, by kind: words and short phrases a frightened person types,
broad on purpose (the real-and-now cues and the teaching cues in emergency.py decide whether
a mention is an emergency). Each phrase is a regular expression over normalized text that
begins with a literal word or a group of literal words, (?:a|b); `first_words` reads those
off for the scan index.
"""

from __future__ import annotations

import re

_W = r"(?:\w+\s+){0,3}"  # up to three words in between
_WHO = r"(?:my|his|her|their|our|the|a)"

PHRASES: dict[str, list[str]] = {
    "breathing": [
        r"(?:wheezing|wheezy|gasping|gasps|choking|choked|suffocating|cyanosed|cyanotic)",
        r"(?:can't|cannot|can not|couldn't|unable to|struggling to|fighting to|barely|hardly) (?:breathe|breath|get (?:any )?air|talk|speak in sentences)",
        r"(?:not|isn't|stopped|stops|stop|no longer) breathing", r"(?:hard|difficult|trouble|struggling) (?:to )?breath(?:e|ing)",
        r"(?:fighting|gasping) for (?:breath|air)", r"ribs (?:are )?sucking in", r"(?:short|shortness) of breath",
        r"(?:lips|face|mouth|skin|fingers|he|she|baby|it) " + _W + r"(?:blue|grey|gray|purple|dusky)",
        r"(?:turning|turned|going|gone|went|looks?|is) (?:blue|grey|gray|purple)", r"blue around",
        r"(?:oxygen|o2) (?:ran|has run|is) out", r"something stuck in", r"can't get (?:it|the food) out",
    ],
    "unresponsive": [
        r"(?:collapsed|collapsing|slumped|fainted|keeled|blacked out|passed out|dropped to the (?:floor|ground))",
        r"(?:unconscious|unresponsive|floppy|lifeless)",
        r"(?:not|isn't|won't|wont|doesn't|can't|cannot) (?:responding|respond|waking|wake|answer|answering|moving|move)",
        r"(?:can't|cannot|couldn't) (?:wake|rouse|get (?:him|her|them) to respond)",
        r"no (?:pulse|heartbeat)", r"(?:fell|found|lying|on the floor)" + _W + r"(?:not|won't|isn't|can't)",
    ],
    "seizure": [
        r"(?:seizing|seizure|seizures|convulsing|convulsion|convulsions|fitting|jerking|twitching all over)",
        r"(?:having|had) a fit", r"shaking (?:all over|uncontrollably|and (?:not|won't|isn't))",
    ],
    "cardiac": [
        r"(?:chest) (?:pain|pressure|tightness|hurts|is tight|feels|is crushing|heaviness)",
        r"(?:pain|pressure|tightness|heaviness) in (?:my|his|her|the) chest", r"(?:my|his|her) chest (?:hurts|is|feels)",
        r"(?:heart attack|cardiac arrest|crushing pain|crushing chest|tearing pain|ripping pain)",
        r"(?:heart|pulse) (?:is )?(?:racing|pounding|stopped|at \d{3})", r"elephant (?:is )?sitting",
        r"(?:pain|ache) (?:going )?(?:down|into|through) (?:my|his|her) (?:left )?(?:arm|jaw|back)",
    ],
    "stroke": [
        r"(?:speech|words|talking|voice) " + _W + r"(?:slurred|garbled|weird|jumbled|wrong|nonsense|gibberish)",
        r"(?:slurring|slurred|garbled)", r"(?:face|mouth|smile) " + _W + r"(?:droop\w*|crooked|lopsided|fallen|numb)",
        r"(?:droopy|drooping) (?:face|mouth|eye)",
        r"(?:can't|cannot|couldn't|unable to) (?:move|lift|feel|use|grip with) " + _WHO + r"?\s*(?:\w+ )?(?:arm|leg|side|hand|face|foot)",
        r"(?:arm|leg|hand|side|foot) (?:is |went |has gone |just )*(?:useless|weak|numb|dead|limp|paralysed|paralyzed|heavy)",
        r"(?:having|had) a stroke", r"(?:can't|cannot) (?:speak|talk|understand|see out of)",
        r"(?:sudden|suddenly)" + _W + r"(?:confused|blind|can't see|lost (?:my|his|her) vision)",
    ],
    "allergy": [
        r"(?:hives|anaphylaxis|anaphylactic|epipen|epi pen|epinephrine pen)",
        r"(?:throat|tongue|lips?|face|eyes|mouth) " + _W + r"(?:swelling|swollen|closing|tight|puffing)",
        r"(?:swelling|swollen) (?:up|fast|lips|tongue|face|throat)", r"(?:voice|throat) " + _W + r"(?:hoarse|tight|closing)",
        r"(?:stung|sting|bee|wasp|peanut|peanuts|nuts|shellfish|shrimp)" + _W + r"(?:swell\w*|hives|breath\w*|wheez\w*|throat|itchy all over)",
        r"allergic reaction", r"hard to swallow", r"(?:can't|cannot) swallow",
    ],
    "headache": [
        r"(?:worst|thunderclap|explosive|exploding|excruciating|sudden|sudden severe|severe sudden|splitting) " + _W + r"headache",
        r"headache " + _W + r"(?:vomiting|throwing up|threw up|confused|stiff neck|can't see|passed out|collapsed)",
        r"head (?:is )?(?:exploding|going to explode)", r"(?:hit|banged|bumped) (?:my|his|her|their) head",
    ],
    "bleeding": [
        r"(?:pouring|gushing|spurting|pumping|streaming) " + _W + r"blood", r"blood " + _W + r"(?:pouring|gushing|spurting|everywhere|won't stop)",
        r"(?:so much|lots of|a lot of|loads of|too much|pool of) blood",
        r"(?:bleeding|bleed) " + _W + r"(?:heavily|a lot|badly|everywhere|won't stop|will not stop|doesn't stop|non stop|out|profusely)",
        r"(?:won't|can't|cannot) stop (?:the )?bleeding", r"(?:haemorrhage|haemorrhaging|hemorrhage|hemorrhaging)",
        r"(?:soaked|soaking|soak) " + _W + r"(?:pads?|towels?|through|sheets|clothes)", r"(?:pads?|towels?) " + _W + r"soaked",
        r"(?:vomiting|throwing up|coughing up|coughing|spitting|puking) " + _W + r"blood", r"passing (?:big )?clots",
        r"(?:pregnant|pregnancy|weeks|post ?partum|gave birth|had (?:my|the|her) baby|just delivered)[^.!?]{0,60}\b(?:bleeding|blood|clots)",
        r"(?:bleeding|blood)[^.!?]{0,60}\b(?:pregnant|pregnancy|post ?partum|warfarin|apixaban|rivaroxaban|blood thinners?|faint|dizzy)",
        r"(?:nose|nosebleed)" + _W + r"(?:won't stop|pouring|for (?:\d+|an?) (?:min|mins|minutes|hour|hours))",
    ],
    "overdose": [
        r"(?:overdosed|overdosing|overdose|od'd|od)",
        r"(?:took|taken|take|swallowed|ate|had|injected|shot up|used|gave (?:him|her|them)?|drank|popped) " + _W
        + r"(?:\d{2,}|a (?:whole|full|entire) (?:bottle|pack|box|packet|strip)|all (?:of )?(?:my|his|her|their|the)|too (?:many|much)|"
          r"(?:way|far) too|double|twice|a (?:bunch|handful|lot|load) of|loads of|like \d+|maybe \d+|about \d+|around \d+)",
        r"(?:\d+) (?:units|pills|tablets|tabs|capsules)" + _W + r"(?:instead of|by mistake|too many|accident)",
        r"(?:instead of|by mistake|by accident|accidentally)" + _W + r"(?:units|insulin|pills|tablets|dose|doses|twice)",
        r"(?:swallowed|took|taken|had|ate|necked|downed) (?:every|all the|all of the|\d+ (?:boxes|packets|packs|strips|bottles))",
        r"(?:on purpose|deliberately|intentionally)",
        r"(?:too much|twice|double) (?:insulin|dose|methadone|morphine|fentanyl)",
        r"(?:a|the) (?:whole|full|entire) (?:bottle|pack|box|packet|strip)",
    ],
    "ingestion": [
        r"(?:swallowed|drank|ate|eaten|chewed|licked|sucked on|got into|drinking|eating|swallowing) " + _W
        + r"(?:batter(?:y|ies)|button|bleach|antifreeze|cleaner|detergent|pod|pods|tablet|tablets|pills|magnets?|coin|"
          r"chemicals?|poison|lamp oil|paraffin|kerosene|petrol|gasoline|weed killer|pesticide|berries|mushrooms|"
          r"medicine|meds|vape|e-liquid|nicotine|lighter fluid|bottle|liquid)",
        r"foaming at (?:the )?mouth", r"poison control",
    ],
    "suicide": [
        r"(?:kill|killing|end|ending|take|taking) (?:myself|my life|my own life|it all|it tonight|things)",
        r"(?:suicide|suicidal)", r"(?:said|saying|say) (?:my )?goodbyes?", r"goodbye (?:letter|note|letters|notes)",
        r"(?:wrote|written|writing) (?:the |my )?(?:letters?|notes?)", r"tonight is the night",
        r"(?:don't|do not) want to (?:be here|live|be alive|wake up|exist|go on)", r"better off (?:dead|without me)",
        r"(?:nobody|no one) would (?:miss|care)", r"(?:no (?:reason|point)) (?:to|in) (?:live|living|going on)",
        r"(?:hang|hanging) myself", r"(?:the|a) (?:rope|noose)", r"(?:jump|jumping) (?:off|from|in front)",
        r"(?:cut|cutting|slit|slitting) (?:my|his|her) (?:wrists?|arms?|throat)", r"(?:cut|cutting|hurt|hurting|harm|harming) myself",
        r"(?:knife|blade|razor|gun|pills|rope)" + _W + r"(?:myself|wrists?|my life|tonight|end it|use it on)",
        r"(?:using|use) it on (?:myself|my)", r"(?:can't|cannot) (?:do this|go on|take it) any ?more",
        r"(?:standing|sitting) on (?:the )?(?:bridge|edge|roof|ledge)", r"sleep forever", r"drive into",
        r"(?:pills|tablets) (?:lined up|saved up|ready)", r"made up my mind",
        r"(?:taking|take|swallow|swallowing) (?:everything|them all|it all|the lot)",
    ],
    "trauma": [
        r"(?:stabbed|shot|gunshot|run over|electrocuted|drowning|drowned|burned|burnt|scalded|impaled|crushed)",
        r"(?:hit|knocked down) by (?:a )?(?:car|truck|bus|bike|train)", r"(?:car|motorbike|bike|road) (?:crash|accident|wreck)",
        r"(?:crash|accident) (?:outside|on|in)", r"(?:fell|fallen|falling) (?:off|from|down)",
        r"pulled (?:\w+ )?(?:out of|from) (?:the )?(?:pool|water|lake|river|bath|sea)",
        r"(?:on fire|head injury|broken neck|bone sticking out)",
    ],
    "hypoglycaemia": [
        r"(?:sugar|glucose|bm|bg)\b\s*" + _W + r"(?:low|[1-3](?:\.\d)?\b|[1-3]\d\b|lo\b)",
        r"(?:hypo|hypoglycaemic|hypoglycemic|hypoglycaemia|hypoglycemia)",
        r"(?:shaking|shaky|sweaty|sweating) and (?:confused|drowsy|not making sense)",
    ],
}


_QTY = r"(?:a (?:whole|full|entire) (?:bottle|pack|box|packet|strip)|all (?:of )?(?:my|his|her|their|the|them)|(?:way )?too (?:many|much)|a (?:bunch|handful|lot|load) of|like \d+|\d{2,}(?! ?(?:mg|mcg|g|ml|units?|iu|mmol)\b)|loads of|an overdose|double|twice|two doses)"
_SUBST = (r"(?:pills?|tablets?|meds|medications?|medicines?|paracetamol|tylenol|acetaminophen|ibuprofen|aspirin|"
          r"insulin|xanax|oxy\w*|fentanyl|heroin|opioids?|sleeping pills|antidepressants?|sertraline|amitriptyline|"
          r"lithium|warfarin|digoxin|iron tablets|vitamins|\w+ pills)")
_CAUSTIC = (r"(?:bleach|drain cleaner|oven cleaner|antifreeze|lamp oil|paraffin|kerosene|petrol|gasoline|"
            r"rat poison|weed killer|pesticide|detergent|laundry (?:pod|capsule|tablet)s?|dishwasher (?:tablet|pod)s?|"
            r"button batter(?:y|ies)|batter(?:y|ies)|magnets?|a coin|coins|nail polish remover|e-?liquid|vape juice|"
            r"grandmas pills|grandma's pills|(?:his|her|my|their) (?:pills|tablets|meds))")

# Phrases with more structure (a quantity, a substance, a subject before the verb).
_STRUCTURED: list[tuple[str, str]] = [
    ("unresponsive", r"\b(?:collapsed|collapsing|passed out|fainted|blacked out|keeled over)\b"),
    ("unresponsive", r"\b(?:unconscious|unresponsive|not responding|isn't responding|won't respond|wont respond|doesn't respond|"
                     r"not waking up|won't wake(?: up)?|can't wake (?:him|her|them|\w+) up|can't wake|not moving|isn't moving|"
                     r"won't answer|no pulse|has no pulse|cold and blue|limp and)\b"),
    ("breathing", r"\b(?:not breathing|isn't breathing|stopped breathing|stops breathing|can't breathe|cannot breathe|"
                  r"can't get air|can't catch (?:my|his|her) breath|struggling to breathe|barely breathing|gasping|"
                  r"hard to breathe|trouble breathing|can barely (?:breathe|talk))\b"),
    ("breathing", r"\b(?:turning|turned|going|gone|went|is|looks?|lips (?:are|look|went)) (?:blue|grey|gray|purple)\b"),
    ("breathing", r"\b(?:choking|choked|something stuck in (?:his|her|my|their) throat)\b"),
    ("seizure", r"\b(?:seizing|seizure|convulsing|convulsions|having a fit|fitting|shaking all over)\b"),
    ("cardiac", r"\b(?:chest (?:pain|pressure|tightness|hurts|is tight|feels)|pain in (?:my|his|her) chest|(?:my|his|her) chest (?:hurts|is tight|feels)|"
                r"heart attack|cardiac arrest|heart (?:stopped|is racing|racing)|crushing pain|elephant (?:is )?sitting on)\b"),
    ("overdose", rf"\b(?:took|taken|swallowed|ate|had|injected|shot up|used|drank)\s+(?:\w+\s+){{0,2}}{_QTY}(?:\s+\w+){{0,3}}"),
    ("overdose", rf"\b{_QTY}\s+(?:of\s+)?(?:my\s+|his\s+|her\s+)?{_SUBST}"),
    ("overdose", r"\b(?:overdosed|overdosing|overdose on|od'd|od on|shot up too much)\b"),
    ("ingestion", rf"\b(?:swallowed|drank|ate|got into|chewed|sucked on|drinking|eaten)\s+(?:\w+\s+){{0,3}}{_CAUSTIC}"),
    ("suicide", r"\b(?:kill myself|killing myself|end my life|end it all|ending it all|take my (?:own )?life|suicide|suicidal|"
                r"don't want to (?:be here|live|be alive|wake up)|better off dead|nobody would miss me|no reason to live|"
                r"hang myself|hanging myself|the rope|a noose|jump(?:ing)? off|jump(?:ing)? from|drive into a wall|"
                r"cut my wrists|slit my wrists|cut myself|use it on myself|goodbye (?:letter|note)s?|wrote the letters|"
                r"can't do this anymore|sleep forever|pills lined up|standing on the (?:bridge|edge|roof|ledge))\b"),
    ("bleeding", r"\b(?:bleeding (?:heavily|a lot|badly|everywhere|out|profusely|non ?stop)|won't stop bleeding|can't stop the bleeding|"
                 r"bleeding (?:won't|will not|doesn't) stop|blood (?:everywhere|is spurting|spurting|is pouring|pouring)|spurting|"
                 r"soak(?:ed|ing)? (?:through )?(?:a |two |\d )?(?:pads?|towels?)|vomiting blood|throwing up blood|coughing up (?:a lot of )?blood|"
                 r"passing clots)\b"),
    ("bleeding", r"\b(?:pregnant|weeks pregnant|post ?partum|just gave birth)\b[^.!?]{0,60}\b(?:bleeding|blood|clots)\b|"
                 r"\b(?:bleeding|blood)\b[^.!?]{0,60}\b(?:pregnant|pregnancy|post ?partum)\b"),
    ("stroke", r"\b(?:face (?:is )?(?:drooping|droopy|crooked)|(?:face|mouth|smile) (?:is )?(?:droop|lopsided|crooked)\w*|droopy face|"
               r"(?:words|speech) (?:are |is )?(?:slurred|weird|garbled)|slurring|slurred speech|can't speak|cannot speak|can't talk properly|"
               r"can't (?:move|lift|feel) (?:my|his|her|their) (?:left |right )?(?:arm|leg|side|hand|face)|"
               r"can't move (?:his|her|my|their) (?:left|right) side|(?:left|right) side (?:is )?(?:weak|numb|dead)|"
               r"(?:arm|leg) (?:is |went |suddenly )*(?:weak|numb|limp|dead)|having a stroke)\b"),
    ("allergy", r"\b(?:throat (?:is )?(?:closing|swelling|tight)|(?:tongue|lips?|face) (?:and (?:lips?|tongue|face) )?(?:are |is )?swelling|"
                r"swelling (?:fast|up)|hard to swallow|can't swallow|anaphylaxis|anaphylactic|used (?:my|his|her) epi ?pen|epi ?pen)\b"),
    ("headache", r"\b(?:worst headache|thunderclap|sudden(?:ly)? (?:a )?(?:severe|terrible|excruciating|bad) headache|"
                 r"head (?:is )?exploding|headache (?:and|with) (?:a )?stiff neck)\b"),
    ("trauma", r"\b(?:stabbed|been shot|got shot|was shot|gunshot|hit by a car|run over|fell (?:off|from|down) (?:the |a )?"
               r"(?:roof|ladder|stairs|balcony|window)|hit (?:his|her|my) head|drowning|drowned|pulled (?:\w+ )?(?:out of|from) the "
               r"(?:pool|water|lake|river|bath)|electrocuted|severe burns?|on fire)\b"),
    ("hypoglycaemia", r"\b(?:sugar (?:is |reads |reading |of )?(?:low|[1-3](?:\.\d)?|[1-3]\d)\b|hypo(?:glycaemic|glycemic)? and)"),
]

# Broad net: single words of acute illness by kind. Two different ones about a person in the
# writer's life (or one red flag) are enough when nothing says it is teaching.
SYMPTOM_WORDS: dict[str, set[str]] = {
    "breathing": {"breath", "breathe", "breathing", "breathless", "wheezing", "wheezy", "gasping", "grunting", "choking",
                  "choked", "nostrils", "flaring", "blue", "grey", "gray", "purple", "suffocating", "airway"},
    "cardiac": {"chest", "jaw", "clutching", "sweating", "sweaty", "clammy", "palpitations", "racing", "pounding", "pain",
                "hurts", "agony", "dizzy", "pale", "grey", "shaking", "shivering", "cold"},
    "unresponsive": {"floor", "ground", "faint", "fainting", "fainted", "collapsed", "collapse", "unconscious", "unresponsive", "drowsy",
                     "rousable", "unrousable", "floppy", "limp", "lifeless", "slumped", "gurgling", "snoring", "passing"},
    "stroke": {"slurred", "slurring", "drooping", "droopy", "numb", "weak", "paralysed", "paralyzed", "confused",
               "confusion", "garbled", "nonsense"},
    "seizure": {"twitching", "rolled", "stiffened", "seizure", "seizing", "fitting", "jerking", "convulsing", "convulsions", "epileptic"},
    "bleeding": {"blood", "bleeding", "bled", "squirting", "spurting", "pouring", "gushing", "soaked", "clots",
                 "haemorrhage", "hemorrhage"},
    "allergy": {"swelling", "swollen", "swelled", "puffed", "swallow", "swallowing", "itchy", "hives", "lips", "tongue", "throat", "blowing", "puffy", "epipen", "anaphylaxis",
                "stung", "cashew", "peanut", "peanuts"},
    "headache": {"headache", "head", "vomiting", "vomited", "vomit", "throwing", "stiff"},
    "overdose": {"overdose", "overdosed", "overdosing", "pills", "tablets", "tramadol", "insulin", "calpol", "paracetamol",
                 "tylenol", "ibuprofen", "oxy", "fentanyl", "heroin", "methadone", "units", "instead", "accidentally",
                 "stockpiled", "stockpiling"},
    "ingestion": {"capsule", "capsules", "licked", "gagging", "swallowed", "drank", "bleach", "battery", "batteries", "vape", "liquid", "poison", "chemical",
                  "antifreeze", "detergent", "magnets"},
    "suicide": {"suicide", "suicidal", "kill", "die", "dying", "wrists", "rope", "noose", "knife", "gun", "goodbye",
                "goodbyes", "end"},
    "trauma": {"stabbed", "shot", "crash", "crashed", "fell", "fall", "helmet", "injury", "burned", "burnt", "drowning",
               "chainsaw", "bike", "car"},
    "hypoglycaemia": {"sugar", "glucose", "diabetic", "hypo", "lo"},
}
# Triage discriminators (airway, breathing, circulation, disability, exposure): words that
# mark an acute presentation wherever they come from.
TRIAGE_WORDS: dict[str, set[str]] = {
    "breathing": {"breathes", "crowing", "croupy", "barking", "stridor", "whistling", "wheezes", "rasping", "noisy", "apnoea", "apnea", "inhaled", "inhaler", "asthma",
                  "attack", "drooling", "cough", "coughing", "retractions", "recession", "breaths", "air"},
    "unresponsive": {"unrousable", "unresponding", "responsive", "responding", "wake", "waking", "awake", "sleepy",
                     "consciousness", "blank", "staring", "foaming", "frothing", "mottled", "cold", "clammy", "feed",
                     "feeding", "inconsolable", "weak", "weakness", "dehydrated", "rash", "non-blanching", "purple",
                     "purpura", "fade", "spots"},
    "stroke": {"words", "speech", "face", "smile", "vision", "blind", "double", "dizziness", "vertigo", "balance",
               "numbness", "tingling", "gave", "leg", "arm", "side"},
    "cardiac": {"heart", "beating", "heartbeat", "pulse", "palpitating", "tight", "tightness", "squeezing", "pressure",
                "crushing", "band", "elephant"},
    "overdose": {"boxes", "packets", "packs", "strips", "purpose", "deliberately", "intentionally", "every", "diazepam", "valium", "xanax", "alprazolam", "benzos", "codeine", "morphine", "oxycodone", "sleeping",
                 "vodka", "alcohol", "drunk", "necked", "dose", "doses", "whole", "month's", "bottle"},
    "ingestion": {"mouth", "rinse", "cleaner", "tablet", "pod", "pods", "berries", "mushrooms", "chemicals", "nappy",
                  "coin", "magnet"},
    "suicide": {"note", "letters", "engine", "garage", "bridge", "jump", "hang", "quickest", "painless", "overdosing",
                "done", "anymore", "tonight"},
    "bleeding": {"pad", "pads", "woozy", "lightheaded", "light-headed", "cut", "wound", "glassed", "gash", "deep", "bleed", "miscarriage", "miscarrying", "weeks"},
    "trauma": {"screaming", "knocked", "van", "lorry", "truck", "scooter", "motorbike", "stabbing", "shooting", "assaulted", "attacked", "beaten", "mugged", "head", "hit", "knocked", "unconscious", "concussion", "bone", "broken", "fracture", "climbing",
               "frame", "ladder", "stairs", "roof", "crushed", "trapped"},
}
for _kind, _words in TRIAGE_WORDS.items():
    SYMPTOM_WORDS.setdefault(_kind, set()).update(_words)

RED_FLAGS = {"unconscious", "unresponsive", "unrousable", "collapsed", "choking", "seizure", "seizing", "fitting",
             "convulsing", "overdose", "overdosed", "overdosing", "suicide", "suicidal", "stabbed", "drowning",
             "anaphylaxis", "gasping", "lifeless", "haemorrhage", "hemorrhage"}
PEOPLE = {"dad", "daddy", "father", "mum", "mom", "mummy", "mommy", "mother", "son", "daughter", "husband", "wife",
          "baby", "newborn", "toddler", "kid", "kids", "child", "boyfriend", "girlfriend", "gf", "bf", "partner",
          "grandma", "grandad", "granddad", "grandpa", "nan", "nana", "granny", "grandmother", "grandfather",
          "neighbour", "neighbor", "friend", "mate", "brother", "sister", "roommate", "flatmate", "colleague",
          "coworker", "uncle", "aunt", "cousin", "niece", "nephew", "someone", "somebody", "lady", "guy", "stranger"}
PAST = {"yesterday", "ago", "last", "used", "was", "were", "had", "history"}


def _split(pattern: str) -> tuple[list[str], str]:
    """For a pattern that opens with a group, (its top-level alternatives, what follows the
    group); otherwise ([pattern], "")."""
    if not pattern.startswith("(?:"):
        return [pattern], ""
    depth, alts, cur = 0, [], ""
    for i, ch in enumerate(pattern[3:], 3):
        if ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                return alts + [cur], pattern[i + 1:]
            depth -= 1
        elif ch == "|" and depth == 0:
            alts.append(cur)
            cur = ""
            continue
        cur += ch
    raise ValueError(f"unbalanced group in {pattern!r}")


def _top_level(pattern: str) -> list[str]:
    """The pattern's own top-level alternatives (a|b outside any group)."""
    alts, depth, cur = [], 0, ""
    for ch in pattern:
        depth += (ch == "(") - (ch == ")")
        if ch == "|" and depth == 0:
            alts.append(cur)
            cur = ""
        else:
            cur += ch
    return alts + [cur]


def _firsts(pattern: str) -> set[str]:
    words: set[str] = set()
    for alt in _top_level(pattern):
        alt = alt.removeprefix(r"\b")
        if alt.startswith("\\d"):
            words.add("#")
        elif alt.startswith("(?:"):
            inner, rest = _split(alt)
            for part in inner:
                words |= _firsts(part)
            if rest.startswith("?"):  # an optional opening group: what follows may come first
                words |= _firsts(rest[1:].lstrip())
        else:
            m = re.match(r"([a-z0-9']+)(.*)", alt, re.S)
            if not m:
                raise ValueError(f"phrase must begin with a literal word: {pattern!r}")
            w, rest = m.groups()
            if rest.startswith("?"):  # "looks?"
                words |= {w[:-1], w}
            elif rest.startswith("(?:"):  # "soak(?:ed|ing)?": the word with each ending
                endings, after = _split(rest)
                words |= {w + e for e in endings if re.fullmatch(r"[a-z']*", e)}
                if after.startswith("?"):
                    words.add(w)
            elif rest.startswith(" ?"):  # "post ?partum": one word or two
                nxt = re.match(r"[a-z']+", rest[2:])
                words |= {w, w + nxt.group(0)} if nxt else {w}
            elif rest[:1] in ("*", "+", "{", "[", "\\") and not rest.startswith(("\\b", "\\s")):
                raise ValueError(f"phrase must begin with a whole literal word: {pattern!r}")
            else:
                words.add(w)
    return words


def first_words(pattern: str) -> tuple[str, ...]:
    """The whole words a phrase can begin with (the scan index tries it only there): a literal
    word, a group of them ("(?:a|b c)"), optional endings ("soak(?:ed|ing)?", "looks?"), an
    optional opening group ("(?:way )?too"), "post ?partum", and "#" for a number ("\\d")."""
    return tuple(sorted(_firsts(pattern)))


# Every event pattern, the structured ones first (at the same place, the first listed names the kind).
EVENT_PATTERNS: list[tuple[str, str]] = _STRUCTURED + [(kind, p) for kind, ps in PHRASES.items() for p in ps]

__all__ = ["EVENT_PATTERNS", "PHRASES", "first_words", "SYMPTOM_WORDS", "RED_FLAGS", "PEOPLE"]
