from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response, status
from starlette.concurrency import run_in_threadpool

from bot.http.deps import ReadAccess, ServicesDep, WriteAccess
from bot.records import Reflection
from bot.reflection_models import ReflectionCreate, ReflectionPublic, ReflectionUpdate
from bot.services import Services

router = APIRouter(prefix="/reflections", tags=["reflections"])


def public(services: Services, reflection: Reflection) -> ReflectionPublic:
    result = ReflectionPublic.model_validate(reflection, from_attributes=True)
    result.document_id = services.reflections.document_id(reflection.id) if reflection.status == "published" else None
    return result


@router.post("", response_model=ReflectionPublic, status_code=status.HTTP_201_CREATED, dependencies=[WriteAccess])
async def create_reflection(body: ReflectionCreate, services: ServicesDep) -> ReflectionPublic:
    """Share what you learned; searchable (and citable) as soon as this returns, unless review is on."""
    reflection = await run_in_threadpool(services.reflections.create, body, "api")
    return public(services, reflection)


@router.get("", response_model=list[ReflectionPublic], dependencies=[ReadAccess])
def list_reflections(
    services: ServicesDep,
    tag: Annotated[str | None, Query(max_length=64)] = None,
    team: Annotated[str | None, Query(max_length=200)] = None,
    place: Annotated[str | None, Query(max_length=200)] = None,
    since: datetime | None = None,
    status_: Annotated[str | None, Query(alias="status", pattern="^(published|pending|rejected)$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[ReflectionPublic]:
    """Reflections, newest first, filtered by tag, team, place, date or review status."""
    return [public(services, r) for r in services.reflections.list(tag, team, place, since, status_, limit)]


@router.get("/{reflection_id}", response_model=ReflectionPublic, dependencies=[ReadAccess])
def get_reflection(reflection_id: str, services: ServicesDep) -> ReflectionPublic:
    reflection = services.reflections.get(reflection_id)
    if reflection is None:
        raise HTTPException(404, f"No reflection with id {reflection_id!r}.")
    return public(services, reflection)


@router.patch("/{reflection_id}", response_model=ReflectionPublic, dependencies=[WriteAccess])
async def review_reflection(reflection_id: str, body: ReflectionUpdate, services: ServicesDep) -> ReflectionPublic:
    """Approve (publish) or reject a reflection waiting for review."""
    reflection = await run_in_threadpool(services.reflections.set_status, reflection_id, body.status)
    if reflection is None:
        raise HTTPException(404, f"No reflection with id {reflection_id!r}.")
    return public(services, reflection)


@router.delete("/{reflection_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[WriteAccess])
async def delete_reflection(reflection_id: str, services: ServicesDep) -> Response:
    """Erase a reflection everywhere: catalog, both indexes and any exported learning-log file."""
    if not await run_in_threadpool(services.reflections.delete, reflection_id):
        raise HTTPException(404, f"No reflection with id {reflection_id!r}.")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
