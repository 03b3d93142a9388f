"""Every regex that sees user or file text runs in linear time: no reflection, question or file can
freeze the server with a run of spaces or markup (issue 10, item 1).

REGISTRY names every module-level pattern; a test reads the source of bot/, ingest/ and
index/ so that a new `re.compile` cannot be left out of it, and inline literal patterns
(`re.sub(r"...", ...)`) are found there and timed as well.
"""

from __future__ import annotations

import ast
import importlib
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot import lexical, reflections
from bot.evaluation import match_key
from bot.reflection_models import ReflectionCreate
from bot.services import build_services
from bot.slack.blocks import to_mrkdwn
from bot.slack.listeners import events
from ingest import clean, structure
from ingest.chunk import chunk_blocks
from ingest.sources import title_from_name, year_of
from tests.conftest import REPO, FakeEmbedder, make_settings

REGISTRY = (
    "bot.answer.COMPARISON",
    "bot.citations.AFTER_MARKER",
    "bot.citations.MARKER",
    "bot.citations.QUOTED",
    "bot.extractive.ASKS_FOR_QUESTIONS",
    "bot.extractive.BACK_MATTER",
    "bot.extractive.NOT_PROSE",
    "bot.intent.AMOUNT",
    "bot.intent.DATE",
    "bot.intent.FORMER_NAME",
    "bot.intent.NAME",
    "bot.intent.OUTCOME_WORDS",
    "bot.intent.PERSON",
    "bot.intent.PLACE_WORDS",
    "bot.intent.RECOMMENDATION",
    "bot.intent.ROLE_NOUNS",
    "bot.intent.WORD",
    "bot.intent._AMOUNT",
    "bot.intent._CLAUSE_BREAK",
    "bot.intent._COUNTED_LIST",
    "bot.intent._FORMER_NAME",
    "bot.intent._ITEM_BREAK",
    "bot.intent._MEMBERS",
    "bot.intent._QUANTITY_NOUN",
    "bot.intent._RECOMMENDS",
    "bot.intent._RESULTS",
    "bot.intent._ROLE",
    "bot.intent._ROLE_ASKED",
    "bot.intent._STEPS",
    "bot.intent._WHEN",
    "bot.intent._WHERE",
    "bot.intent._WHICH_NAMED",
    "bot.intent._WHO",
    "bot.lexical._ANCHOR",
    "bot.lexical._HAS_NUMBER",
    "bot.lexical._HAS_YEAR",
    "bot.lexical._NAME",
    "bot.lexical._QUANTITY",
    "bot.lexical._YEAR",
    "bot.reflections.EMAIL",
    "bot.reflections.PHONE",
    "bot.reflections._NON_DIGITS",
    "bot.slack.blocks.BOLD",
    "bot.slack.blocks.ENTITY_TAIL",
    "bot.slack.blocks.HEADING",
    "bot.slack.blocks.LINK",
    "bot.slack.listeners.events.MENTION",
    "bot.web.text.WORD",
    "ingest.clean._BOLD",
    "ingest.clean._CONTINUED",
    "ingest.clean._ESCAPE",
    "ingest.clean._HAS_WORD",
    "ingest.clean._HYPHEN_BREAK",
    "ingest.clean._INDEX_ENTRY",
    "ingest.clean._ITALIC",
    "ingest.clean._LATEX_JUNK",
    "ingest.clean._LINK",
    "ingest.clean._PAGE_HEADER",
    "ingest.clean._SPACES",
    "ingest.clean._SUP",
    "ingest.clean._TAG",
    "ingest.clean._TOC_LINE",
    "ingest.structure._LIST_ITEM",
    "ingest.structure._MD_HEADING",
    "ingest.structure._NON_WORDS",
)

SOURCE_DIRS = ("bot", "ingest", "index")
RE_FUNCTIONS = {"compile", "search", "match", "fullmatch", "findall", "finditer", "sub", "subn", "split"}

