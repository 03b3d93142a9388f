from fastapi import APIRouter

from bot.http.deps import ServicesDep
from bot.http.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz(services: ServicesDep) -> Health:
    """Liveness and corpus size; never needs an API key."""
    documents, chunks = services.catalog.counts()
    return Health(status="ok", documents=documents, chunks=chunks)
