"""Pure Block Kit builders: data in, blocks out; no I/O. Slack's limits are honoured here
(3,000 characters per section text, 50 blocks per message, 150 characters per button text).

Every untrusted string (answers, quotes, titles, reflections, questions) goes through `escape`
before it joins mrkdwn text, so stored text cannot ping @channel, mention someone or hide a link.
`plain_text` objects and input `initial_value`s are not parsed by Slack and stay as typed."""

from __future__ import annotations

import json
import re

from bot.models import Answer, Citation
from bot.prompts import Prompts
from bot.records import Reflection

SECTION_LIMIT = 3000
MAX_BLOCKS = 50
MAX_SOURCES = 8


# Linear time on untrusted text: no class can run past the delimiter that ends it.
BOLD = re.compile(r"\*\*([^*\n]+)\*\*")
LINK = re.compile(r"\[([^\[\]\n]+)\]\((https?://[^()\s]+)\)")
HEADING = re.compile(r"^#{1,6}[ \t]+([^\n]+)$", re.M)
ENTITY_TAIL = re.compile(r"&[a-z]{0,3}\Z")


def escape(text: str) -> str:
    """Slack's control characters as entities (`&`, `<`, `>`): the text is shown, never acted on."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_mrkdwn(markdown: str) -> str:
    """Untrusted Markdown as safe mrkdwn: escaped; **bold** -> *bold*, headings -> bold lines, and
    [text](url) -> text (url), so a link's target is always visible rather than hidden behind its text."""
    text = BOLD.sub(r"*\1*", escape(markdown))
    text = LINK.sub(r"\1 (\2)", text)
    return HEADING.sub(r"*\1*", text)


def _clip(text: str, limit: int = SECTION_LIMIT) -> str:
    """At most `limit` characters, never ending in half an entity like `&am`."""
    return text if len(text) <= limit else ENTITY_TAIL.sub("", text[: limit - 1]) + "…"


def safe_text(text: str, limit: int = SECTION_LIMIT) -> str:
    """Untrusted text for a message's `text` (notification fallback, replies): escaped and clipped."""
    return _clip(escape(text), limit)


def section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text)}}


def source_line(citation: Citation) -> str:
    """`[n] Title - Author (Year), section, p. N` followed by the quote; everything but the markup escaped."""
    who = f" - {', '.join(a.split(' (')[0] for a in citation.authors[:2])}" if citation.authors else ""
    year = f" ({citation.provenance or citation.year})" if citation.provenance or citation.year else ""
    where = ", ".join(p for p in (citation.section.split(" > ")[-1] if citation.section else "", f"p. {citation.page_start}" if citation.page_start else "") if p)
    described = escape(f"{citation.title}{who}{year}{', ' + where if where else ''}")
    return f"*[{citation.n}]* {described}\n> {_clip(escape(' '.join(citation.quote.split())), 400)}"


def sources_block(citations: list[Citation]) -> list[dict]:
    if not citations:
        return []
    lines = [source_line(c) for c in citations[:MAX_SOURCES]]
    return [{"type": "context", "elements": [{"type": "mrkdwn", "text": "*Sources*"}]}, section("\n".join(lines))]


def feedback_block(question_id: str) -> dict:
    return {
        "type": "actions",
        "block_id": "feedback",
        "elements": [
            {"type": "button", "action_id": "feedback_helpful", "text": {"type": "plain_text", "text": "Helpful"}, "value": question_id},
            {"type": "button", "action_id": "feedback_not_helpful", "text": {"type": "plain_text", "text": "Not helpful"}, "value": question_id},
        ],
    }


def answer_blocks(answer: Answer, share_label: str | None = None, question: str = "", offer_label: str = "") -> list[dict]:
    """The answer, its sources and feedback buttons; a share button for ephemeral answers; and, when
    the reports don't answer it ("related" or "abstain"), a button that opens the reflection modal
    pre-filled with the question."""
    blocks = [section(to_mrkdwn(answer.answer)), *sources_block(answer.citations), feedback_block(answer.question_id)]
    if answer.outcome != "answer" and offer_label:
        blocks[-1]["elements"].append(
            {"type": "button", "action_id": "share_what_you_know", "text": {"type": "plain_text", "text": offer_label}, "value": question[:2000]}
        )
    if share_label:
        blocks[-1]["elements"].append(
            {"type": "button", "action_id": "share_answer", "style": "primary", "text": {"type": "plain_text", "text": share_label}, "value": answer.question_id}
        )
    return blocks[:MAX_BLOCKS]


def answer_message(answer: Answer, share_label: str | None = None, question: str = "", offer_label: str = "") -> dict:
    """`text` (the escaped notification fallback) and `blocks` of an answer, for chat.postMessage or respond."""
    return {"text": safe_text(answer.answer), "blocks": answer_blocks(answer, share_label, question, offer_label)}


