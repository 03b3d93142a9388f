"""Block Kit builders: untrusted text is escaped for Slack, links stay visible, and hostile input stays cheap."""

import time

from bot.slack.blocks import SECTION_LIMIT, escape, safe_text, to_mrkdwn


def test_slack_control_characters_become_entities() -> None:
    assert escape("<!channel> & <@U123>") == "&lt;!channel&gt; &amp; &lt;@U123&gt;"


def test_markdown_keeps_formatting_and_citation_markers_but_shows_link_targets() -> None:
    text = to_mrkdwn("## Findings\n**Pay for learning** [1], see [NHS guidance](https://evil.example/a?b=1&c=2) [2]")
    assert text == "*Findings*\n*Pay for learning* [1], see NHS guidance (https://evil.example/a?b=1&amp;c=2) [2]"


def test_clipping_never_leaves_half_an_entity() -> None:
    clipped = safe_text("a" * (SECTION_LIMIT - 3) + "<b>")
    assert len(clipped) <= SECTION_LIMIT and clipped.endswith("a…")


def test_hostile_markdown_is_converted_in_linear_time() -> None:
    started = time.perf_counter()
    for hostile in ("[" * 50_000, "**a" * 20_000, "[a](http://" + "x" * 50_000, "#" + " " * 50_000):
        to_mrkdwn(hostile)
    assert time.perf_counter() - started < 1.0
