"""The language switch: a link per language that remembers the choice in a cookie and goes back."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response

from ui.i18n import COOKIE, COOKIE_MAX_AGE, LANGUAGES, local_path

router = APIRouter()


@router.get("/language/{code}")
def switch_language(
    code: str, request: Request, next_path: Annotated[str | None, Query(alias="next", max_length=2000)] = None
) -> Response:
    """Remember `code` as this browser's language and return to `next` (a path on this site only)."""
    if code not in LANGUAGES:
        raise HTTPException(404, f"no interface language {code!r}; choose one of {', '.join(LANGUAGES)}")
    response = RedirectResponse(local_path(next_path), status_code=303)
    # A display preference, not a credential: readable by no script, kept for a year on this browser.
    response.set_cookie(
        COOKIE,
        code,
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    return response