def _input(block_id: str, label: str, hint: str = "", multiline: bool = True, optional: bool = False, initial: str = "", max_length: int = 3000) -> dict:
    element = {"type": "plain_text_input", "action_id": block_id, "multiline": multiline, "max_length": max_length}
    if initial:
        element["initial_value"] = initial[:max_length]
    block = {"type": "input", "block_id": block_id, "label": {"type": "plain_text", "text": label}, "element": element, "optional": optional}
    if hint:
        block["hint"] = {"type": "plain_text", "text": hint}
    return block


def reflection_modal(prompts: Prompts, what_happened: str = "", metadata: dict | None = None) -> dict:
    """The reflection modal (callback `reflection_modal`); block_id = action_id = field name."""
    text = lambda name: prompts.text("reflection", name)  # noqa: E731 - a local shorthand
    return {
        "type": "modal",
        "callback_id": "reflection_modal",
        "title": {"type": "plain_text", "text": text("title")[:24]},
        "submit": {"type": "plain_text", "text": text("submit")},
        "close": {"type": "plain_text", "text": "Cancel"},
        "private_metadata": json.dumps(metadata or {})[:3000],
        "blocks": [
            _input("what_happened", text("what_happened"), text("what_happened_hint"), initial=what_happened),
            _input("what_we_learned", text("what_we_learned"), text("what_we_learned_hint")),
            _input("what_next", text("what_next"), optional=True, max_length=2000),
            _input("tags", text("tags"), multiline=False, optional=True, max_length=300),
        ],
    }


def missing_modal(prompts: Prompts, question_id: str) -> dict:
    return {
        "type": "modal",
        "callback_id": "feedback_modal",
        "title": {"type": "plain_text", "text": "Feedback"},
        "submit": {"type": "plain_text", "text": "Send"},
        "private_metadata": question_id,
        "blocks": [_input("comment", prompts.text("slack", "missing_prompt"), optional=True, max_length=2000)],
    }


def home_view(prompts: Prompts, reflections: list[Reflection], gaps: list[tuple[str, int]]) -> dict:
    blocks: list[dict] = [section(prompts.text("slack", "home_intro")), {"type": "divider"}, section("*Recent reflections*")]
    blocks += [section(f"• {escape(r.what_we_learned[:280])}" + (f" _({escape(r.team)}, {escape(r.place)})_" if r.team or r.place else "")) for r in reflections[:10]] or [
        section("_None yet._")
    ]
    blocks += [{"type": "divider"}, section("*Open knowledge gaps* (questions I could not answer)")]
    blocks += [section(f"• {escape(question[:280])} _(asked {count}×)_") for question, count in gaps[:10]] or [section("_None open._")]
    return {"type": "home", "blocks": blocks[:MAX_BLOCKS]}


def notice_home(text: str) -> dict:
    """App Home when it cannot be built: the notice alone, so the user is not left looking at a stale page."""
    return {"type": "home", "blocks": [section(text)]}


def mention(user: str) -> str:
    """A user mention from a Slack user id; anything not shaped like one is shown as escaped text."""
    return f"<@{user}>" if user.isascii() and user.isalnum() else escape(user)


def _reflection_sections(reflection: Reflection) -> list[dict]:
    """A reflection's words and provenance, every stored string escaped."""
    parts = [("What happened", reflection.what_happened), ("What we learned", reflection.what_we_learned), ("What next", reflection.what_next)]
    blocks = [section(f"*{heading}*\n{escape(text)}") for heading, text in parts if text]
    about = [escape(value) for value in (reflection.author, reflection.team, reflection.place) if value]
    about += [f"tags: {escape(', '.join(reflection.tags))}"] if reflection.tags else []
    about += [f"from {escape(reflection.origin)}"] + ([escape(reflection.permalink)] if reflection.permalink else [])
    return [*blocks, {"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(" · ".join(about))}]}]


def review_message(prompts: Prompts, reflection: Reflection) -> dict:
    """A pending reflection for the review channel, with Approve and Reject (value: the reflection id)."""
    button = lambda action, label, style: {  # noqa: E731 - a local shorthand
        "type": "button", "action_id": action, "style": style, "value": reflection.id, "text": {"type": "plain_text", "text": prompts.text("slack", label)},
    }
    actions = {"type": "actions", "block_id": "review", "elements": [button("review_approve", "review_approve", "primary"), button("review_reject", "review_reject", "danger")]}
    intro = prompts.text("slack", "review_intro")
    return {"text": safe_text(f"{intro} {reflection.what_we_learned}"), "blocks": [section(intro), *_reflection_sections(reflection), actions]}


def review_decided_message(prompts: Prompts, reflection: Reflection, user: str) -> dict:
    """The review message once decided: who decided, no buttons. A rejected reflection's words leave
    the channel too, as they leave every index."""
    if reflection.status == "published":
        verdict = prompts.text("slack", "review_approved", user=mention(user))
        return {"text": verdict, "blocks": [*_reflection_sections(reflection), section(verdict)]}
    verdict = prompts.text("slack", "review_rejected", user=mention(user))
    return {"text": verdict, "blocks": [section(verdict)]}
