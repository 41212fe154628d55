"""Entity pages, the entity graph (neighbours, paths, exports) and the graph view, each under the access
filter and audited."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from case_store.cases import CaseError, cases_of
from case_store.db import transaction
from case_store.graphs import MAX_EXPANDED, GraphRecipe, get_graph, save_graph
from search_api.deps import (
    AppSettings,
    Audit,
    Csrf,
    CurrentConsultation,
    Search,
    SearchLimit,
    Sessions,
    csrf_token,
)
from search_api.entities import MAX_ENTITY_ID, MAX_PAGE, NotAnEntity, entity_kind, entity_page
from search_api.graph import (
    DEFAULT_FANOUT,
    MAX_FANOUT,
    MAX_PATH_HOPS,
    Graph,
    GraphFilter,
    neighbours,
    parse_kinds,
    parse_registers,
    reopened,
    shortest_paths,
    to_csv,
    to_graphml,
)
from search_api.routers import json_answer
from search_api.routers.cases import ATTACHING_ROLES, case_or_404
from search_api.search import JustificationRequired

router = APIRouter()
NOT_VISIBLE = "no such entity, or none of its records is one you may see"

EntityId = Annotated[str, Query(max_length=MAX_ENTITY_ID)]
Page = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Hops = Annotated[int, Query(ge=1, le=2)]
Fanout = Annotated[int, Query(ge=1, le=MAX_FANOUT)]
Listed = Annotated[str | None, Query(max_length=500)]
Since = Annotated[date | None, Query(alias="from")]
Until = Annotated[date | None, Query(alias="to")]
PathHops = Annotated[int, Query(ge=1, le=MAX_PATH_HOPS)]


def _filters(kinds: str | None, registers: str | None, since: date | None, until: date | None) -> GraphFilter:
    try:
        return GraphFilter(parse_kinds(kinds), parse_registers(registers), since, until)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from exc


def _checked(entity: str) -> str:
    try:
        entity_kind(entity)
    except NotAnEntity as exc:
        raise HTTPException(400, str(exc)) from exc
    return entity


@router.get("/api/entities/{entity_id}")
def entity_json(
    entity_id: str,
    consultation: CurrentConsultation,
    client: Search,
    audit: Audit,
    settings: AppSettings,
    page: Page = 1,
) -> Response:
    """Every fact about an entity across the records the user may see, a page of its timeline, its
    related entities with the records that link them."""
    try:
        result = entity_page(client, settings.index_prefix, audit, consultation, entity_id, page=page)
    except NotAnEntity:
        result = None
    if result is None:
        raise HTTPException(404, NOT_VISIBLE)
    return json_answer({**vars(result), "pages": result.pages})


@router.get("/entities/{entity_id}", response_class=HTMLResponse)
def entity_html(
    entity_id: str,
    request: Request,
    consultation: CurrentConsultation,
    client: Search,
    audit: Audit,
    settings: AppSettings,
    page: Page = 1,
) -> Response:
    """The entity page."""
    context: dict[str, Any] = {
        "principal": consultation.principal,
        "csrf_token": csrf_token(request),
        "entity_id": entity_id,
        "entity": None,
        "needs_reason": None,
    }
    try:
        context["entity"] = entity_page(
            client, settings.index_prefix, audit, consultation, entity_id, page=page
        )
    except NotAnEntity:
        pass
    except JustificationRequired as exc:
        context["needs_reason"] = ", ".join(sorted(exc.registers))
        return request.app.state.templates.TemplateResponse(request, "entity.html", context, status_code=428)
    if context["entity"] is None:
        raise HTTPException(404, NOT_VISIBLE)
    return request.app.state.templates.TemplateResponse(request, "entity.html", context)


def _neighbours(
    request: Request,
    consultation: CurrentConsultation,
    client: Search,
    audit: Audit,
    settings: AppSettings,
    entity: str,
    hops: int,
    kinds: str | None,
    registers: str | None,
    since: date | None,
    until: date | None,
    max_fanout: int,
    action: str = "consultation.graph",
    details: dict[str, Any] | None = None,
) -> Graph:
    graph = neighbours(
        client,
        settings.index_prefix,
        audit,
        consultation,
        _checked(entity),
        hops=hops,
        filters=_filters(kinds, registers, since, until),
        fanout=max_fanout,
        action=action,
        details=details,
    )
    if graph is None:
        raise HTTPException(404, NOT_VISIBLE)
    return graph


@router.get("/api/graph/neighbours", dependencies=[SearchLimit])
def graph_neighbours(
    request: Request,
    consultation: CurrentConsultation,
    client: Search,
    audit: Audit,
    settings: AppSettings,
    entity: EntityId,
    hops: Hops = 1,
    kinds: Listed = None,
    registers: Listed = None,
    since: Since = None,
    until: Until = None,
    max_fanout: Fanout = DEFAULT_FANOUT,
) -> Response:
    """An entity and its neighbours, one or two hops away: nodes, and edges with the records behind them.
    `kinds` and `registers` are comma-separated; `from` and `to` bound the records' dates."""
    args = (request, consultation, client, audit, settings, entity, hops, kinds, registers, since, until)
    return json_answer(_neighbours(*args, max_fanout))


