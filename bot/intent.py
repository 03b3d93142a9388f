"""What a question asks for, and what it is about.

A practitioner writes "new to commissioning, honestly a bit lost: what's this 'learning partner'
idea?"; the support gate must match "learning partner", not "honestly" or "lost". And "who
co-chairs the steering group alongside Jane?" is only answered by a sentence that names a person
in that role, however many of its words the passages share. So a question becomes a target (the
kind of fact wanted: a person, a post, members, a name, an amount or duration, a date, a place,
steps, results, recommendations, a former name, or none for concepts and advice) and a focus (its
content terms, without question words and small talk). A compound question ("how many took part,
and over what period?") is judged on the clause that asks for the target, and what the question
itself states (its names and numbers) never counts as the fact it asks for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.lexical import QUESTION_NOISE, anchors, proper_names, terms
from index.terms import tokenize

# Words of conversation, not of the question inside it ("my team keeps being told ...").
SMALL_TALK = set(
    tokenize(
        [
            "be being been am is are was were has have had so my mine me i i'm im honestly honest bit lost new keep keeps kept told tell "
            "anything anyone here there these those this that make makes made thought thoughts help please thanks cheers "
            "really actually just basically lot lots stuff people mention mentioning mentioned hear heard wonder wondering "
            "trying try tried know knows seem seems going get got want wants wanted ask asked asking look looking "
            "reports report guys folks anyone everyone colleague colleagues boss manager"
        ]
    )[0]
)

# Where a question word asks rather than joins two clauses: "does anyone know WHEN it was set up",
# "WHO came up with it?" (but "when we commission ..." and "staff who ..." do not ask).
_ASKED_AFTER = r"\b(?:know|knows|wondering|wonder|remember|tell (?:me|us)|idea|sure|find out)\s+"
_OPENING = r"(?:^|[.?!:;]\s+)"

_WHO = re.compile(
    r"\bwho (?:is|are|was|were|co-?chairs?|chairs?|leads?|led|runs?|ran|founded|wrote|heads?|funds?|funded)\b"
    rf"|(?:{_OPENING}|{_ASKED_AFTER})who\b(?! (?:else|here|should|could|would|can|might|must|needs?)\b)",
    re.I,
)
_WHEN = re.compile(rf"\b(?:what|which) (?:year|date|month)\b|\bwhen (?:was|were|did|does|will|is)\b|{_ASKED_AFTER}when\b(?! to\b)|\band when\s*\?", re.I)
_AMOUNT = re.compile(
    r"\bhow (?:much|many)\b|\bhow long (?:did|has|have|was|were|does|is)\b"
    r"|\bwhat (?:percentage|proportion|share|amount|number|budget|salary|rate|fee|cost)\b|\b(?:annual|total) (?:budget|cost|spend)\b|\bcost of\b"
    r"|\bwhat (?:is|was|are|were) (?:the |its |their )?(?:[a-z-]+ ){0,2}(?:budget|salary|rate|fee|cost|price|turnover)\b"
    r"|\bwhat did (?:[\w'’&-]+ ){1,8}(?:spend|pay|invest|save)\b|\bwhat (?:do|does|did|would) (?:[\w'’&-]+ ){1,6}cost\b",
    re.I,
)
_STEPS = re.compile(r"\b(?:steps|stages|phases|layers|tiers)\b|\bstep[- ]by[- ]step\b|\bwhat order\b", re.I)
# "What were the five Every Child Matters outcomes?", "what are all ten actions?": a list of that many.
# ASCII only: under re.I alone, "ſix" (a long s) would match "six" and name no number.
_COUNTED_LIST = re.compile(
    r"\bwhat (?:are|were) (?:all )?(?:the |its |their )?([2-9]|1[0-2]|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve) [a-z]", re.I | re.A
)
_ITEM_BREAK = re.compile(r"[,;]|\band\b")
NUMBER_WORDS = dict(zip("two three four five six seven eight nine ten eleven twelve".split(), range(2, 13), strict=True))
_RESULTS = re.compile(
    r"\b(?:results?|outcomes?|impact|achieved|achievements?)\b.{0,40}\b(?:so far|achieved|had|has|have|shown|found|delivered)\b"
    r"|\bwhat did (?:the |its |their |an? )?(?:[\w'’&-]+ ){0,3}(?:evaluation|review|study|audit|survey|inquiry|inspection)\b(?: [\w'’&-]+){0,10} find\b"
    r"|\bwhat (?:\w+ ){0,5}(?:did|has|have) (?:[\w'’-]+ ){0,6}(?:achieve|deliver|produce|generate)\b",
    re.I,
)
_RECOMMENDS = re.compile(r"\bwhat (?:did|does|do) (?:[\w'’&-]+ ){1,12}recommend\b", re.I)
_FORMER_NAME = re.compile(r"\b(?:called|named|known as) before\b|\b(?:former|old|previous|original) name\b|\b(?:formerly|previously|used to be) (?:called|known)\b", re.I)
_MEMBERS = re.compile(r"\bwhich (?:organi[sz]ations|councils|partners|bodies|agencies|charities|providers|groups|sites) (?:are|were|is|was|took part|take part|joined|make up|made up|sit|sat)\b", re.I)
# "Which council / consultancy / Local Vision programme ...": the answer is a name the question does not give.
_WHICH_NAMED = re.compile(
    r"\bwhich (?:[a-z-]+ ){0,2}?(?:(?:organi[sz]ation|firm|vendor|supplier|council|trust|programme|site|network|department|hospital)s?"
    r"|(?:compan|consultanc|charit|authorit|bod|agenc|universit)(?:y|ies))\b",
    re.I,
)
_ROLE_ASKED = re.compile(r"\bwhat (?:is|was) (?:[\w'’-]+ ){1,4}(?:role|job|position|title)\b|\bwhat (?:job )?(?:title|position|post) does\b", re.I)
_WHERE = re.compile(
    r"\bwhere (?:is|are|was|were) (?:it|they|the|\w+ (?:based|located|held))\b|\bwhereabouts\b|\bwhere in the (?:country|uk|world)\b"
    r"|\b(?:in )?which (?:\w+ )?(?:city|cities|towns?|county|counties|areas?|regions?|places?|localit(?:y|ies)|parts? of|wards?|boroughs?|districts?)\b",
    re.I,
)
_TARGETS = (
    ("results", _RESULTS),
    ("recommendations", _RECOMMENDS),
    ("former name", _FORMER_NAME),
    ("steps", _STEPS),
    ("date", _WHEN),
    ("amount", _AMOUNT),
    ("members", _MEMBERS),
    ("person", _WHO),
    ("role", _ROLE_ASKED),
    ("place", _WHERE),
    ("name", _WHICH_NAMED),
    ("steps", _COUNTED_LIST),  # last: "what were the two councils involved?" asks for members
)
_CLAUSE_BREAK = re.compile(r"[.?!;]['’\"]?\s+|,? and (?=(?:what|which|who|when|where|how|over what|in what)\b)", re.I)

# A sentence holds the target's kind of fact when it has one of these.
PERSON = re.compile(r"\b[A-Z][a-z]+(?:[ -][A-Z][a-z']+)+\b|\b(?:Dr|Prof|Professor|Sir|Dame|Cllr)\.? [A-Z]")
AMOUNT = re.compile(r"[£$€]\s?\d|\d\s?%|(?<![\d,.])\d[\d,.]*+\s?(?:k|m|bn|million|billion|thousand|per cent|percent)\b|\b\d{2,}\b|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred)\b", re.I)
DATE = re.compile(r"\b(?:1[89]\d\d|20\d\d)\b")
OUTCOME_WORDS = re.compile(r"\b(?:reduc\w*|increas\w*|fell|rose|improv\w*|saved|saving\w*|fewer|more|less|drop\w*|cut|halv\w*|doubl\w*)\b", re.I)
ROLE_NOUNS = re.compile(r"\b(?:director|chief|executive|manager|chair\w*|lead|leader|founder|officer|co-?ordinator|head|trustee|commissioner|president|secretary|minister|ceo|cllr|councillor)\b", re.I)
PLACE_WORDS = re.compile(r"\b(?:in|at|across|throughout) [A-Z][a-z]+")
RECOMMENDATION = re.compile(r"\brecommend\w*", re.I)
FORMER_NAME = re.compile(r"\b(?:formerly|renamed|re-?branded|former name|(?:previously|once|originally) (?:called|known)|used to be (?:called|known)|changed (?:its|their) name)\b", re.I)
NAME = re.compile(r"\b[A-Z]{2,6}\b|(?<![.?!:]\s)(?<!^)\b(?!(?:January|February|March|April|May|June|July|August|September|October|November|December)\b)[A-Z][a-z]+\b")
WORD = re.compile(r"\w+")


# Words that say which kind of fact is wanted ("what RESULTS has it ACHIEVED so FAR"), not what it is about.
TARGET_WORDS = frozenset(
    tokenize(["result results outcome outcomes impact achieve achieved achievements far step steps stage stages phase phases find found show shown many much long organisation organisations involved"])[0]
)

# The role or quantity a typed question names: "who CO-CHAIRS ...", "what is the annual BUDGET ...".
_ROLE = re.compile(r"\bwho (?:is |was |are |were )?(?:the |a |an )?([a-z][a-z-]{1,40})", re.I)
_QUANTITY_NOUN = re.compile(r"\bwhat (?:is |was |are |were )?(?:the |its |their )?(?:[a-z-]+ ){0,2}?(budget|salary|rate|fee|cost|price|turnover)\b", re.I)


@dataclass(frozen=True)
class Intent:
    """A question's target (None for concepts, explanations and advice), focus terms, names, and the
    role or quantity a typed question names (the answering sentence must name it too)."""

    target: str | None
    focus: frozenset[str]
    names: tuple[str, ...]
    role: frozenset[str] = frozenset()
    given: tuple[str, ...] = ()  # names, numbers and acronyms the question states: never the fact it asks for
    asked: frozenset[str] = frozenset()  # focus terms of the clause that asks for the target
    items: int = 0  # how many items a list asked for must hold ("the five outcomes"); 0 when no count is given


def intent_of(question: str) -> Intent:
    target, clause = asking(question)
    focus = focus_of(question)
    asked = focus_of(clause) & focus or focus
    if target:  # "what results has X achieved so far": the focus is X
        focus = focus - TARGET_WORDS or focus
        asked = asked - TARGET_WORDS  # "which organisations were involved": any names will do
    names = tuple(proper_names(question))
    items = items_asked(question) if target == "steps" else 0
    return Intent(target, focus, names, role_of(clause, target), (*names, *anchors(question)), asked, items)


def items_asked(question: str) -> int:
    """The number of items a question asks a list to hold ("what are the five outcomes?"), or 0."""
    found = _COUNTED_LIST.search(question)
    if not found:
        return 0
    count = found.group(1).lower()
    return int(count) if count.isdigit() else NUMBER_WORDS.get(count, 0)


def states_count(sentence: str, items: int) -> bool:
    """Whether a sentence is the list in prose: it gives the count ("The three pillars are ...") and
    as many items, apart ("relationships, capabilities and connection"). "Kubler-Ross described
    five stages" gives the count alone."""
    count = {str(items), *(word for word, value in NUMBER_WORDS.items() if value == items)}
    return bool(count & set(WORD.findall(sentence.lower()))) and len(_ITEM_BREAK.split(sentence)) >= items


