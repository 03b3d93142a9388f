"""Log set-up for `learnloop serve`: text or one JSON object per line, both on standard error.

Each record carries the id of the HTTP request it belongs to and, for Slack work, the Slack event
id (context variables, set by the request-id middleware and the Slack app; Bolt's listener threads
get a copy of them). The access log never records query strings: `GET /search?q=...` would
otherwise write people's questions to the log.
"""

from __future__ import annotations

import copy
import logging
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextvars import ContextVar, copy_context
from typing import Any, Literal

from pythonjsonlogger.core import RESERVED_ATTRS
from uvicorn.config import LOGGING_CONFIG

LogFormat = Literal["text", "json"]

REQUEST_ID: ContextVar[str] = ContextVar("request_id", default="")
SLACK_EVENT_ID: ContextVar[str] = ContextVar("slack_event_id", default="")
MAX_REQUEST_ID = 64
_REQUEST_ID_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:")


def request_id_from(header: str | None) -> str:
    """The caller's X-Request-ID when it is short and plain (letters, digits, - _ . :), else a new one:
    an id goes into every log line, so it may not carry newlines, quotes or a megabyte of text."""
    if header and len(header) <= MAX_REQUEST_ID and set(header) <= _REQUEST_ID_CHARS:
        return header
    return uuid.uuid4().hex


class ContextFilter(logging.Filter):
    """Adds `request_id` and `slack_event_id` to records logged while they are set."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in (("request_id", REQUEST_ID), ("slack_event_id", SLACK_EVENT_ID)):
            value = var.get()
            if value:
                setattr(record, name, value)
        return True


class DropQueryString(logging.Filter):
    """Removes the query string from uvicorn's access-log lines (client, method, path, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) == 5 and isinstance(record.args[2], str):
            client, method, path, version, status = record.args
            record.args = (client, method, path.partition("?")[0], version, status)
        return True


def uvicorn_log_config(log_format: LogFormat) -> dict[str, Any]:
    """uvicorn's logging config, with the access log on standard error without query strings; in
    json mode every logger (the root included) writes JSON lines carrying the request context."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"no_query": {"()": DropQueryString}, "context": {"()": ContextFilter}}
    config["handlers"]["access"]["stream"] = "ext://sys.stderr"
    config["loggers"]["uvicorn.access"]["filters"] = ["no_query"]
    if log_format == "json":
        json_formatter = {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",
            "reserved_attrs": [*RESERVED_ATTRS, "color_message"],  # uvicorn's coloured copy of the message
        }
        config["formatters"] = {"default": json_formatter, "access": json_formatter}
        for handler in config["handlers"].values():
            handler["filters"] = ["context"]
        config["root"] = {"handlers": ["default"]}  # keeps the level the CLI set
    return config


class ContextThreadPool(ThreadPoolExecutor):
    """A thread pool that runs each task in a copy of the submitter's context, so Bolt's listeners
    log with the request and Slack event ids of the request that started them."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        return super().submit(copy_context().run, fn, *args, **kwargs)
