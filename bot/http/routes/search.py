from typing import Annotated

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool

from bot.http.deps import ReadAccess, ServicesDep
from bot.http.responses import errors
from bot.http.schemas import MAX_ID, Filters, SearchResponse, SourceType
from bot.nul import NoNulStr

router = APIRouter(tags=["search"], dependencies=[ReadAccess], responses=errors(400, 401, 422))


@router.get("/search", response_model=SearchResponse)
async def search(
    services: ServicesDep,
    q: Annotated[NoNulStr, Query(min_length=1, max_length=2000, description="What to look for", examples=["salami slicing"])],
    k: Annotated[int, Query(ge=1, le=50)] = 5,
    source_type: SourceType | None = None,
    document_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    tag: Annotated[NoNulStr | None, Query(min_length=1, max_length=64)] = None,
    year_from: Annotated[int | None, Query(ge=1800, le=2200)] = None,
    year_to: Annotated[int | None, Query(ge=1800, le=2200)] = None,
) -> SearchResponse:
    """Hybrid search (dense + BM25, reciprocal rank fusion) with filters: precedents for commissioners."""
    filters = Filters(source_type=source_type, document_id=document_id, tag=tag, year_from=year_from, year_to=year_to)
    hits = await run_in_threadpool(services.searcher.search, q, k, filters.to_search())
    return SearchResponse(hits=hits)
