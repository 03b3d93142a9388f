"""What a page raises instead of the API's JSON errors: the web app turns these into HTML."""

from __future__ import annotations


class PageError(Exception):
    """An error page with a status, a heading and a sentence saying what to do."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message


class SignInRequired(Exception):
    """No valid sign-in cookie while keys are set: send the visitor to the sign-in page, then back."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def local_path(candidate: str | None, default: str = "/") -> str:
    """`candidate` when it is a path on this site, else `default`: a sign-in link cannot send anyone
    to another site ('//host', '/\\host' and absolute URLs are refused)."""
    if not candidate or len(candidate) > 2000 or not candidate.startswith("/") or candidate.startswith(("//", "/\\")):
        return default
    if any(ord(c) < 32 for c in candidate):
        return default
    return candidate
