"""The entity graph: entities are nodes, and two entities named on the same record are joined by an edge
that lists that record. Built only from records the user may see, so no node, edge, count or record id
ever comes from a record out of their reach.

One search per hop: the records naming any entity of the frontier (under the access filter, and the
register and period filters), with a `terms` aggregation on `entity_ids` restricted to the frontier, and
under each frontier entity a `terms` aggregation of its co-occurring entities (the fan-out, capped) with
the latest records behind each edge (`top_hits`). Shortest paths are a breadth-first search from both ends
with the same one-search-per-hop expansion, then one search for the records behind the path's edges.
Fan-out caps make a hub (a busy camera's plate, a shared company phone) show its most frequent neighbours
and say that it was cut (`truncated`), rather than flood the analyst or the cluster.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any
from xml.etree import ElementTree

from opensearchpy import OpenSearch

from case_store.audit import AuditLog
from search_api.access import access_filter
from search_api.entities import (
    ENTITY_KINDS,
    FACT_FIELDS,
    NEWEST_FIRST,
    entity_kind,
    label_of,
    names_by_entity,
)
from search_api.search import Consultation, require_justification

EDGE_RECORDS = 10  # record ids listed per edge; `count` says how many there are
DEFAULT_FANOUT = 25
MAX_FANOUT = 200
MAX_NODES = 1000
MAX_FRONTIER = 250  # entities expanded in one hop of a path search
MAX_PATHS = 20
MAX_PATH_HOPS = 6


@dataclass(frozen=True)
class GraphFilter:
    """Which part of the graph to draw: entity kinds, registers, and a period of the records' facts."""

    kinds: frozenset[str] = frozenset()
    registers: frozenset[str] = frozenset()
    since: date | None = None
    until: date | None = None

    def conditions(self) -> list[dict[str, Any]]:
        clauses: list[dict[str, Any]] = []
        if self.registers:
            clauses.append({"terms": {"register": sorted(self.registers)}})
        if self.since or self.until:
            period = {"gte": self.since.isoformat()} if self.since else {}
            if self.until:
                period["lte"] = self.until.isoformat()
            clauses.append({"range": {"occurred_at": period}})
        return clauses

    def neighbour_terms(self) -> dict[str, Any]:
        """The `include` of the neighbours' aggregation: the kinds asked for, as one regular expression."""
        if not self.kinds:
            return {}
        return {"include": "(" + "|".join(sorted(self.kinds)) + "):.*"}

    def describe(self) -> dict[str, Any]:
        return {
            "kinds": sorted(self.kinds),
            "registers": sorted(self.registers),
            "from": self.since.isoformat() if self.since else None,
            "to": self.until.isoformat() if self.until else None,
        }


def parse_kinds(text: str | None) -> frozenset[str]:
    kinds = frozenset(part.strip() for part in (text or "").split(",") if part.strip())
    unknown = kinds - set(ENTITY_KINDS)
    if unknown:
        raise ValueError(f"unknown entity kinds {sorted(unknown)}; use {', '.join(ENTITY_KINDS)}")
    return kinds


def parse_registers(text: str | None) -> frozenset[str]:
    return frozenset(part.strip() for part in (text or "").split(",") if part.strip())


@dataclass
class Node:
    id: str
    kind: str
    label: str
    hop: int
    records: int | None = None  # visible records naming it; known for the entities that were expanded
    truncated: bool = False  # it has more neighbours than the fan-out cap let through


@dataclass
class Edge:
    source: str
    target: str
    count: int  # visible records naming both
    records: list[str]  # the latest of them (at most EDGE_RECORDS)


@dataclass
class Graph:
    nodes: list[Node]
    edges: list[Edge]
    filters: dict[str, Any]
    truncated: bool = False
    round_trips: int = 0
    paths: list[list[str]] = field(default_factory=list)

    @property
    def record_ids(self) -> list[str]:
        return list(dict.fromkeys(record for edge in self.edges for record in edge.records))

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Expansion:
    """One entity expanded: how many visible records name it, and its neighbours, most frequent first."""

    records: int
    neighbours: list[tuple[str, int, list[str]]]
    truncated: bool


