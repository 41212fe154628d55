"""Relevance of the plain search box, measured on test collections with judgements.

Two questions decide how the search box turns words into an OpenSearch query:

* **CISI** (1,460 English abstracts, 76 judged queries written as paragraphs): does a query that reads
  like a pasted statement still rank the relevant records first? nDCG@10, MAP (over the first 100 hits)
  and P@10, binary gains, the 36 unjudged queries left out.
* **Cross-language** (Belgian parliamentary questions, each in Dutch and French): an investigator who
  types Dutch must still find the French twin of a record. Only the French versions are indexed, each
  Dutch version is a query; Recall@10 is the share of questions whose twin is in the first ten.

Every strategy runs through the product's own path: `parse_query` and `build_search` make the body, the
access filter included, and the records are written with the product's mapping and bulk writer into a
fresh index prefix. A strategy only changes the options of the text clause, so the figures compare like
with like; the first strategy in STRATEGIES is the one the search box uses today.

    python -m bench.relevance               # -> bench/results/relevance-cisi.json and crosslang.json
    python -m bench.relevance --set cisi        # one set
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from opensearchpy import OpenSearch, TransportError

from ingest.index.admin import drop_all, ensure_indices
from ingest.index.bulk import write_records
from ingest.index.client import make_search_client
from ingest.records import Record
from ingest.settings import Settings
from search_api.queries import MAX_QUERY_CHARS, MAX_QUERY_WORDS, TEXT_MATCH, build_search, parse_query
from search_api.search import too_many_clauses

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CISI = DATA / "ir-cisi" / "files"
PARLIAMENT = DATA / "be-parliament-2020-dev.jsonl"
RESULTS = Path(__file__).resolve().parent / "results"
DEPTH = 100  # hits read per query: MAP is computed over these
EVERYONE = {"match_all": {}}  # the collections are public: no access restriction to measure here

# Options of the text clause. The first is the product's (search_api.queries.TEXT_MATCH); the others are
# the alternatives it was chosen against.
STRATEGIES: dict[str, dict[str, Any]] = {
    "product": dict(TEXT_MATCH),
    "all-words": {"default_operator": "and"},
    "any-word": {"default_operator": "or"},
    "3<40%": {"default_operator": "or", "minimum_should_match": "3<40%"},
    "2<30%": {"default_operator": "or", "minimum_should_match": "2<30%"},
    # The fields before this measurement: folded and stemmed fields weighed alike.
    "any-word-earlier-fields": {
        "default_operator": "or",
        "fields": [
            "title^3",
            "title.nl^2",
            "title.fr^2",
            "text",
            "text.nl",
            "text.fr",
            "text.de",
            "text.en",
            "names^2",
        ],
    },
    "any-word-folded-only": {"default_operator": "or", "fields": ["title^3", "text", "names^2"]},
    "any-word-stemmed-only": {
        "default_operator": "or",
        "fields": ["title.nl^2", "title.fr^2", "text.nl", "text.fr", "text.de", "text.en"],
    },
}


@dataclass(frozen=True)
class Collection:
    name: str
    documents: dict[str, tuple[str, str]]  # id -> (title, text)
    queries: dict[str, str]
    relevant: dict[str, set[str]]
    language: str


# -- the collections ---------------------------------------------------------------------------------
def _cisi_fields(path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """The `.I` entries of a CISI file, each as its fields (`.T`, `.W`, …) joined into text."""
    current: str | None = None
    fields: dict[str, list[str]] = {}
    tag = ""
    for line in path.read_text(encoding="latin-1").splitlines():
        if line.startswith(".I "):
            if current is not None:
                yield current, {key: " ".join(value).strip() for key, value in fields.items()}
            current, fields, tag = line[3:].strip(), {}, ""
        elif re.fullmatch(r"\.[A-Z]", line.strip()):
            tag = line.strip()[1]
            fields.setdefault(tag, [])
        elif tag:
            fields[tag].append(line.strip())
    if current is not None:
        yield current, {key: " ".join(value).strip() for key, value in fields.items()}


def load_cisi(folder: Path = CISI) -> Collection:
    documents = {
        key: (fields.get("T", ""), fields.get("W", "")) for key, fields in _cisi_fields(folder / "CISI.ALL")
    }
    queries = {key: fields.get("W", "") for key, fields in _cisi_fields(folder / "CISI.QRY")}
    relevant: dict[str, set[str]] = {}
    for line in (folder / "CISI.REL").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2:
            relevant.setdefault(parts[0], set()).add(parts[1])
    judged = {key: text for key, text in queries.items() if key in relevant}
    return Collection("cisi", documents, judged, relevant, "en")


def load_parliament(path: Path = PARLIAMENT, limit: int | None = None) -> Collection:
    """French versions as the records, Dutch versions as the queries; the twin is the one relevant."""
    documents: dict[str, tuple[str, str]] = {}
    queries: dict[str, str] = {}
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            if limit is not None and number >= limit:
                break
            row = json.loads(line)
            key = row["doc_id"].rsplit("/", 1)[-1]
            documents[key] = (f"Question écrite {key}", row["text_fr"])
            queries[key] = row["text_nl"]
    return Collection("crosslang", documents, queries, {key: {key} for key in queries}, "fr")


# -- the measures ------------------------------------------------------------------------------------
def ndcg_at(ranked: Sequence[str], relevant: set[str], k: int = 10) -> float:
    gains = sum(1 / math.log2(rank + 2) for rank, key in enumerate(ranked[:k]) if key in relevant)
    ideal = sum(1 / math.log2(rank + 2) for rank in range(min(k, len(relevant))))
    return gains / ideal if ideal else 0.0


def average_precision(ranked: Sequence[str], relevant: set[str]) -> float:
    found, total = 0, 0.0
    for rank, key in enumerate(ranked, start=1):
        if key in relevant:
            found += 1
            total += found / rank
    return total / len(relevant) if relevant else 0.0


def precision_at(ranked: Sequence[str], relevant: set[str], k: int = 10) -> float:
    return sum(1 for key in ranked[:k] if key in relevant) / k


def recall_at(ranked: Sequence[str], relevant: set[str], k: int = 10) -> float:
    return sum(1 for key in ranked[:k] if key in relevant) / len(relevant) if relevant else 0.0


# -- running -----------------------------------------------------------------------------------------
def as_query(text: str) -> str:
    """What a user could type: the box takes at most MAX_QUERY_WORDS words and MAX_QUERY_CHARS."""
    text = " ".join(text.split()[:MAX_QUERY_WORDS])
    if text.count('"') % 2:  # the box asks to close the quotation; the user drops them
        text = text.replace('"', "")
    if len(text) <= MAX_QUERY_CHARS:
        return text
    return text[:MAX_QUERY_CHARS].rsplit(" ", 1)[0]


def with_strategy(body: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    """The product's body with the text clause's options replaced by a strategy's."""
    for clause in body["query"]["bool"].get("should", []):
        if "simple_query_string" in clause:
            text = clause["simple_query_string"]
            for key in ("default_operator", "minimum_should_match"):
                text.pop(key, None)
            text.update(options)
    return body


