"""Wiring: settings -> constructors. The only place that turns configuration into objects."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from bot.answer import AnswerService
from bot.feedback import FeedbackService
from bot.gaps import GapFinder
from bot.generate import generator_for
from bot.metrics import MeteredPipeline, Metrics
from bot.prompts import Prompts
from bot.reflections import ReflectionService
from bot.settings import Settings
from bot.slack.client import web_client
from bot.slack.review import ReviewPoster
from index import Catalog, Searcher, make_engine
from index.background import Coalescing
from index.space import claim_space
from ingest import Embedder, IngestPipeline, load_embedder
from ingest.pipeline import LEARNING_LOG_DIR

GAP_RECHECK_SETTLE_S = 0.5  # a re-check overlapping a query embedding slows it down; see Coalescing
# Each re-check searches every open gap again, a query embedding each: while reflections keep coming
# they take at most a fifth of the time, so the queries queued on the one embedding thread go first.
GAP_RECHECK_DUTY = 0.2


@dataclass
class Services:
    """The parts a surface (CLI, HTTP, Slack) needs, built once from one Settings."""

    settings: Settings
    catalog: Catalog
    embedder: Embedder
    searcher: Searcher
    prompts: Prompts

    @cached_property
    def answers(self) -> AnswerService:
        return AnswerService(
            self.searcher, generator_for(self.settings, self.prompts), self.prompts, self.catalog.engine, self.settings.max_question_chars,
            metrics=self.metrics,
        )

    @cached_property
    def feedback(self) -> FeedbackService:
        return FeedbackService(self.catalog.engine)

    @cached_property
    def gaps(self) -> GapFinder:
        return GapFinder(self.catalog.engine, self.embedder)

    @cached_property
    def reflections(self) -> ReflectionService:
        return ReflectionService(
            self.catalog.engine,
            self.catalog,
            self.searcher,
            self.embedder,
            review=self.settings.review,
            export_dir=self.settings.corpus / LEARNING_LOG_DIR,
            on_published=self.gap_rechecks.request,
            on_pending=self.review_poster,
            metrics=self.metrics,
        )

    @cached_property
    def review_poster(self) -> ReviewPoster | None:
        """Pending reflections are posted to the Slack review channel when review is on and there is a
        channel and a bot token to post with (in every process: API, Slack app and CLI alike)."""
        settings = self.settings
        if not (settings.review and settings.review_channel and settings.slack_bot_token.get_secret_value()):
            return None
        return ReviewPoster(web_client(settings), settings.review_channel, self.prompts)

    @cached_property
    def metrics(self) -> Metrics:
        return Metrics(self.catalog.engine)

    @cached_property
    def index_catch_up(self) -> Coalescing:
        """Index catch-up off the request thread, asked for by /readyz: a replica that no one queries
        still follows the catalog."""
        return Coalescing(self.searcher.sync, "index-catch-up", database=self.catalog.database)

    @cached_property
    def gap_rechecks(self) -> Coalescing:
        """Gap re-checks in the background so publishing stays fast; a burst of reflections costs
        one or two re-checks, not one each, and they start once the burst has settled."""
        return Coalescing(self.recheck_gaps, "gap-recheck", settle=GAP_RECHECK_SETTLE_S, duty=GAP_RECHECK_DUTY, database=self.catalog.database)

    def recheck_gaps(self) -> int:
        return self.gaps.recheck(self.answers.can_answer)

    @cached_property
    def pipeline(self) -> IngestPipeline:
        return MeteredPipeline(self.catalog, self.embedder, self.settings.corpus, metrics=self.metrics)


def open_catalog(settings: Settings) -> Catalog:
    """The catalog with its schema brought up to date: all a command that embeds nothing needs
    (it spares `learnloop documents` the seconds of loading the model)."""
    from bot import records  # noqa: F401 - registers the bot's tables on the metadata the migrations compare against
    from bot.migrations import BOT_VERSIONS

    catalog = Catalog(make_engine(settings.resolved_database_url))
    catalog.create(extra_versions=[BOT_VERSIONS])
    return catalog


def build_services(settings: Settings, embedder: Embedder | None = None, serving: bool = False) -> Services:
    """Create the schema if needed, load the embedder (or use the one given) and open the indexes;
    a `serving` process writes a large token file behind, after it is ready (index.search.Searcher)."""
    catalog = open_catalog(settings)
    model = embedder or load_embedder(settings.embed_model, settings.embed_backend, settings.embed_cache)
    if model.space is not None:
        claim_space(catalog.engine, model.space)
    searcher = Searcher(catalog, model, cache_dir=settings.home / "index", tokens_behind=serving)
    return Services(settings=settings, catalog=catalog, embedder=model, searcher=searcher, prompts=Prompts.load(settings.prompts_dir))
