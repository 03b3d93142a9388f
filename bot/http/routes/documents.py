from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response

from bot.http.deps import ReadAccess, ServicesDep
from bot.http.paging import PAGED, Offset, page_headers
from bot.http.responses import errors
from bot.http.schemas import MAX_ID, DocumentPublic, SourceType
from index import Hit

router = APIRouter(tags=["catalog"], dependencies=[ReadAccess], responses=errors(401, 422))


@router.get("/documents", response_model=list[DocumentPublic], responses=PAGED)
def list_documents(
    request: Request,
    response: Response,
    services: ServicesDep,
    source_type: SourceType | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Offset = 0,
) -> list[DocumentPublic]:
    """The catalog: every document with its metadata, in pages (X-Total-Count and Link headers)."""
    page_headers(request, response, services.catalog.count_documents(source_type), limit, offset)
    return [DocumentPublic.model_validate(d, from_attributes=True) for d in services.catalog.list_documents(source_type, limit, offset)]


@router.get("/documents/{document_id}", response_model=DocumentPublic, responses=errors(404))
def get_document(document_id: Annotated[int, Path(ge=1, le=MAX_ID)], services: ServicesDep) -> DocumentPublic:
    document = services.catalog.get_document(document_id)
    if document is None:
        raise HTTPException(404, f"No document with id {document_id}.")
    public = DocumentPublic.model_validate(document, from_attributes=True)
    public.chunks = services.catalog.chunk_count(document_id)
    return public


@router.get("/chunks/{chunk_id}", response_model=Hit, responses=errors(404))
def get_chunk(chunk_id: Annotated[int, Path(ge=1, le=MAX_ID)], services: ServicesDep) -> Hit:
    """A chunk's whole text and place, so a reader can open any citation."""
    meta = services.catalog.get_chunk(chunk_id)
    if meta is None:
        raise HTTPException(404, f"No chunk with id {chunk_id}.")
    return Hit.from_meta(meta, score=1.0)
