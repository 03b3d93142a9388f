from fastapi import APIRouter, HTTPException, status

from bot.http.deps import AdminAccess, ServicesDep, WriteAccess
from bot.http.responses import errors
from bot.http.schemas import FeedbackCreate, FeedbackPublic, Gap, GapsResponse

router = APIRouter(tags=["learning loop"], responses=errors(401, 403))


@router.post("/feedback", response_model=FeedbackPublic, status_code=status.HTTP_201_CREATED, dependencies=[WriteAccess], responses=errors(400, 404, 413, 422))
def create_feedback(body: FeedbackCreate, services: ServicesDep) -> FeedbackPublic:
    """Was an answer helpful? Unhelpful ones join the knowledge gaps."""
    feedback = services.feedback.record(body.question_id, body.helpful, body.comment)
    if feedback is None:
        raise HTTPException(404, f"No answer with question_id {body.question_id!r}.")
    return FeedbackPublic.model_validate(feedback, from_attributes=True)


@router.get("/gaps", response_model=GapsResponse, dependencies=[AdminAccess])
def list_gaps(services: ServicesDep) -> GapsResponse:
    """Questions the assistant could not answer, or whose answer was unhelpful, grouped, newest first."""
    groups = services.gaps.gaps()
    return GapsResponse(gaps=[Gap.from_group(g) for g in groups])
