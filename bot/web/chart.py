"""Questions per week by outcome: counted from the question log, drawn as an SVG on the server (no
script), with the same numbers as a table for anyone who cannot see the chart."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from markupsafe import Markup, escape
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.records import QueryLog
from index.db import utcnow

OUTCOMES = ("answer", "related", "abstain")
LABELS = {"answer": "Answered", "related": "Related passages only", "abstain": "Nothing relevant"}
# GOV.UK green, blue and dark grey: each at least 3:1 against white (WCAG 1.4.11) and told apart by position too.
COLOURS = {"answer": "#00703c", "related": "#1d70b8", "abstain": "#505a5f"}
WEEKS = 8


@dataclass
class Week:
    start: date
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def weekly_outcomes(engine: Engine, weeks: int = WEEKS, now: datetime | None = None) -> list[Week]:
    """The last `weeks` weeks (Monday to Sunday, oldest first), questions counted by outcome. Questions
    asked in private are left out, as everywhere else gaps are shown."""
    today = (now or utcnow()).date()
    first = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    table = [Week(first + timedelta(weeks=i)) for i in range(weeks)]
    since = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
    with Session(engine) as session:
        rows = session.exec(
            select(QueryLog.created_at, QueryLog.answered, QueryLog.abstained).where(col(QueryLog.created_at) >= since, col(QueryLog.private).is_(False))
        ).all()
    for created_at, answered, abstained in rows:
        index = (created_at.date() - first).days // 7
        if 0 <= index < weeks:
            outcome = "answer" if answered else ("abstain" if abstained else "related")
            table[index].counts[outcome] += 1
    return table


def weekly_svg(table: list[Week], width: int = 640, height: int = 260) -> Markup:
    """Stacked bars, one per week; the title and description name what it shows, and the table beside
    it on the page holds the numbers."""
    left, bottom, top = 40, 40, 12
    peak = max((w.total for w in table), default=0) or 1
    slot = (width - left) / max(len(table), 1)
    scale = (height - bottom - top) / peak
    parts = [
        f'<svg class="app-chart" role="img" aria-labelledby="chart-title chart-desc" viewBox="0 0 {width} {height}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg">',
        '<title id="chart-title">Questions per week by outcome</title>',
        f'<desc id="chart-desc">Stacked bars for the {len(table)} weeks to {escape(table[-1].start.isoformat()) if table else ""}; '
        "the table below gives the same numbers.</desc>",
        f'<line x1="{left}" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" stroke="#0b0c0c"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" font-size="12" fill="#0b0c0c">{peak}</text>',
        f'<text x="{left - 6}" y="{height - bottom}" text-anchor="end" font-size="12" fill="#0b0c0c">0</text>',
    ]
    for i, week in enumerate(table):
        x = left + i * slot + slot * 0.2
        y = float(height - bottom)
        for outcome in OUTCOMES:
            bar = week.counts[outcome] * scale
            if bar:
                y -= bar
                parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.6:.1f}" height="{bar:.1f}" fill="{COLOURS[outcome]}"/>')
        label = week.start.strftime("%d %b")
        parts.append(f'<text x="{x + slot * 0.3:.1f}" y="{height - bottom + 16}" text-anchor="middle" font-size="12" fill="#0b0c0c">{label}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
