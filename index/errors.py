"""Every error Learnloop raises on purpose, in one hierarchy.

    LearnloopError          base: a problem a person can act on; its message is safe to show
    ├── IngestError         one file could not be read (corrupt, encrypted, empty, no text)
    ├── SearchError         a search could not run (bad filter, index unavailable)
    ├── AnswerError         an answer could not be composed (generator failure after fallback)
    └── InputRejected       input that breaks a rule (empty text, personal data, limits)

Lives in `index` because every other package may depend on `index`, never the reverse.
"""


class LearnloopError(Exception):
    """Base class; `str(error)` is a message written for the person who caused it."""


class IngestError(LearnloopError):
    """A single source file could not be ingested; the run goes on without it."""


class SearchError(LearnloopError):
    """A search request could not be carried out as asked."""


class AnswerError(LearnloopError):
    """An answer could not be composed."""


class InputRejected(LearnloopError):
    """Input that breaks a rule; `field` names the offending field when there is one."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field