def role_of(question: str, target: str | None) -> frozenset[str]:
    """Stemmed terms of the role a "who" question asks about, or the quantity an amount question names."""
    pattern = _ROLE if target == "person" else _QUANTITY_NOUN if target == "amount" else None
    found = pattern.search(question) if pattern else None
    return frozenset(terms(found.group(1)) - QUESTION_NOISE) if found else frozenset()


def target_of(question: str) -> str | None:
    """The kind of fact a question asks for."""
    return asking(question)[0]


def asking(question: str) -> tuple[str | None, str]:
    """The kind of fact a question asks for, checked most specific first, and the clause that asks
    for it: in "how many people took part, and over what period did it run?" the head count is
    about the people, not the period."""
    for target, pattern in _TARGETS:
        found = pattern.search(question)
        if found:
            return target, clause_at(question, found.end() - 1)
    return None, question


def clause_at(question: str, position: int) -> str:
    """The clause of `question` (between question marks, full stops or ", and what/who/...") that holds `position`."""
    start = 0
    for boundary in _CLAUSE_BREAK.finditer(question):
        if boundary.start() > position:
            return question[start : boundary.start()]
        start = boundary.end()
    return question[start:]


def focus_of(question: str) -> frozenset[str]:
    """Content terms of a question without question words and small talk (falls back to all
    content terms when a question is nothing but small talk)."""
    everything = terms(question) - QUESTION_NOISE
    return frozenset(everything - SMALL_TALK) or frozenset(everything)


