from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, Response, status

from bot.http.deps import AdminAccess, ServicesDep, WriteAccess
from bot.http.paging import PAGED, Offset, page_headers
from bot.http.responses import errors
from bot.http.schemas import FeedbackCreate, FeedbackPublic, Gap, GapsResponse

MAX_GAPS = 1000  # the gap finder groups at most 500 unanswered and 500 unhelpfully answered questions
router = APIRouter(tags=["learning loop"], responses=errors(401, 403))


@router.post("/feedback", response_model=FeedbackPublic, status_code=status.HTTP_201_CREATED, dependencies=[WriteAccess], responses=errors(400, 404, 413, 422))
def create_feedback(body: FeedbackCreate, services: ServicesDep) -> FeedbackPublic:
    """Was an answer helpful? Unhelpful ones join the knowledge gaps."""
    feedback = services.feedback.record(body.question_id, body.helpful, body.comment)
    if feedback is None:
        raise HTTPException(404, f"No answer with question_id {body.question_id!r}.")
    return FeedbackPublic.model_validate(feedback, from_attributes=True)


@router.get("/gaps", response_model=GapsResponse, dependencies=[AdminAccess], responses={**PAGED, **errors(422)})
def list_gaps(
    request: Request, response: Response, services: ServicesDep, limit: Annotated[int, Query(ge=1, le=MAX_GAPS)] = MAX_GAPS, offset: Offset = 0
) -> GapsResponse:
    """Questions the assistant could not answer, or whose answer was unhelpful, grouped, newest
    first; all of them unless `limit` asks for pages (X-Total-Count and Link headers)."""
    groups = services.gaps.gaps()
    page_headers(request, response, len(groups), limit, offset)
    return GapsResponse(gaps=[Gap.from_group(g) for g in groups[offset : offset + limit]])
