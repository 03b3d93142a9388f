from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from bot.http.deps import ReadAccess, ServicesDep
from bot.http.responses import errors
from bot.http.schemas import AskRequest
from bot.models import Answer

router = APIRouter(tags=["answers"], dependencies=[ReadAccess], responses=errors(400, 401, 413, 422))


@router.post("/ask", response_model=Answer)
async def ask(body: AskRequest, services: ServicesDep) -> Answer:
    """Answer from the corpus with verified citations, or abstain and say so."""
    filters = body.filters.to_search() if body.filters else None
    return await run_in_threadpool(services.answers.answer, body.question, body.k, filters, body.history, "api")
