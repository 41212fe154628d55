"""Entity-level precision, recall and F1 of the project's NER on the Europeana newspaper corpora.

The corpora are OCR'd historic newspapers, one `token TAG` per line. Tokens are joined with spaces into
texts of a few hundred tokens (cut only between entities), run through `enrichers.ner.entities_many`,
and the entities found are projected back onto the gold tokens: a token is tagged with the type of the
entity that covers it, B on the entity's first token. Gold and prediction are then cut into entities by
the same rule, so the French set, tagged IO only, is scored as IO on both sides.

    python -m bench.ner_eval europeana-nl            # -> bench/results/ner-europeana-nl.json
    python -m bench.ner_eval europeana-fr --limit 20000
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from enrichers.ner import entities_many

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ner-europeana" / "files"
RESULTS = Path(__file__).resolve().parent / "results"
SETS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    # name: (language, tagging scheme, files)
    "europeana-nl": ("nl", "bio", ("enp_NL.kb.bio/enp_NL.kb.bio",)),
    "europeana-fr": ("fr", "io", ("enp_FR.bnf.bio/enp_FR.bnf.bio",)),
    "europeana-de": (
        "de",
        "bio",
        ("enp_DE.lft.bio/enp_DE.lft.bio", "enp_DE.onb.bio/enp_DE.onb.bio", "enp_DE.sbb.bio/enp_DE.sbb.bio"),
    ),
}
TYPES = ("PER", "LOC", "ORG")
# Annotation slips in the corpora: "B-PEr" (sbb) and "B-BER" (lft) on person names.
TYPE_FIXES = {"BER": "PER"}
_TAG = re.compile(r"^[BIO](-\w+)?$", re.IGNORECASE)
CHUNK_TOKENS = 300


@dataclass
class Chunk:
    """Gold tokens joined into one text, with each token's character offsets."""

    tokens: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)

    def text_and_offsets(self) -> tuple[str, list[tuple[int, int]]]:
        offsets, position = [], 0
        for token in self.tokens:
            offsets.append((position, position + len(token)))
            position += len(token) + 1
        return " ".join(self.tokens), offsets


def read_tokens(paths: Iterable[Path]) -> Iterable[tuple[str, str] | None]:
    """(token, tag) per token line; None where a new document starts (a new file or a `# file:` line)."""
    for path in paths:
        yield None
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            if line.startswith("# "):
                if line.startswith("# file:"):
                    yield None
                continue
            parts = line.split()
            if len(parts) > 1 and _TAG.match(parts[-1]):
                yield " ".join(parts[:-1]), _normalise(parts[-1])
            else:  # a token whose tag the corpus lost: outside any entity
                yield " ".join(parts), "O"


def _normalise(tag: str) -> str:
    prefix, _, kind = tag.upper().partition("-")
    kind = TYPE_FIXES.get(kind, kind)
    return f"{prefix}-{kind}" if kind in TYPES else "O"


def chunks(items: Iterable[tuple[str, str] | None], limit: int | None, size: int) -> list[Chunk]:
    """Texts of about `size` tokens, ended after a full stop where possible, never inside an entity."""
    result: list[Chunk] = [Chunk()]
    count = 0
    pending: Chunk = result[0]
    for item in items:
        if item is None:
            if pending.tokens:
                pending = Chunk()
                result.append(pending)
            continue
        if limit is not None and count >= limit:
            break
        token, tag = item
        long_enough = len(pending.tokens) >= size and pending.tokens[-1] == "."
        if (long_enough or len(pending.tokens) >= 2 * size) and not tag.startswith("I-"):
            pending = Chunk()
            result.append(pending)
        pending.tokens.append(token)
        pending.tags.append(tag)
        count += 1
    return [chunk for chunk in result if chunk.tokens]


def project(offsets: Sequence[tuple[int, int]], found: Iterable[tuple[str, int, int]]) -> list[str]:
    """Tags of the gold tokens under the entities found: (label, start, end) in characters."""
    tags = ["O"] * len(offsets)
    for label, start, end in found:
        if label not in TYPES:
            continue
        covered = [i for i, (s, e) in enumerate(offsets) if s < end and start < e and tags[i] == "O"]
        for n, i in enumerate(covered):
            tags[i] = f"{'B' if n == 0 else 'I'}-{label}"
    return tags


