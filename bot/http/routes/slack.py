from fastapi import APIRouter, HTTPException, Request, Response
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.concurrency import run_in_threadpool

router = APIRouter(tags=["slack"])


@router.post("/slack/events", include_in_schema=False)
async def slack_events(request: Request) -> Response:
    """Events API, interactivity and slash commands; Bolt verifies the signature (401 when it fails)."""
    app = getattr(request.app.state, "slack", None)
    if app is None:
        raise HTTPException(404, "Slack is not configured on this server (set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET).")
    body = await request.body()
    response = await run_in_threadpool(app.dispatch, to_bolt_request(request, body))
    return to_starlette_response(response)
