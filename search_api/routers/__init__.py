"""The web app's routes, one module per area."""

from __future__ import annotations

from typing import Any

import orjson
import pydantic_core
from fastapi.responses import Response

# UTC as "Z" and non-string keys as strings, as pydantic-core writes them; whatever orjson does not know
# (sets, time spans, decimals) goes through pydantic-core's conversion, so the answer is the same JSON.
_JSON_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS


def json_answer(value: Any, status_code: int = 200) -> Response:
    """A result (dataclasses, lists, dicts, dates) as JSON, serialised once by orjson.

    FastAPI's own path for a returned dict (`dataclasses.asdict`, which deep-copies every record, then
    the response encoder) cost about 10 ms of CPU for a page of hits with facets; pydantic-core's
    `to_json` 0.19 ms, orjson 0.05 ms, to the same bytes (decision 32)."""
    body = orjson.dumps(value, default=pydantic_core.to_jsonable_python, option=_JSON_OPTIONS)
    return Response(body, status_code=status_code, media_type="application/json")
