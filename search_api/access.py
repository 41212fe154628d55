"""Need-to-know: the one function that says which records a principal may see.

A record is visible iff its classification is at most the principal's clearance and its register is
granted to the principal or one of its cases has the principal as a member (DESIGN §7). Every read
path — hits, counts, facets, highlights, record pages, originals — puts this filter in its query.
"""

from __future__ import annotations

from typing import Any

from case_store.users import Entitlements

Principal = Entitlements


def access_filter(principal: Principal) -> dict[str, Any]:
    entitled_by: list[dict[str, Any]] = []
    if principal.registers:
        entitled_by.append({"terms": {"register": sorted(principal.registers)}})
    if principal.case_numbers:
        entitled_by.append({"terms": {"case_ids": sorted(principal.case_numbers)}})
    if not entitled_by:
        return {"match_none": {}}
    return {
        "bool": {
            "filter": [
                {"range": {"classification": {"lte": principal.clearance}}},
                {"bool": {"should": entitled_by, "minimum_should_match": 1}},
            ]
        }
    }
