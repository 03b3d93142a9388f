"""The Slack app (slack-bolt): one Bolt app, listeners by surface, Block Kit built by pure functions."""