def holds_target(sentence: str, target: str | None, given: tuple[str, ...] = ()) -> bool:
    """Whether a sentence carries the kind of fact asked for (any sentence does for no target). What
    the question itself `given`s does not count: "21 March 2023" is no head count for a question
    about the workshop of 21 March 2023, nor "Dawn Plimmer" the organisation she works for."""
    if given:
        stated = {word for phrase in given for word in WORD.findall(phrase)}
        sentence = WORD.sub(lambda word: " " if word.group() in stated else word.group(), sentence)
    if target == "person":
        return bool(PERSON.search(sentence))
    if target == "amount":
        return _has_amount(sentence)
    if target == "date":
        return bool(DATE.search(sentence))
    if target == "results":
        return _has_amount(sentence) and bool(OUTCOME_WORDS.search(sentence))
    if target == "steps":
        return sentence.rstrip().endswith(":") or sentence.count("\n- ") >= 2
    if target == "members":  # "which organisations are members of X": a sentence naming several
        return len(proper_names(sentence)) >= 2
    if target == "role":  # "what is X's role at Y": a sentence that names a post
        return bool(ROLE_NOUNS.search(sentence))
    if target == "place":
        return bool(PLACE_WORDS.search(sentence))
    if target == "recommendations":
        return bool(RECOMMENDATION.search(sentence))
    if target == "former name":
        return bool(FORMER_NAME.search(sentence))
    if target == "name":
        return bool(NAME.search(sentence))
    return True


def _has_amount(sentence: str) -> bool:
    """A number that is not a year: "2019" says when, not how much."""
    return any(not DATE.fullmatch(match.group().strip()) for match in AMOUNT.finditer(sentence))