class _Search:
    """The searches of one graph request, counted (the benchmark reports round trips)."""

    def __init__(self, client: OpenSearch, index: str, consultation: Consultation, filters: GraphFilter):
        self.client = client
        self.index = index
        self.access = access_filter(consultation.principal)
        self.filters = filters
        self.round_trips = 0
        self.sources: list[dict[str, Any]] = []  # parts of the records seen, for node labels

    def run(self, body: dict[str, Any]) -> dict[str, Any]:
        self.round_trips += 1
        response: dict[str, Any] = self.client.search(
            index=self.index, body=body, params={"allow_partial_search_results": "false"}
        )
        return response

    def where(self, *clauses: dict[str, Any]) -> dict[str, Any]:
        return {"bool": {"filter": [self.access, *self.filters.conditions(), *clauses]}}

    def expand(self, frontier: list[str], fanout: int, *, with_records: bool = True) -> dict[str, Expansion]:
        """One hop from every entity of the frontier, in one search."""
        neighbours: dict[str, Any] = {
            "terms": {
                "field": "entity_ids",
                # Two more than the cap: one for the entity itself (among its own co-occurring ids),
                # one to know that the list was cut.
                "size": fanout + 2,
                "shard_size": max(100, 4 * fanout),
                **self.filters.neighbour_terms(),
            }
        }
        if with_records:
            neighbours["aggs"] = {
                "latest": {"top_hits": {"size": EDGE_RECORDS, "sort": NEWEST_FIRST, "_source": FACT_FIELDS}}
            }
        body = {
            "size": 0,
            "query": self.where({"terms": {"entity_ids": frontier}}),
            "aggs": {
                "nodes": {
                    "terms": {"field": "entity_ids", "include": frontier, "size": len(frontier)},
                    "aggs": {
                        "neighbours": neighbours,
                        "one": {"top_hits": {"size": 1, "sort": NEWEST_FIRST, "_source": FACT_FIELDS}},
                    },
                }
            },
        }
        response = self.run(body)
        found: dict[str, Expansion] = {}
        for bucket in response["aggregations"]["nodes"]["buckets"]:
            entity = bucket["key"]
            self.sources += [raw["_source"] for raw in bucket["one"]["hits"]["hits"]]
            others = [b for b in bucket["neighbours"]["buckets"] if b["key"] != entity]
            listed = []
            for other in others[:fanout]:
                hits = other["latest"]["hits"]["hits"] if with_records else []
                self.sources += [raw["_source"] for raw in hits]
                listed.append((other["key"], other["doc_count"], [raw["_id"] for raw in hits]))
            cut = len(others) > fanout or bucket["neighbours"].get("sum_other_doc_count", 0) > 0
            found[entity] = Expansion(bucket["doc_count"], listed, cut)
        return found

    def label_all(self, nodes: list[Node]) -> None:
        names = names_by_entity(self.sources)
        for node in nodes:
            node.label = label_of(node.id, names.get(node.id))


