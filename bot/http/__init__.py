"""The HTTP API (FastAPI): an app factory, one router module per resource, dependencies in deps.py."""