@router.get("/api/graph/paths", dependencies=[SearchLimit])
def graph_paths(
    consultation: CurrentConsultation,
    client: Search,
    audit: Audit,
    settings: AppSettings,
    start: Annotated[str, Query(alias="from", max_length=MAX_ENTITY_ID)],
    goal: Annotated[str, Query(alias="to", max_length=MAX_ENTITY_ID)],
    max_hops: PathHops = 4,
    kinds: Listed = None,
    registers: Listed = None,
    max_fanout: Fanout = 100,
) -> Response:
    """The shortest chains of records linking two entities (`paths`), with their nodes and edges."""
    graph = shortest_paths(
        client,
        settings.index_prefix,
        audit,
        consultation,
        _checked(start),
        _checked(goal),
        max_hops=max_hops,
        filters=_filters(kinds, registers, None, None),
        fanout=max_fanout,
    )
    if graph is None:
        raise HTTPException(404, NOT_VISIBLE)
    return json_answer(graph)


def _file_name(entity: str, suffix: str) -> str:
    safe = "".join(char if char.isalnum() else "-" for char in entity)[:80]
    return f"speurder-graph-{safe}.{suffix}"


@router.get("/api/graph/export.{suffix}", dependencies=[SearchLimit])
def graph_export(
    suffix: str,
    request: Request,
    consultation: CurrentConsultation,
    client: Search,
    audit: Audit,
    settings: AppSettings,
    entity: EntityId,
    hops: Hops = 1,
    kinds: Listed = None,
    registers: Listed = None,
    since: Since = None,
    until: Until = None,
    max_fanout: Fanout = DEFAULT_FANOUT,
) -> Response:
    """The neighbours graph as GraphML or as CSV (i2 Analyst's Notebook): an audited disclosure."""
    if suffix not in ("graphml", "csv"):
        raise HTTPException(404, "export as .graphml or .csv")
    args = (request, consultation, client, audit, settings, entity, hops, kinds, registers, since, until)
    graph = _neighbours(*args, max_fanout, "disclosure.export", {"format": suffix})
    headers = {"Content-Disposition": f'attachment; filename="{_file_name(entity, suffix)}"'}
    if suffix == "csv":
        return Response(to_csv(graph), media_type="text/csv; charset=utf-8", headers=headers)
    return Response(to_graphml(graph), media_type="application/graphml+xml", headers=headers)


# -- graphs saved into a case ------------------------------------------------------------------------
class GraphToSave(BaseModel):
    """What the graph view sends: the recipe of the drawing, never its records."""

    case: str = Field(max_length=80)
    title: str = Field(max_length=200)
    root: str = Field(max_length=MAX_ENTITY_ID)
    hops: int = Field(default=1, ge=1, le=2)
    kinds: list[str] = Field(default_factory=list, max_length=10)
    expanded: list[str] = Field(default_factory=list, max_length=MAX_EXPANDED)
    pinned: list[str] = Field(default_factory=list, max_length=2000)
    positions: dict[str, tuple[float, float]] = Field(default_factory=dict)


