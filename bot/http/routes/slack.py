import json

from fastapi import APIRouter, HTTPException, Request, Response
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.concurrency import run_in_threadpool

router = APIRouter(tags=["slack"])


@router.post("/slack/events", include_in_schema=False)
async def slack_events(request: Request) -> Response:
    """Events API, interactivity and slash commands. Unsigned, mis-signed or stale requests get 401;
    signed bodies that do not parse get 400; everything else goes to the Bolt app."""
    app = getattr(request.app.state, "slack", None)
    if app is None:
        raise HTTPException(404, "Slack is not configured on this server (set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET).")
    body = await request.body()
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise HTTPException(400, "The Slack request body is not UTF-8.") from error
    if not request.app.state.slack_verifier.is_valid_request(text, dict(request.headers)):
        raise HTTPException(401, "The request is not signed with this app's signing secret, or it is too old.")
    if not text.strip():
        raise HTTPException(400, "The Slack request body is empty.")
    try:
        bolt_request = to_bolt_request(request, body)
    except (json.JSONDecodeError, ValueError) as error:
        raise HTTPException(400, "The Slack request body is malformed.") from error
    response = await run_in_threadpool(app.dispatch, bolt_request)
    return to_starlette_response(response)
