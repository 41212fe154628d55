"""Changes to records already in the index, wherever their concrete index is (by query on the alias)."""

from __future__ import annotations

from opensearchpy import OpenSearch

_ADD_CASE = (
    "if (ctx._source.case_ids == null) { ctx._source.case_ids = [] } "
    "if (!ctx._source.case_ids.contains(params.case)) { ctx._source.case_ids.add(params.case) } "
    "else { ctx.op = 'noop' }"
)
_REMOVE_CASE = (
    "if (ctx._source.case_ids != null && ctx._source.case_ids.contains(params.case)) "
    "{ ctx._source.case_ids.removeIf(c -> c == params.case) } else { ctx.op = 'noop' }"
)


def _by_id(client: OpenSearch, index: str, record_id: str, script: str, case: str) -> int:
    response = client.update_by_query(
        index=index,
        body={
            "query": {"ids": {"values": [record_id]}},
            "script": {"source": script, "lang": "painless", "params": {"case": case}},
        },
        params={"refresh": "true", "conflicts": "proceed"},
    )
    return int(response.get("updated", 0))


def attach_to_case(client: OpenSearch, index: str, record_id: str, case: str) -> bool:
    """Bind a record to a case (its members may then see it); True if it was not bound yet."""
    return _by_id(client, index, record_id, _ADD_CASE, case) > 0


def detach_from_case(client: OpenSearch, index: str, record_id: str, case: str) -> bool:
    return _by_id(client, index, record_id, _REMOVE_CASE, case) > 0
