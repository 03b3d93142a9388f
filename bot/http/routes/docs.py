"""The interactive API docs at /docs, served whole from this package.

FastAPI's own /docs and /redoc pages load Swagger UI, ReDoc and a favicon from public CDNs: offline
(`make run` on a laptop) they show a blank page, and online every visit tells a third party who
reads the docs. Swagger UI comes from npm instead (`make web-assets`) and is served under /assets.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)


@router.get("/docs")
def docs(request: Request) -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url,
        title=f"{request.app.title}: API docs",
        swagger_js_url="/assets/swagger-ui-bundle.js",
        swagger_css_url="/assets/swagger-ui.css",
        swagger_favicon_url="data:,",  # no icon rather than one fetched from elsewhere
    )
