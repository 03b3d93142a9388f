"""App Home: recent reflections, open knowledge gaps, how to use the bot."""

from __future__ import annotations

from slack_bolt import App
from slack_sdk import WebClient

from bot.slack.blocks import home_view, notice_home
from bot.slack.responder import Responder


def register(app: App, responder: Responder) -> None:
    @app.event("app_home_opened")
    def on_home(event: dict, client: WebClient) -> None:
        """Gaps leave out private questions (GapFinder filters them), so the page is the same for everyone."""
        user = event.get("user", "")
        with responder.replying(lambda text: client.views_publish(user_id=user, view=notice_home(text)), "publishing App Home"):
            services = responder.services
            reflections = services.reflections.list(status="published", limit=10)
            gaps = [(g.question, g.count) for g in services.gaps.gaps()[:10]]
            client.views_publish(user_id=user, view=home_view(services.prompts, reflections, gaps))