def index_collection(client: OpenSearch, prefix: str, collection: Collection) -> None:
    ensure_indices(client, prefix, kinds=["document"])
    now = datetime.now(UTC)
    records = (
        Record(
            id=key,
            kind="document",
            source=collection.name,
            register="bench",
            title=title or key,
            text=text,
            language=collection.language,
            recorded_at=now,
        )
        for key, (title, text) in collection.documents.items()
    )
    result = write_records(client, prefix, records, refresh="wait_for")
    if result.errors:
        raise RuntimeError(f"{len(result.errors)} records refused, e.g. {next(iter(result.errors.items()))}")


def run_queries(
    client: OpenSearch, prefix: str, collection: Collection, options: dict[str, Any]
) -> dict[str, list[str]]:
    ranked: dict[str, list[str]] = {}
    for key, text in collection.queries.items():
        body = with_strategy(build_search(parse_query(as_query(text)), EVERYONE, size=DEPTH), options)
        body.pop("aggs", None)
        body.pop("highlight", None)
        body["_source"] = False
        try:
            hits = client.search(index=prefix, body=body)["hits"]["hits"]
        except TransportError as exc:
            if not too_many_clauses(exc):
                raise
            hits = []  # the product tells the user to shorten the query: nothing found
        ranked[key] = [hit["_id"] for hit in hits]
    return ranked


def score(collection: Collection, ranked: dict[str, list[str]]) -> dict[str, float]:
    keys = list(collection.queries)

    def mean(measure: Callable[[Sequence[str], set[str]], float]) -> float:
        return round(sum(measure(ranked[key], collection.relevant[key]) for key in keys) / len(keys), 4)

    return {
        "ndcg10": mean(ndcg_at),
        "map": mean(average_precision),
        "p10": mean(precision_at),
        "recall10": mean(recall_at),
        "no_hits": sum(1 for key in keys if not ranked[key]),
    }


def evaluate(
    client: OpenSearch,
    collection: Collection,
    strategies: Iterable[str],
    log: Callable[[str], None] = lambda message: None,
) -> dict[str, Any]:
    prefix = f"bench-relevance-{uuid.uuid4().hex[:8]}"
    try:
        started = time.perf_counter()
        index_collection(client, prefix, collection)
        log(
            f"{collection.name}: {len(collection.documents):,} records indexed in "
            f"{time.perf_counter() - started:.1f} s"
        )
        figures = {}
        for name in strategies:
            started = time.perf_counter()
            figures[name] = score(collection, run_queries(client, prefix, collection, STRATEGIES[name]))
            log(f"  {name:<22} {figures[name]}  ({time.perf_counter() - started:.1f} s)")
    finally:
        drop_all(client, prefix)
    truncated = sum(1 for text in collection.queries.values() if as_query(text) != " ".join(text.split()))
    return {
        "set": collection.name,
        "documents": len(collection.documents),
        "queries": len(collection.queries),
        "queries_cut_to_max_chars": truncated,
        "max_query_chars": MAX_QUERY_CHARS,
        "max_query_words": MAX_QUERY_WORDS,
        "depth": DEPTH,
        "strategy": "product",
        "text_match": STRATEGIES["product"],
        **figures["product"],
        "strategies": figures,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--set", choices=["cisi", "crosslang", "all"], default="all")
    parser.add_argument("--limit", type=int, help="cross-language: only the first N questions")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    client = make_search_client(Settings())
    try:
        version = client.info()["version"]["number"]
        if args.set in ("cisi", "all"):
            result = evaluate(client, load_cisi(), STRATEGIES, log)
            _write(args.out / "relevance-cisi.json", result | {"opensearch": version})
        if args.set in ("crosslang", "all"):
            collection = load_parliament(limit=args.limit)
            names = ["product", "all-words", "3<40%", "any-word-folded-only"]
            result = evaluate(client, collection, names, log)
            result["direction"] = "nl query -> fr record"
            _write(args.out / "crosslang.json", result | {"opensearch": version})
    finally:
        client.close()
    return 0


def _write(path: Path, result: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"{path.name}: ndcg10 {result['ndcg10']}, map {result['map']}, p10 {result['p10']}, "
        f"recall10 {result['recall10']}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
