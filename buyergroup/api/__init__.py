"""The JSON API, version 1: personal bearer tokens, JSON errors, an OpenAPI document."""

from buyergroup.api.views import bp

__all__ = ["bp"]
