"""What a question asks for, and what it is about.

A practitioner writes "new to commissioning, honestly a bit lost: what's this 'learning partner'
idea?"; the support gate must match "learning partner", not "honestly" or "lost". And "who
co-chairs the steering group alongside Jane?" is only answered by a sentence that names a person
in that role, however many of its words the passages share. So a question becomes a target (the
kind of fact wanted: a person, a post, members, an amount or duration, a date, a place, steps,
results, or none for concepts and advice) and a focus (its content terms, without question words and small talk).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.lexical import QUESTION_NOISE, proper_names, terms
from index.keyword import tokenize

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

_WHO = re.compile(r"\bwho (?:is|are|was|were|co-?chairs?|chairs?|leads?|led|runs?|ran|founded|wrote|heads?|funds?|funded)\b", re.I)
_WHEN = re.compile(r"\b(?:what|which) (?:year|date|month)\b|\bwhen (?:was|were|did|does|will|is)\b", re.I)
_AMOUNT = re.compile(r"\bhow (?:much|many)\b|\bhow long (?:did|has|have|was|were|does|is)\b|\bwhat (?:percentage|proportion|share|amount|number|budget|salary|rate|fee|cost)\b|\b(?:annual|total) (?:budget|cost|spend)\b|\bcost of\b", re.I)
_STEPS = re.compile(r"\b(?:steps|stages|phases)\b|\bstep[- ]by[- ]step\b|\bwhat order\b", re.I)
_RESULTS = re.compile(r"\b(?:results?|outcomes?|impact|achieved|achievements?)\b.{0,40}\b(?:so far|achieved|had|has|have|shown|found|delivered)\b|\bwhat did (?:the |its |their )?(?:\w+ ){0,3}(?:evaluation|review|study|audit) find\b|\bwhat (?:\w+ ){0,5}(?:did|has|have) (?:[\w'’-]+ ){0,6}(?:achieve|deliver|produce|generate)\b", re.I)
_MEMBERS = re.compile(r"\bwhich (?:organi[sz]ations|councils|partners|bodies|agencies|charities|providers|groups|sites) (?:are|were|is|was|took part|take part|joined|make up|made up|sit|sat)\b", re.I)
_ROLE_ASKED = re.compile(r"\bwhat (?:is|was) (?:[\w'’-]+ ){1,4}(?:role|job|position|title)\b", re.I)
_WHERE = re.compile(r"\bwhere (?:is|are|was|were) (?:it|they|the|\w+ (?:based|located|held))\b|\bin which (?:\w+ )?(?:city|cities|towns?|county|counties|areas?|regions?|places?|localit(?:y|ies)|parts? of)\b", re.I)

# A sentence holds the target's kind of fact when it has one of these.
PERSON = re.compile(r"\b[A-Z][a-z]+(?:[ -][A-Z][a-z']+)+\b|\b(?:Dr|Prof|Professor|Sir|Dame|Cllr)\.? [A-Z]")
AMOUNT = re.compile(r"[£$€]\s?\d|\d\s?%|(?<![\d,.])\d[\d,.]*+\s?(?:k|m|bn|million|billion|thousand|per cent|percent)\b|\b\d{2,}\b|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|thirty|forty|fifty|hundred)\b", re.I)
DATE = re.compile(r"\b(?:1[89]\d\d|20\d\d)\b")
OUTCOME_WORDS = re.compile(r"\b(?:reduc\w*|increas\w*|fell|rose|improv\w*|saved|saving\w*|fewer|more|less|drop\w*|cut|halv\w*|doubl\w*)\b", re.I)
ROLE_NOUNS = re.compile(r"\b(?:director|chief|executive|manager|chair\w*|lead|leader|founder|officer|co-?ordinator|head|trustee|commissioner|president|secretary|minister|ceo|cllr|councillor)\b", re.I)
PLACE_WORDS = re.compile(r"\b(?:in|at|across|throughout) [A-Z][a-z]+")


# Words that say which kind of fact is wanted ("what RESULTS has it ACHIEVED so FAR"), not what it is about.
TARGET_WORDS = frozenset(tokenize(["result results outcome outcomes impact achieve achieved achievements far step steps stage stages phase phases find found show shown many much long"])[0])

# The role or quantity a typed question names: "who CO-CHAIRS ...", "what is the annual BUDGET ...".
_ROLE = re.compile(r"\bwho (?:is |was |are |were )?(?:the |a |an )?([a-z][a-z-]{1,40})", re.I)
_QUANTITY_NOUN = re.compile(r"\bwhat (?:is|was|are|were) (?:the |its |their )?(?:annual |total |hourly |weekly |yearly )?(budget|salary|rate|fee|cost|price)\b", re.I)


@dataclass(frozen=True)
class Intent:
    """A question's target (None for concepts, explanations and advice), focus terms, names, and the
    role or quantity a typed question names (the answering sentence must name it too)."""

    target: str | None
    focus: frozenset[str]
    names: tuple[str, ...]
    role: frozenset[str] = frozenset()


def intent_of(question: str) -> Intent:
    target = target_of(question)
    focus = focus_of(question)
    if target:  # "what results has X achieved so far": the focus is X
        focus = focus - TARGET_WORDS or focus
    return Intent(target, focus, tuple(proper_names(question)), role_of(question, target))


def role_of(question: str, target: str | None) -> frozenset[str]:
    """Stemmed terms of the role a "who" question asks about, or the quantity an amount question names."""
    pattern = _ROLE if target == "person" else _QUANTITY_NOUN if target == "amount" else None
    found = pattern.search(question) if pattern else None
    return frozenset(terms(found.group(1)) - QUESTION_NOISE) if found else frozenset()


def target_of(question: str) -> str | None:
    """The kind of fact a question asks for; checked most specific first."""
    if _RESULTS.search(question):
        return "results"
    if _STEPS.search(question):
        return "steps"
    if _WHEN.search(question):
        return "date"
    if _AMOUNT.search(question):
        return "amount"
    if _MEMBERS.search(question):
        return "members"
    if _WHO.search(question):
        return "person"
    if _ROLE_ASKED.search(question):
        return "role"
    if _WHERE.search(question):
        return "place"
    return None


def focus_of(question: str) -> frozenset[str]:
    """Content terms of a question without question words and small talk (falls back to all
    content terms when a question is nothing but small talk)."""
    everything = terms(question) - QUESTION_NOISE
    return frozenset(everything - SMALL_TALK) or frozenset(everything)


def holds_target(sentence: str, target: str | None) -> bool:
    """Whether a sentence carries the kind of fact asked for (any sentence does for no target)."""
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
    return True


def _has_amount(sentence: str) -> bool:
    """A number that is not a year: "2019" says when, not how much."""
    return any(not DATE.fullmatch(match.group().strip()) for match in AMOUNT.finditer(sentence))