def fanout_for(frontier: list[str], fanout: int) -> int:
    """The fan-out of each entity in one search, so that a search never asks for more neighbours than a
    graph may hold (a second hop from 200 entities at a fan-out of 200 would be 40,000 buckets, each with
    its records): lowered for a wide frontier, and the answer then says `truncated`."""
    return min(fanout, max(1, MAX_NODES // len(frontier)))


def _node(entity: str, hop: int) -> Node:
    return Node(entity, entity_kind(entity), entity, hop)


def neighbours(
    client: OpenSearch,
    index: str,
    audit: AuditLog,
    consultation: Consultation,
    entity: str,
    *,
    hops: int = 1,
    filters: GraphFilter | None = None,
    fanout: int = DEFAULT_FANOUT,
    action: str = "consultation.graph",
    details: dict[str, Any] | None = None,
) -> Graph | None:
    """The entity and its neighbours up to `hops` away; None if no visible record names it."""
    filters = filters or GraphFilter()
    entity_kind(entity)
    require_justification(consultation, {"register": tuple(filters.registers)} if filters.registers else {})
    search = _Search(client, index, consultation, filters)
    nodes = {entity: _node(entity, 0)}
    edges: dict[tuple[str, str], Edge] = {}
    truncated = False
    frontier = [entity]
    for hop in range(1, hops + 1):
        expansions = search.expand(frontier, fanout_for(frontier, fanout))
        if hop == 1 and entity not in expansions:
            break
        following: list[str] = []
        for source in frontier:
            expansion = expansions.get(source)
            if expansion is None:
                continue
            nodes[source].records = expansion.records
            nodes[source].truncated = expansion.truncated
            truncated |= expansion.truncated
            for other, count, records in expansion.neighbours:
                if other not in nodes:
                    if len(nodes) >= MAX_NODES:
                        truncated = True
                        continue
                    nodes[other] = _node(other, hop)
                    following.append(other)
                key = (source, other) if source < other else (other, source)
                edges.setdefault(key, Edge(source, other, count, records))
        frontier = following
        if not frontier:
            break
    graph = None
    if nodes[entity].records:
        search.label_all(list(nodes.values()))
        graph = Graph(
            list(nodes.values()), list(edges.values()), filters.describe(), truncated, search.round_trips
        )
    _audit(audit, consultation, action, entity, graph, {"hops": hops, "fanout": fanout, **(details or {})})
    return graph


def reopened(
    client: OpenSearch,
    index: str,
    audit: AuditLog,
    consultation: Consultation,
    root: str,
    *,
    hops: int,
    expanded: Sequence[str],
    filters: GraphFilter | None = None,
    fanout: int = DEFAULT_FANOUT,
    details: dict[str, Any] | None = None,
) -> Graph | None:
    """A saved graph drawn again for whoever opens it: the root's neighbours, then each node the analyst
    had expanded, in their order, as far as the reader's own records reach it. A node the reader cannot
    reach is never asked for; None if no visible record names the root."""
    graph = neighbours(
        client, index, audit, consultation, root, hops=hops, filters=filters, fanout=fanout, details=details
    )
    if graph is None:
        return None
    nodes = {node.id: node for node in graph.nodes}
    edges = {(edge.source, edge.target): edge for edge in graph.edges}
    for entity in dict.fromkeys(expanded):
        node = nodes.get(entity)
        if node is None or node.records is not None:  # out of reach, or expanded already
            continue
        more = neighbours(
            client, index, audit, consultation, entity, filters=filters, fanout=fanout, details=details
        )
        if more is None:
            continue
        graph.round_trips += more.round_trips
        graph.truncated |= more.truncated
        for found in more.nodes:
            if found.id in nodes:
                if found.records is not None:
                    nodes[found.id].records, nodes[found.id].truncated = found.records, found.truncated
            elif len(nodes) >= MAX_NODES:
                graph.truncated = True
            else:
                found.hop += node.hop
                nodes[found.id] = found
        for edge in more.edges:
            if edge.source in nodes and edge.target in nodes:
                pair = (edge.source, edge.target)
                if pair not in edges and pair[::-1] not in edges:
                    edges[pair] = edge
    graph.nodes, graph.edges = list(nodes.values()), list(edges.values())
    return graph


def _audit(
    audit: AuditLog,
    consultation: Consultation,
    action: str,
    query: str,
    graph: Graph | None,
    details: dict[str, Any],
) -> None:
    audit.append(
        consultation.entry(
            action,
            query=query,
            subjects=tuple(graph.record_ids if graph else ()),
            details={
                **details,
                "filters": graph.filters if graph else None,
                "shown": graph is not None,
                "nodes": [node.id for node in graph.nodes] if graph else [],
                "edges": len(graph.edges) if graph else 0,
            },
        )
    )


def shortest_paths(
    client: OpenSearch,
    index: str,
    audit: AuditLog,
    consultation: Consultation,
    start: str,
    goal: str,
    *,
    max_hops: int = 4,
    filters: GraphFilter | None = None,
    fanout: int = 100,
) -> Graph | None:
    """The shortest chains of co-occurrence from `start` to `goal` (up to MAX_PATHS of them), as a graph
    with `paths`; an empty list when none is within `max_hops`. None if either end has no visible record.

    Breadth-first from both ends, a whole layer per search: the smaller frontier is expanded next."""
    filters = filters or GraphFilter()
    entity_kind(start)
    entity_kind(goal)
    require_justification(consultation, {"register": tuple(filters.registers)} if filters.registers else {})
    search = _Search(client, index, consultation, filters)
    # Depth and the parents at the previous depth, from each end.
    depth: tuple[dict[str, int], dict[str, int]] = ({start: 0}, {goal: 0})
    parents: tuple[dict[str, set[str]], dict[str, set[str]]] = (defaultdict(set), defaultdict(set))
    layers = [[start], [goal]]
    first = search.expand(list(dict.fromkeys([start, goal])), fanout, with_records=False)
    truncated = False
    graph: Graph | None = None
    if start in first and goal in first:
        _grow(first, 0, layers, depth, parents)
        _grow(first, 1, layers, depth, parents)
        truncated = any(e.truncated for e in first.values())
        while True:
            meet = depth[0].keys() & depth[1].keys()
            if meet:
                best = min(depth[0][m] + depth[1][m] for m in meet)
                if best <= max_hops:
                    break
            reached = max(depth[0].values()) + max(depth[1].values())
            if reached >= max_hops or not (layers[0] or layers[1]):
                meet = set()
                break
            side = 0 if layers[0] and (len(layers[0]) <= len(layers[1]) or not layers[1]) else 1
            layer = layers[side]
            if len(layer) > MAX_FRONTIER:
                truncated, layer = True, layer[:MAX_FRONTIER]
            found = search.expand(layer, fanout, with_records=False)
            truncated |= any(e.truncated for e in found.values())
            layers[side] = layer
            _grow(found, side, layers, depth, parents)
        paths: list[list[str]] = []
        if meet:
            best = min(depth[0][m] + depth[1][m] for m in meet)
            for middle in sorted(m for m in meet if depth[0][m] + depth[1][m] == best):
                for head in _walk(middle, parents[0]):
                    for tail in _walk(middle, parents[1]):
                        path = [*reversed(head), *tail[1:]]
                        if path not in paths:
                            paths.append(path)
                        if len(paths) >= MAX_PATHS:
                            break
        graph = _path_graph(search, paths, filters, truncated)
        if not paths:
            graph.nodes = [_node(start, 0), _node(goal, 0)]
            search.label_all(graph.nodes)
    _audit(
        audit, consultation, "consultation.graph_paths", f"{start} -> {goal}", graph, {"max_hops": max_hops}
    )
    return graph


def _grow(
    found: dict[str, Expansion],
    side: int,
    layers: list[list[str]],
    depth: tuple[dict[str, int], dict[str, int]],
    parents: tuple[dict[str, set[str]], dict[str, set[str]]],
) -> None:
    """Take one layer of one side a step further, keeping every parent at the shortest depth."""
    reached, came_from = depth[side], parents[side]
    following: list[str] = []
    for entity in layers[side]:
        expansion = found.get(entity)
        if expansion is None:
            continue
        for other, _count, _records in expansion.neighbours:
            if other not in reached:
                reached[other] = reached[entity] + 1
                following.append(other)
            if reached[other] == reached[entity] + 1:
                came_from[other].add(entity)
    layers[side] = following


def _walk(entity: str, came_from: dict[str, set[str]]) -> list[list[str]]:
    """Every shortest chain from `entity` back to its end, `entity` first (a few: paths are capped)."""
    if not came_from.get(entity):
        return [[entity]]
    chains: list[list[str]] = []
    for parent in sorted(came_from[entity]):
        chains += [[entity, *chain] for chain in _walk(parent, came_from)]
        if len(chains) >= MAX_PATHS:
            break
    return chains[:MAX_PATHS]


def _path_graph(search: _Search, paths: list[list[str]], filters: GraphFilter, truncated: bool) -> Graph:
    """The nodes and edges of the paths, with the records behind each edge: one search (a `filters`
    aggregation, one bucket per edge)."""
    pairs = list(dict.fromkeys(tuple(sorted(step)) for path in paths for step in itertools.pairwise(path)))
    edges: list[Edge] = []
    if pairs:
        body = {
            "size": 0,
            "query": search.where({"terms": {"entity_ids": sorted({e for pair in pairs for e in pair})}}),
            "aggs": {
                "edges": {
                    "filters": {
                        "filters": {
                            str(n): {
                                "bool": {"filter": [{"term": {"entity_ids": a}}, {"term": {"entity_ids": b}}]}
                            }
                            for n, (a, b) in enumerate(pairs)
                        }
                    },
                    "aggs": {
                        "latest": {
                            "top_hits": {"size": EDGE_RECORDS, "sort": NEWEST_FIRST, "_source": FACT_FIELDS}
                        }
                    },
                }
            },
        }
        buckets = search.run(body)["aggregations"]["edges"]["buckets"]
        for n, (a, b) in enumerate(pairs):
            bucket = buckets[str(n)]
            hits = bucket["latest"]["hits"]["hits"]
            search.sources += [raw["_source"] for raw in hits]
            edges.append(Edge(a, b, bucket["doc_count"], [raw["_id"] for raw in hits]))
    order = list(dict.fromkeys(entity for path in paths for entity in path))
    hop = {entity: min(path.index(entity) for path in paths if entity in path) for entity in order}
    nodes = [_node(entity, hop[entity]) for entity in order]
    search.label_all(nodes)
    return Graph(nodes, edges, filters.describe(), truncated, search.round_trips, paths)


# -- exports ---------------------------------------------------------------------------------------
_FORMULA = re.compile(r"^[=@\t\r]|^[+-](?![\d ]+$)")


def _cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula (a phone number's + stays as written)."""
    text = str(value)
    return "'" + text if _FORMULA.match(text) else text


def to_csv(graph: Graph) -> str:
    """One row per link, both ends described (the layout i2 Analyst's Notebook imports as entity-link-
    entity); an entity without a link gets a row of its own."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        ["source_id", "source_type", "source_label", "target_id", "target_type", "target_label",
         "record_count", "record_ids"]
    )  # fmt: skip
    nodes = {node.id: node for node in graph.nodes}
    linked: set[str] = set()
    for edge in graph.edges:
        a, b = nodes[edge.source], nodes[edge.target]
        linked.update((a.id, b.id))
        writer.writerow(
            [
                _cell(v)
                for v in (a.id, a.kind, a.label, b.id, b.kind, b.label, edge.count, ";".join(edge.records))
            ]
        )
    for node in graph.nodes:
        if node.id not in linked:
            writer.writerow([_cell(v) for v in (node.id, node.kind, node.label, "", "", "", "", "")])
    return out.getvalue()


def to_graphml(graph: Graph) -> bytes:
    """GraphML (Gephi, yEd, i2 through its GraphML import): node kind and label, edge count and records."""
    root = ElementTree.Element("graphml", xmlns="http://graphml.graphdrawing.org/xmlns")
    for key, owner, name, kind in (
        ("label", "node", "label", "string"),
        ("kind", "node", "kind", "string"),
        ("records", "node", "records", "int"),
        ("count", "edge", "record_count", "int"),
        ("record_ids", "edge", "record_ids", "string"),
    ):
        ElementTree.SubElement(root, "key", {"id": key, "for": owner, "attr.name": name, "attr.type": kind})
    body = ElementTree.SubElement(root, "graph", id="speurder", edgedefault="undirected")
    for node in graph.nodes:
        element = ElementTree.SubElement(body, "node", id=node.id)
        ElementTree.SubElement(element, "data", key="label").text = node.label
        ElementTree.SubElement(element, "data", key="kind").text = node.kind
        if node.records is not None:
            ElementTree.SubElement(element, "data", key="records").text = str(node.records)
    for n, edge in enumerate(graph.edges):
        element = ElementTree.SubElement(body, "edge", id=f"e{n}", source=edge.source, target=edge.target)
        ElementTree.SubElement(element, "data", key="count").text = str(edge.count)
        ElementTree.SubElement(element, "data", key="record_ids").text = " ".join(edge.records)
    document: bytes = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return document
