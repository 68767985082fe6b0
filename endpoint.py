"""The ASGI app: `uvicorn endpoint:app` (settings from STATECRAFT_* environment variables)."""

from statecraft.server import create_app

app = create_app()