def spans(tags: Sequence[str], scheme: str) -> set[tuple[int, int, str]]:
    """Entities as (first token, last token + 1, type); in IO, adjacent tokens of one type are one entity."""
    result: set[tuple[int, int, str]] = set()
    start, kind = -1, ""
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, tag_kind = tag.partition("-")
        continues = prefix == "I" or (scheme == "io" and prefix == "B")
        if kind and continues and tag_kind == kind:
            continue
        if kind:
            result.add((start, i, kind))
        start, kind = (i, tag_kind) if prefix in ("B", "I") else (-1, "")
    return result


def score(gold: Counter[str], predicted: Counter[str], correct: Counter[str]) -> dict[str, dict[str, float]]:
    table: dict[str, dict[str, float]] = {"precision": {}, "recall": {}, "f1": {}}
    for kind in (*TYPES, "micro"):
        keys = TYPES if kind == "micro" else (kind,)
        g, p, c = (sum(counter[k] for k in keys) for counter in (gold, predicted, correct))
        precision = c / p if p else 0.0
        recall = c / g if g else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        table["precision"][kind] = round(precision, 4)
        table["recall"][kind] = round(recall, 4)
        table["f1"][kind] = round(f1, 4)
    return table


def evaluate(name: str, limit: int | None, batch_size: int, size: int = CHUNK_TOKENS) -> dict[str, object]:
    language, scheme, files = SETS[name]
    pieces = chunks(read_tokens(DATA / file for file in files), limit, size)
    texts, offsets = zip(*(chunk.text_and_offsets() for chunk in pieces), strict=True)
    started = time.perf_counter()
    found = entities_many(list(texts), language, batch_size=batch_size)
    seconds = time.perf_counter() - started
    gold, predicted, correct = Counter[str](), Counter[str](), Counter[str]()
    for chunk, chunk_offsets, entities in zip(pieces, offsets, found, strict=True):
        truth = spans(chunk.tags, scheme)
        guess = spans(project(chunk_offsets, ((e.label, e.start, e.end) for e in entities)), scheme)
        gold.update(kind for *_, kind in truth)
        predicted.update(kind for *_, kind in guess)
        correct.update(kind for *_, kind in truth & guess)
    tokens = sum(len(chunk.tokens) for chunk in pieces)
    result: dict[str, object] = {
        "set": name,
        "lang": language,
        "scheme": scheme,
        **score(gold, predicted, correct),
        "support": {kind: gold[kind] for kind in TYPES},
        "predicted": {kind: predicted[kind] for kind in TYPES},
        "tokens": tokens,
        "texts": len(pieces),
        "seconds": round(seconds, 2),
        "tokens_per_second": round(tokens / seconds, 1) if seconds else None,
    }
    if limit is not None:
        result["limit"] = limit
    return result


def print_table(result: dict[str, object]) -> None:
    print(f"{result['set']} ({result['lang']}, {result['tokens']} tokens, {result['seconds']} s)")
    print(f"{'type':<6} {'P':>7} {'R':>7} {'F1':>7} {'gold':>6}")
    support: dict[str, int] = result["support"]  # type: ignore[assignment]
    for kind in (*TYPES, "micro"):
        p, r, f = (result[m][kind] for m in ("precision", "recall", "f1"))  # type: ignore[index]
        n = sum(support.values()) if kind == "micro" else support[kind]
        print(f"{kind:<6} {p:>7.3f} {r:>7.3f} {f:>7.3f} {n:>6}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("set", choices=sorted(SETS))
    parser.add_argument("--limit", type=int, help="score only the first N tokens (a quick run)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--output", type=Path, help="default: bench/results/ner-<set>.json")
    args = parser.parse_args(argv)
    result = evaluate(args.set, args.limit, args.batch_size)
    print_table(result)
    output = args.output or RESULTS / f"ner-{args.set}.json"
    output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"written to {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
