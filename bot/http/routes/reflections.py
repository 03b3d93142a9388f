from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response, status
from starlette.concurrency import run_in_threadpool

from bot.http.deps import AdminAccess, ReadAccess, ScopeDep, ServicesDep, WriteAccess
from bot.http.paging import PAGED, Offset, page_headers
from bot.http.responses import errors
from bot.nul import NoNulStr
from bot.records import Reflection
from bot.reflection_models import ReflectionCreate, ReflectionPublic, ReflectionUpdate
from bot.services import Services
from bot.settings import ApiScope

router = APIRouter(prefix="/reflections", tags=["reflections"], responses=errors(401, 422))
ReflectionId = Annotated[NoNulStr, Path(description="The reflection's id")]


def public(services: Services, reflection: Reflection) -> ReflectionPublic:
    result = ReflectionPublic.model_validate(reflection, from_attributes=True)
    result.document_id = services.reflections.document_id(reflection.id) if reflection.status == "published" else None
    return result


def visible(reflection: Reflection, scope: ApiScope) -> bool:
    """Only admin keys see reflections awaiting review or rejected; to others they do not exist."""
    return scope == "admin" or reflection.status == "published"


def not_found(reflection_id: str) -> HTTPException:
    return HTTPException(404, f"No reflection with id {reflection_id!r}.")


@router.post("", response_model=ReflectionPublic, status_code=status.HTTP_201_CREATED, dependencies=[WriteAccess], responses=errors(400, 403, 413))
async def create_reflection(body: ReflectionCreate, services: ServicesDep) -> ReflectionPublic:
    """Share what you learned; searchable (and citable) as soon as this returns, unless review is on."""
    reflection = await run_in_threadpool(services.reflections.create, body, "api")
    return public(services, reflection)


@router.get("", response_model=list[ReflectionPublic], dependencies=[ReadAccess], responses={**PAGED, **errors(403)})
def list_reflections(
    request: Request,
    response: Response,
    services: ServicesDep,
    scope: ScopeDep,
    tag: Annotated[NoNulStr | None, Query(max_length=64)] = None,
    team: Annotated[NoNulStr | None, Query(max_length=200)] = None,
    place: Annotated[NoNulStr | None, Query(max_length=200)] = None,
    since: datetime | None = None,
    status_: Annotated[str | None, Query(alias="status", pattern="^(published|pending|rejected)$", description="Any but published needs an admin key")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> list[ReflectionPublic]:
    """Reflections, newest first, filtered by tag, team, place, date or review status (published only,
    unless admin), in pages (X-Total-Count and Link headers)."""
    if scope != "admin":
        if status_ not in (None, "published"):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"Listing {status_} reflections needs a key with admin scope.")
        status_ = "published"
    page_headers(request, response, services.reflections.count(tag, team, place, since, status_), limit, offset)
    return [public(services, r) for r in services.reflections.list(tag, team, place, since, status_, limit, offset)]


@router.get("/{reflection_id}", response_model=ReflectionPublic, dependencies=[ReadAccess], responses=errors(404))
def get_reflection(reflection_id: ReflectionId, services: ServicesDep, scope: ScopeDep) -> ReflectionPublic:
    reflection = services.reflections.get(reflection_id)
    if reflection is None or not visible(reflection, scope):
        raise not_found(reflection_id)
    return public(services, reflection)


@router.patch("/{reflection_id}", response_model=ReflectionPublic, dependencies=[AdminAccess], responses=errors(400, 403, 404, 413))
async def review_reflection(reflection_id: ReflectionId, body: ReflectionUpdate, services: ServicesDep) -> ReflectionPublic:
    """Approve (publish) or reject a reflection waiting for review (admin)."""
    reflection = await run_in_threadpool(services.reflections.set_status, reflection_id, body.status)
    if reflection is None:
        raise not_found(reflection_id)
    return public(services, reflection)


@router.delete("/{reflection_id}", status_code=status.HTTP_204_NO_CONTENT, dependencies=[AdminAccess], responses=errors(403, 404))
async def delete_reflection(reflection_id: ReflectionId, services: ServicesDep) -> Response:
    """Erase a reflection everywhere (admin): catalog, both indexes and any exported learning-log file."""
    if not await run_in_threadpool(services.reflections.delete, reflection_id):
        raise not_found(reflection_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
