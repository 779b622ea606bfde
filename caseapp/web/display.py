"""Display preferences that every page honours: the large-text mode (适老化)."""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, request, session

TEXT_SIZES = ("normal", "large")


def init_app(app: Flask) -> None:
    @app.before_request
    def remember_text_size() -> None:
        wanted = request.args.get("text")
        if wanted in TEXT_SIZES:
            session["text_size"] = wanted

    @app.context_processor
    def display_context() -> dict[str, object]:
        return {"large_text": session.get("text_size") == "large", "url_with": url_with}


def url_with(**params: str) -> str:
    """This page's address with some query parameters set (e.g. another language)."""
    args = request.args.to_dict()
    args.update(params)
    return f"{request.path}?{urlencode(args)}"
