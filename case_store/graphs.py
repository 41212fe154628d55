"""Graphs saved into a case: the recipe of an analyst's drawing (root, hops, kinds, expanded nodes, pins,
positions), so that the team can open it again. Which entities a saved graph names is checked by the
caller; the store only bounds the sizes."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from case_store.cases import CaseError, case_row
from case_store.models import Case, CaseGraph

MAX_EXPANDED = 100  # nodes expanded again on opening: one graph request each
MAX_POSITIONS = 2000
MAX_ENTITY = 300


@dataclass(frozen=True)
class GraphRecipe:
    title: str
    root: str
    hops: int = 1
    kinds: tuple[str, ...] = ()
    expanded: tuple[str, ...] = ()
    pinned: tuple[str, ...] = ()
    positions: dict[str, tuple[float, float]] = field(default_factory=dict)

    def problems(self) -> list[str]:
        """What makes the recipe unfit to keep, in words for the analyst; empty when it is fine."""
        found = []
        if not self.title.strip() or len(self.title) > 200:
            found.append("a saved graph needs a title of 1 to 200 characters")
        if self.hops not in (1, 2):
            found.append("hops is 1 or 2")
        if len(self.expanded) > MAX_EXPANDED:
            found.append(f"at most {MAX_EXPANDED} expanded nodes are kept")
        if len(self.positions) > MAX_POSITIONS or len(self.pinned) > MAX_POSITIONS:
            found.append(f"at most {MAX_POSITIONS} node positions are kept")
        named = [self.root, *self.expanded, *self.pinned, *self.positions]
        if any(not entity or len(entity) > MAX_ENTITY for entity in named):
            found.append(f"an entity id has 1 to {MAX_ENTITY} characters")
        if any(not all(math.isfinite(c) for c in xy) for xy in self.positions.values()):
            found.append("a position is two finite numbers")
        return found

    def entities(self) -> set[str]:
        return {self.root, *self.expanded, *self.pinned, *self.positions}


@dataclass(frozen=True)
class SavedGraph:
    id: int
    case_number: str
    recipe: GraphRecipe
    created_by: str
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        recipe = self.recipe
        return {
            "id": self.id,
            "case": self.case_number,
            "title": recipe.title,
            "root": recipe.root,
            "hops": recipe.hops,
            "kinds": list(recipe.kinds),
            "expanded": list(recipe.expanded),
            "pinned": list(recipe.pinned),
            "positions": {entity: list(xy) for entity, xy in recipe.positions.items()},
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(timespec="seconds"),
        }


def save_graph(session: Session, number: str, recipe: GraphRecipe, *, created_by: str) -> int:
    problems = recipe.problems()
    if problems:
        raise CaseError("; ".join(problems))
    row = CaseGraph(
        case_id=case_row(session, number).id,
        title=recipe.title.strip(),
        root=recipe.root,
        hops=recipe.hops,
        kinds=list(recipe.kinds),
        expanded=list(dict.fromkeys(recipe.expanded)),
        pinned=list(dict.fromkeys(recipe.pinned)),
        positions={entity: [float(x), float(y)] for entity, (x, y) in recipe.positions.items()},
        created_by=created_by,
    )
    session.add(row)
    session.flush()
    return row.id


def _saved(row: CaseGraph, number: str) -> SavedGraph:
    recipe = GraphRecipe(
        title=row.title,
        root=row.root,
        hops=row.hops,
        kinds=tuple(row.kinds or ()),
        expanded=tuple(row.expanded or ()),
        pinned=tuple(row.pinned or ()),
        positions={entity: (xy[0], xy[1]) for entity, xy in (row.positions or {}).items()},
    )
    return SavedGraph(row.id, number, recipe, row.created_by, row.created_at)


def graphs_of_case(session: Session, number: str) -> list[SavedGraph]:
    """The case's saved graphs, newest first."""
    case = case_row(session, number)
    rows = session.scalars(
        select(CaseGraph).where(CaseGraph.case_id == case.id).order_by(CaseGraph.created_at.desc())
    )
    return [_saved(row, number) for row in rows]


def get_graph(session: Session, graph_id: int) -> SavedGraph | None:
    """A saved graph and the number of its case (the caller checks that the reader is on its team)."""
    row = session.get(CaseGraph, graph_id)
    if row is None:
        return None
    case = session.get(Case, row.case_id)
    return None if case is None else _saved(row, case.number)
