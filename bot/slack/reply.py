"""One reply in a thread, optionally held by a placeholder until the answer is ready.

When answers take seconds (LLM mode), a placeholder posted at once shows the asker that Learnloop
is on it; the answer, or an apology, then replaces it in place (chat.update), so the thread keeps one
message rather than a "working on it" line above every answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk import WebClient


@dataclass
class ThreadReply:
    client: WebClient
    channel: str
    thread_ts: str
    ts: str = ""  # the placeholder's, once posted

    def hold(self, text: str) -> None:
        """Post the placeholder that later messages replace."""
        posted = self.client.chat_postMessage(channel=self.channel, thread_ts=self.thread_ts, text=text, unfurl_links=False)
        self.ts = posted.get("ts", "")

    def progress(self, text: str) -> None:
        """Reword the placeholder (nothing to do without one)."""
        if self.ts:
            self.client.chat_update(channel=self.channel, ts=self.ts, text=text)

    def send(self, **message: object) -> None:
        """The final message (`text`, and `blocks` when it has them): in place of the placeholder (which has
        no blocks to keep), or posted."""
        if self.ts:
            self.client.chat_update(channel=self.channel, ts=self.ts, **message)
        else:
            self.client.chat_postMessage(channel=self.channel, thread_ts=self.thread_ts, unfurl_links=False, **message)

    def tell(self, text: str) -> None:
        """A one-line reply (a refusal or an apology): a responder's Tell."""
        self.send(text=text)