@router.post("/api/graphs", status_code=201, dependencies=[Csrf])
def graph_save(
    body: GraphToSave, consultation: CurrentConsultation, sessions: Sessions, audit: Audit
) -> dict[str, Any]:
    """Save the drawing into a case the user works on (lead or member), for the case's team."""
    username = consultation.principal.username
    case = case_or_404(sessions, body.case, username)
    if case.role_of(username) not in ATTACHING_ROLES:
        raise HTTPException(403, "readers of a case do not save graphs into it")
    recipe = GraphRecipe(
        title=body.title,
        root=_checked(body.root),
        hops=body.hops,
        kinds=tuple(sorted(_filters(",".join(body.kinds), None, None, None).kinds)) if body.kinds else (),
        expanded=tuple(_checked(entity) for entity in body.expanded),
        pinned=tuple(_checked(entity) for entity in body.pinned),
        positions={_checked(entity): xy for entity, xy in body.positions.items()},
    )
    try:
        with transaction(sessions) as session:
            graph_id = save_graph(session, case.number, recipe, created_by=username)
    except CaseError as exc:
        raise HTTPException(400, str(exc)) from exc
    audit.append(
        consultation.entry(
            "alteration.case_graph",
            query=recipe.root,
            details={
                "case": case.number,
                "graph": graph_id,
                "title": recipe.title,
                "nodes": len(recipe.entities()),
            },
        )
    )
    return {"id": graph_id, "case": case.number, "url": f"/graph?saved={graph_id}"}


@router.get("/api/graphs/{graph_id}", dependencies=[SearchLimit])
def graph_open(
    graph_id: int,
    consultation: CurrentConsultation,
    sessions: Sessions,
    client: Search,
    audit: Audit,
    settings: AppSettings,
) -> Response:
    """A saved graph drawn again from the records the reader may see now: positions and pins only of the
    nodes that are drawn, so that the recipe never names an entity the reader's records do not."""
    with sessions() as session:
        saved = get_graph(session, graph_id)
    if saved is None:
        raise HTTPException(404, "no such graph, or not one of your cases")
    case_or_404(sessions, saved.case_number, consultation.principal.username)
    recipe = saved.recipe
    try:
        filters = GraphFilter(parse_kinds(",".join(recipe.kinds)) if recipe.kinds else frozenset())
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from exc
    graph = reopened(
        client,
        settings.index_prefix,
        audit,
        consultation,
        recipe.root,
        hops=recipe.hops,
        expanded=recipe.expanded,
        filters=filters,
        details={"case": saved.case_number, "graph": graph_id},
    )
    if graph is None:
        raise HTTPException(404, NOT_VISIBLE)
    drawn = {node.id for node in graph.nodes}
    answer = {
        "id": graph_id,
        "case": saved.case_number,
        "title": recipe.title,
        "root": recipe.root,
        "hops": recipe.hops,
        "kinds": list(recipe.kinds),
        "pinned": [entity for entity in recipe.pinned if entity in drawn],
        "positions": {entity: list(xy) for entity, xy in recipe.positions.items() if entity in drawn},
        "created_by": saved.created_by,
        "created_at": saved.created_at.isoformat(timespec="seconds"),
        "graph": graph,
    }
    return json_answer(answer)


@router.get("/graph", response_class=HTMLResponse)
def graph_page(
    request: Request,
    consultation: CurrentConsultation,
    sessions: Sessions,
    entity: EntityId = "",
    hops: Hops = 1,
    saved: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """The graph view: the page holds no data; its script asks the graph API for it (for a saved graph,
    the API draws it again under the reader's access)."""
    with sessions() as session:
        mine = cases_of(session, consultation.principal.username)
    context = {
        "principal": consultation.principal,
        "csrf_token": csrf_token(request),
        "entity": entity,
        "hops": hops,
        "saved": saved,
        # Cases the drawing may be saved into: those where the user is more than a reader.
        "cases": [(number, title) for number, title, role in mine if role in ATTACHING_ROLES],
        # The API wants the reason with every request: the page hands on the one of this working context.
        "reason": consultation.justification or "",
    }
    return request.app.state.templates.TemplateResponse(request, "graph.html", context)
