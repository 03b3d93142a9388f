from fastapi import APIRouter, HTTPException, status
from sqlmodel import Session

from bot.http.deps import ReadAccess, ServicesDep, WriteAccess
from bot.http.schemas import FeedbackCreate, FeedbackPublic, Gap, GapsResponse
from bot.records import Feedback, QueryLog

router = APIRouter(tags=["learning loop"])


@router.post("/feedback", response_model=FeedbackPublic, status_code=status.HTTP_201_CREATED, dependencies=[WriteAccess])
def create_feedback(body: FeedbackCreate, services: ServicesDep) -> FeedbackPublic:
    """Was an answer helpful? Unhelpful ones join the knowledge gaps."""
    with Session(services.catalog.engine) as session:
        if session.get(QueryLog, body.question_id) is None:
            raise HTTPException(404, f"No answer with question_id {body.question_id!r}.")
        feedback = Feedback(question_id=body.question_id, helpful=body.helpful, comment=body.comment.strip())
        session.add(feedback)
        session.commit()
        session.refresh(feedback)
        return FeedbackPublic.model_validate(feedback, from_attributes=True)


@router.get("/gaps", response_model=GapsResponse, dependencies=[ReadAccess])
def list_gaps(services: ServicesDep) -> GapsResponse:
    """Questions the assistant could not answer, or whose answer was unhelpful, grouped, newest first."""
    groups = services.gaps.gaps()
    return GapsResponse(
        gaps=[Gap(question=g.question, count=g.count, last_asked=g.last_asked, reasons=sorted(g.reasons), question_ids=g.question_ids) for g in groups]
    )
