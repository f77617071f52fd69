"""HTTP API (litestar): ``create_app(settings)``."""

from context_service.api.app import create_app

__all__ = ["create_app"]
