"""The web app: pages and the JSON API. `web:create_app()` for `flask --app web` and gunicorn."""

from web.app import create_app

__all__ = ["create_app"]
