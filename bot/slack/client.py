"""The Web API client, built one way for the Bolt app and for the review poster (which also runs in
the CLI, where there is no Bolt app)."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler

from bot.settings import Settings


def web_client(settings: Settings) -> WebClient:
    """The bot token's client at LEARNLOOP_SLACK_API_URL, retrying dropped connections and rate limits."""
    return WebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url or WebClient.BASE_URL,
        retry_handlers=[ConnectionErrorRetryHandler(max_retry_count=2), RateLimitErrorRetryHandler(max_retry_count=3)],
    )