MAX_CHARS = 20_000
# Honest linear work on 20,000 characters takes a few milliseconds per pattern and under 0.8 s for
# the slowest function (chunking, through pysbd); the super-linear code this guards against took
# from 12 s to hours. The bounds leave 10x headroom for a busy machine.
PATTERN_BOUND = 0.2
FUNCTION_BOUND = 8.0

# Runs of these, alone or next to each other, are what made the old patterns backtrack.
SPACES = (" ", "\t", "\n", "\u00a0")
MARKUP = ("#", "# a", "<sup>", "</sup>", "*", "**", "_", "__", "|", "<", ">", "<p ", "<@U1|", "\\", "\\(", "$")
BRACKETS = ("[", "]", "(", ")", "](", "“", '"')
WORDS = ("1", "1 ", "1,", "1.", "£1,", "a", "A ", "Ab ", "a@", ".", ",", "-", "x", "Mr. ", "e.g. ", "a b. ", "a?” ")
PIECES = SPACES + MARKUP + BRACKETS + WORDS
KILLERS = [
    "# a" + " " * MAX_CHARS + "x",
    "<sup>" + " " * MAX_CHARS + "x",
    "\\(" + " " * MAX_CHARS + "x",
    "Heading" + " " * MAX_CHARS + "x",
    "[" * MAX_CHARS,
    "\\" * MAX_CHARS,
    "a" * MAX_CHARS,
    "1" * MAX_CHARS,
    "“" * MAX_CHARS,
    "<p " * (MAX_CHARS // 3),
    "[a](" * (MAX_CHARS // 4),
    "<@U1|" * (MAX_CHARS // 5),
    "<sup>" * (MAX_CHARS // 5),
    "1 " * (MAX_CHARS // 2),
    "1," * (MAX_CHARS // 2),  # restarting a number after every comma was quadratic (bot.intent.AMOUNT)
    "Ab " * (MAX_CHARS // 3),
    "Mr. " * (MAX_CHARS // 4),
    "a?” " * (MAX_CHARS // 4),
]

hostile_text = st.lists(st.tuples(st.sampled_from(PIECES), st.integers(1, MAX_CHARS)), min_size=1, max_size=4).map(
    lambda runs: "".join(piece * count for piece, count in runs)[:MAX_CHARS]
)


def with_killers(test: Callable) -> Callable:
    for text in KILLERS:
        test = example(text=text)(test)
    return test


def _regex_calls(tree: ast.AST) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id == "re"
        and node.func.attr in RE_FUNCTIONS
    ]


def _flags(node: ast.expr | None) -> int:
    if node is None:
        return 0
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _flags(node.left) | _flags(node.right)
    assert isinstance(node, ast.Attribute), f"line {node.lineno}: flags must be written as re.FLAG"
    return int(getattr(re, node.attr))


def source_patterns() -> tuple[set[str], dict[str, re.Pattern[str]]]:
    """Names of the module-level `re.compile` patterns, and the inline literal patterns (compiled here) by file:line."""
    module_level: set[str] = set()
    inline: dict[str, re.Pattern[str]] = {}
    for path in sorted(p for folder in SOURCE_DIRS for p in (REPO / folder).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        module = ".".join(path.relative_to(REPO).with_suffix("").parts)
        assigned = {id(s.value): s.targets[0].id for s in tree.body if isinstance(s, ast.Assign) and isinstance(s.targets[0], ast.Name)}
        for call in _regex_calls(tree):
            if call.func.attr == "compile" and id(call) in assigned:
                module_level.add(f"{module}.{assigned[id(call)]}")
                continue
            where = f"{path.relative_to(REPO)}:{call.lineno}"
            pattern = call.args[0]
            assert isinstance(pattern, ast.Constant) and isinstance(pattern.value, str), (
                f"{where}: a pattern built at run time cannot be checked"
            )
            flag = next(
                (k.value for k in call.keywords if k.arg == "flags"),
                call.args[1] if call.func.attr == "compile" and len(call.args) > 1 else None,
            )
            inline[where] = re.compile(pattern.value, _flags(flag))
    return module_level, inline


def resolve(name: str) -> re.Pattern[str]:
    module, _, attribute = name.rpartition(".")
    return getattr(importlib.import_module(module), attribute)


MODULE_LEVEL, INLINE = source_patterns()
ALL_PATTERNS = {**{name: resolve(name) for name in REGISTRY if name in MODULE_LEVEL}, **INLINE}


def elapsed(call: Callable[[str], object], text: str) -> float:
    start = time.perf_counter()
    call(text)
    return time.perf_counter() - start


def test_every_module_level_pattern_is_registered() -> None:
    assert MODULE_LEVEL - set(REGISTRY) == set(), "add these patterns to REGISTRY so they are checked for linear time"
    assert set(REGISTRY) - MODULE_LEVEL == set(), "these registered patterns no longer exist"


@pytest.mark.parametrize("name", sorted(ALL_PATTERNS))
@settings(deadline=None, max_examples=25, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@with_killers
@given(text=hostile_text)
def test_pattern_runs_in_linear_time(name: str, text: str) -> None:
    pattern = ALL_PATTERNS[name]
    for operation in (pattern.search, pattern.findall):
        took = elapsed(operation, text)
        assert took < PATTERN_BOUND, f"{name}.{operation.__name__} took {took:.2f}s on {len(text)} characters starting {text[:20]!r}"


FUNCTIONS: dict[str, Callable[[str], object]] = {
    "clean_inline": clean.clean_inline,
    "clean_heading": clean.clean_heading,
    "is_noise_line": clean.is_noise_line,
    "dehyphenate": clean.dehyphenate,
    "parse_text": lambda text: structure.parse_text(text, guess_headings=False),
    "parse_text_guessing_headings": lambda text: structure.parse_text(text, guess_headings=True),
    "parse_pdf_pages": lambda text: structure.parse_pdf_pages([text], {1: [text[:200]]}),
    "chunk_blocks": lambda text: chunk_blocks(structure.parse_text(text, guess_headings=False), "Title"),
    "contains_personal_data": reflections.contains_personal_data,
    "question_text": events.question_text,
    "to_mrkdwn": to_mrkdwn,
    "match_key": match_key,
    "proper_names": lexical.proper_names,
    "anchors": lexical.anchors,
    "expected_answer_type": lexical.expected_answer_type,
    "year_of": year_of,
    "title_from_name": lambda text: title_from_name(Path(text[:200])),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
@settings(deadline=None, max_examples=10, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@with_killers
@given(text=hostile_text)
def test_text_functions_finish_in_bounded_time(name: str, text: str) -> None:
    took = elapsed(FUNCTIONS[name], text)
    assert took < FUNCTION_BOUND, f"{name} took {took:.2f}s on {len(text)} characters starting {text[:20]!r}"


def test_a_reflection_full_of_spaces_is_stored_and_indexed_at_once(tmp_path: Path) -> None:
    """The reflection of issue 10 (1,600 spaces took 8 s, 3,990 took 136 s, blocking the server).

    The model strips each field and allows 4,000 characters, so the spaces sit inside the text: a
    heading line and a footnote marker that never close. A plain reflection goes first, so the
    timing measures the text, not the first database connection."""
    (tmp_path / "corpus").mkdir()
    services = build_services(make_settings(tmp_path / "var", tmp_path / "corpus"), embedder=FakeEmbedder())
    services.reflections.create(ReflectionCreate(what_happened="We met weekly.", what_we_learned="Trust grew."))
    data = ReflectionCreate(what_happened="# a" + " " * 3990 + "b", what_we_learned="<sup>" + " " * 3990 + "b")
    start = time.perf_counter()
    reflection = services.reflections.create(data)
    assert time.perf_counter() - start < 2.0
    assert reflection.status == "published"
    (chunk,) = services.reflections.draft(reflection)[1]
    assert "\n\na b\n\n" in chunk.text and chunk.text.endswith("<sup> b")
    assert services.catalog.counts() == (2, 2)
