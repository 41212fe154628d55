"""Index layout: a template, one concrete index per kind, the read alias over all of them.

`<prefix>` (default `records`) is the read alias every search goes to; `<prefix>-<kind>` is the write
alias of one kind; the concrete index behind both is `<prefix>-<kind>-<stamp>`. Swapping the aliases in
one `_aliases` call is what makes a rebuild invisible to searchers.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from opensearchpy import OpenSearch
from opensearchpy.exceptions import NotFoundError, RequestError

from ingest.index.mapping import index_settings, index_template, monthly_template
from ingest.records import KINDS, index_mapping

# High-volume kinds get one index per month of `occurred_at`: retention drops whole months.
MONTHLY_KINDS = frozenset({"plate_read"})


def template_name(prefix: str) -> str:
    return f"{prefix}-template"


def write_alias(prefix: str, kind: str) -> str:
    return f"{prefix}-{kind}"


def _stamp() -> str:
    # Microseconds make two rebuilds in the same second distinct.
    return datetime.now(UTC).strftime("%Y%m%dt%H%M%S%f")


def put_template(client: OpenSearch, prefix: str) -> None:
    client.indices.put_index_template(name=template_name(prefix), body=index_template(prefix))
    for kind in MONTHLY_KINDS:
        client.indices.put_index_template(
            name=f"{prefix}-{kind}-monthly", body=monthly_template(prefix, kind)
        )


def partition_index(prefix: str, kind: str, moment: datetime) -> str:
    return f"{prefix}-{kind}-{moment:%Y.%m}"


def ensure_indices(client: OpenSearch, prefix: str, kinds: Iterable[str] = KINDS) -> list[str]:
    """Create the template and, for each kind without one, its first index; return what was created.

    Existing indices get the current mapping too: new fields are added in place (the mapping is closed,
    so a record with a field its index does not know would be refused). A change that cannot be made in
    place (another type, another analyser) needs `speurder index reindex`, and says so.
    """
    put_template(client, prefix)
    if client.indices.exists_alias(name=prefix):
        try:
            client.indices.put_mapping(index=prefix, body=index_mapping())
        except RequestError as exc:
            raise RuntimeError(
                f"the indices under {prefix} have a mapping the current one cannot extend in place "
                f"({exc.error}); rebuild them with `speurder index reindex`"
            ) from exc
    created = []
    for kind in kinds:
        alias = write_alias(prefix, kind)
        if kind in MONTHLY_KINDS or client.indices.exists_alias(name=alias):
            continue
        name = f"{alias}-{_stamp()}"
        try:
            client.indices.create(
                index=name,
                body={"aliases": {prefix: {}, alias: {"is_write_index": True}}},
            )
        except RequestError as exc:  # another process created it first: fine
            if "resource_already_exists_exception" not in str(exc):
                raise
        created.append(name)
    return created


def concrete_index(client: OpenSearch, prefix: str, kind: str) -> str:
    indices = list(client.indices.get_alias(name=write_alias(prefix, kind)))
    if len(indices) != 1:
        raise RuntimeError(f"write alias {write_alias(prefix, kind)} points at {indices}")
    return str(indices[0])


def reindex_kind(client: OpenSearch, prefix: str, kind: str) -> dict[str, Any]:
    """Rebuild one kind's index from the current one and swap the aliases atomically.

    The new index starts with no replicas and no refresh (fast bulk load), gets its settings back, and
    only then takes over both aliases; on any failure it is deleted and the old one keeps serving.
    """
    if kind in MONTHLY_KINDS:
        raise ValueError(f"{kind} is kept in monthly partitions, which are not rebuilt by alias swap yet")
    old = concrete_index(client, prefix, kind)
    new = f"{write_alias(prefix, kind)}-{_stamp()}"
    put_template(client, prefix)
    client.indices.create(
        index=new, body={"settings": {"index": {"number_of_replicas": 0, "refresh_interval": "-1"}}}
    )
    try:
        task = client.reindex(
            body={"source": {"index": old}, "dest": {"index": new}},
            wait_for_completion=False,
            refresh=False,
        )
        result = _wait_for_task(client, task["task"])
        failures = result.get("response", {}).get("failures") or []
        if failures:
            raise RuntimeError(f"reindex of {old} reported {len(failures)} failures: {failures[:3]}")
        replicas = index_settings()["number_of_replicas"]
        client.indices.put_settings(
            index=new, body={"index": {"number_of_replicas": replicas, "refresh_interval": None}}
        )
        client.indices.refresh(index=new)
        client.indices.update_aliases(
            body={
                "actions": [
                    {"remove": {"index": old, "alias": prefix}},
                    {"remove": {"index": old, "alias": write_alias(prefix, kind)}},
                    {"add": {"index": new, "alias": prefix}},
                    {"add": {"index": new, "alias": write_alias(prefix, kind), "is_write_index": True}},
                ]
            }
        )
    except Exception:
        client.indices.delete(index=new, ignore_unavailable=True)
        raise
    client.indices.delete(index=old)
    return {"kind": kind, "old": old, "new": new, "copied": result.get("response", {}).get("total", 0)}


def _wait_for_task(client: OpenSearch, task_id: str, timeout: float = 3600) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status: dict[str, Any] = client.tasks.get(task_id=task_id)
        if status.get("completed"):
            if status.get("error"):
                raise RuntimeError(f"reindex task failed: {status['error']}")
            return status
        time.sleep(0.5)
    raise TimeoutError(f"reindex task {task_id} did not finish in {timeout:.0f} s")


def drop_all(client: OpenSearch, prefix: str) -> None:
    """Remove every index and the template of a prefix (tests and `speurder index drop`)."""
    try:
        indices = list(client.indices.get(index=f"{prefix}-*"))
    except NotFoundError:
        indices = []
    for name in indices:
        client.indices.delete(index=name, ignore_unavailable=True)
    client.indices.delete_index_template(name=template_name(prefix), ignore=[404])
    for kind in MONTHLY_KINDS:
        client.indices.delete_index_template(name=f"{prefix}-{kind}-monthly", ignore=[404])
