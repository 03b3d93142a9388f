"""The assistant: answers, reflections and gaps, and the CLI, HTTP and Slack surfaces that wire
`ingest` and `index` together.

A regular package, not a namespace one, so a stray `bot/` folder elsewhere on sys.path can
neither merge into it nor shadow its modules.
"""
