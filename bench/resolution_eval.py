"""Entity resolution against the generator's ground truth: pairwise precision and recall per kind.

The seeded generator writes N records over the eleven register exports and `ground_truth.jsonl`, which
says which true entity appears in which record. Every export goes through the project's mapping engine
(`parse_file`, no OpenSearch), which writes `entity_ids` onto each record (enrichers/resolution.py). Per
kind (person, vehicle, phone, account, organisation) a *true pair* is two records that share a true
entity and a *predicted pair* two records that share an entity id; precision is the share of predicted
pairs that are true, recall the share of true pairs that are predicted. A pair counts once however many
entities its records share. `person_by_name` is the person score over the records that name a person
without a national number: what the name key (name and birth date) links on its own.

Pairs are counted, never listed: records with at most one entity of a kind (nearly all) fall into groups
by (true entity, predicted id) and a group of k holds C(k, 2) pairs; only the few records with several
entities of a kind (a PV with a suspect and a victim) are paired one by one with the records they share
something with.

    python -m bench.resolution_eval                     # 50,000 records -> bench/results/resolution.json
    python -m bench.resolution_eval --records 20000 --explain 10   # and examples of splits and merges
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.generate import FILES, GROUND_TRUTH, generate
from ingest.sources.mapping import load_mapping, mapping_path
from ingest.sources.run import IngestReport, parse_file

KINDS = ("person", "vehicle", "phone", "account", "organisation")
TRUTH_KINDS = {"bank_account": "account"}  # the ground truth's kind names, where they differ from ours
RESULTS = Path(__file__).resolve().parent / "results"
Members = dict[str, list[str]]  # record id -> the entities of one kind it holds


@dataclass
class Scores:
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int

    @property
    def precision(self) -> float:
        return self.correct_pairs / self.predicted_pairs if self.predicted_pairs else 1.0

    @property
    def recall(self) -> float:
        return self.correct_pairs / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "true_pairs": self.true_pairs,
            "predicted_pairs": self.predicted_pairs,
            "correct_pairs": self.correct_pairs,
        }


def _pairs(count: int) -> int:
    return count * (count - 1) // 2


def pairwise(truth: Members, predicted: Members) -> Scores:
    """Pairs of records that share a true entity, a predicted id, and both (each pair once)."""
    records = truth.keys() | predicted.keys()
    several = {r for r in records if len(truth.get(r, ())) > 1 or len(predicted.get(r, ())) > 1}
    by_true: Counter[str] = Counter()
    by_predicted: Counter[str] = Counter()
    by_both: Counter[tuple[str, str]] = Counter()
    for record in records - several:
        true = truth.get(record)
        guess = predicted.get(record)
        if true:
            by_true[true[0]] += 1
        if guess:
            by_predicted[guess[0]] += 1
        if true and guess:
            by_both[true[0], guess[0]] += 1
    true_pairs = sum(map(_pairs, by_true.values()))
    predicted_pairs = sum(map(_pairs, by_predicted.values()))
    correct = sum(map(_pairs, by_both.values()))
    if several:
        holders_true, holders_predicted = _holders(truth), _holders(predicted)
        for record in several:
            its_true, its_guesses = set(truth.get(record, ())), set(predicted.get(record, ()))
            partners = {r for entity in its_true for r in holders_true[entity]}
            partners.update(r for entity in its_guesses for r in holders_predicted[entity])
            partners.discard(record)
            for other in partners:
                if other in several and other < record:
                    continue  # this pair was counted from the other side
                is_true = not its_true.isdisjoint(truth.get(other, ()))
                is_predicted = not its_guesses.isdisjoint(predicted.get(other, ()))
                true_pairs += is_true
                predicted_pairs += is_predicted
                correct += is_true and is_predicted
    return Scores(true_pairs, predicted_pairs, correct)


def _holders(members: Members) -> dict[str, list[str]]:
    holders: dict[str, list[str]] = defaultdict(list)
    for record, entities in members.items():
        for entity in entities:
            holders[entity].append(record)
    return holders


def read_truth(path: Path) -> tuple[dict[str, Members], dict[str, dict[str, Any]]]:
    """Per kind, record id -> its true entities; and each entity's line (without its records)."""
    truth: dict[str, Members] = {kind: defaultdict(list) for kind in KINDS}
    entities: dict[str, dict[str, Any]] = {}
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            entity = json.loads(line)
            kind = TRUTH_KINDS.get(entity["kind"], entity["kind"])
            if kind not in truth:
                continue
            for _register, _ref, record in entity.pop("records"):
                truth[kind][record].append(entity["id"])
            entities[entity["id"]] = entity
    return truth, entities


def read_predicted(folder: Path) -> tuple[dict[str, Members], dict[str, int], float]:
    """Per kind, record id -> the entity ids the engine wrote on it; rows parsed per register; the
    seconds `parse_file` took over all exports."""
    predicted: dict[str, Members] = {kind: {} for kind in KINDS}
    parsed: dict[str, int] = {}
    seconds = 0.0
    for register, name, _writer in FILES:
        report = IngestReport(register, name)
        mapping = load_mapping(mapping_path(register))
        started = time.perf_counter()
        for record in parse_file(mapping, folder / name, report=report):
            by_kind: dict[str, list[str]] = defaultdict(list)
            for entity in record.entity_ids:
                by_kind[entity.split(":", 1)[0]].append(entity)
            for kind, entities in by_kind.items():
                if kind in predicted:
                    predicted[kind][record.id] = entities
        seconds += time.perf_counter() - started
        if report.rejected or report.error:
            raise SystemExit(f"{register}: {len(report.rejected)} rows rejected, error {report.error}")
        parsed[register] = report.parsed
    return predicted, parsed, seconds


def explain(
    kind: str, truth: Members, predicted: Members, entities: dict[str, dict[str, Any]], limit: int
) -> list[str]:
    """The largest splits (a true entity under several ids) and merges (an id over several entities),
    from the records with one entity of the kind (where an id and an entity surely go together)."""
    ids_of: dict[str, Counter[str]] = defaultdict(Counter)
    entities_of: dict[str, Counter[str]] = defaultdict(Counter)
    for record, true in truth.items():
        guesses = predicted.get(record) or ["(none)"]
        if len(true) == 1 and len(guesses) == 1:
            ids_of[true[0]][guesses[0]] += 1
            entities_of[guesses[0]][true[0]] += 1
    lines = [f"{kind}: splits"]
    splits = sorted((e for e in ids_of if len(ids_of[e]) > 1), key=lambda e: -sum(ids_of[e].values()))
    for entity in splits[:limit]:
        name = entities.get(entity, {}).get("name", "")
        lines.append(f"  {entity} {name!r}: {dict(ids_of[entity].most_common(4))}")
    lines.append(f"{kind}: merges")
    merges = sorted(
        (g for g in entities_of if g != "(none)" and len(entities_of[g]) > 1),
        key=lambda g: -sum(entities_of[g].values()),
    )
    for guess in merges[:limit]:
        named = {
            f"{e} {entities.get(e, {}).get('name', '')}": n for e, n in entities_of[guess].most_common(4)
        }
        lines.append(f"  {guess}: {named}")
    return lines


def evaluate(folder: Path, explain_limit: int = 0) -> dict[str, Any]:
    truth, entities = read_truth(folder / GROUND_TRUTH)
    predicted, parsed, seconds = read_predicted(folder)
    # Persons on records that carry no national number for them: what the name key alone links.
    named = {r for r, ids in predicted["person"].items() if all(i.startswith("person:name:") for i in ids)}
    truth["person_by_name"] = {r: truth["person"][r] for r in named if r in truth["person"]}
    predicted["person_by_name"] = {r: predicted["person"][r] for r in named}
    by_kind = {kind: pairwise(truth[kind], predicted[kind]).as_dict() for kind in truth}
    for kind in by_kind:
        by_kind[kind]["true_entities"] = len({e for es in truth[kind].values() for e in es})
        by_kind[kind]["predicted_ids"] = len({e for es in predicted[kind].values() for e in es})
    result: dict[str, Any] = {
        "records": sum(parsed.values()),
        "by_kind": by_kind,
        "parse_seconds": round(seconds, 2),
    }
    if explain_limit:
        result["explain"] = [
            line
            for kind in KINDS
            for line in explain(kind, truth[kind], predicted[kind], entities, explain_limit)
        ]
    return result


def table(by_kind: dict[str, dict[str, Any]]) -> str:
    rows = [
        f"{'kind':<16}{'precision':>10}{'recall':>8}{'f1':>8}{'true pairs':>12}{'entities':>10}{'ids':>8}"
    ]
    for kind, s in by_kind.items():
        rows.append(
            f"{kind:<16}{s['precision']:>10.4f}{s['recall']:>8.4f}{s['f1']:>8.4f}"
            f"{s['true_pairs']:>12,}{s['true_entities']:>10,}{s['predicted_ids']:>8,}"
        )
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=RESULTS / "resolution.json")
    parser.add_argument(
        "--explain", type=int, default=0, metavar="N", help="print N splits and merges per kind"
    )
    parser.add_argument(
        "--dir", type=Path, help="generate into this folder (or reuse what --seed and --records made there)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="resolution-") as scratch:
        folder = args.dir or Path(scratch)
        if not (folder / GROUND_TRUTH).is_file():
            generate(folder, seed=args.seed, total=args.records)
        result = {"seed": args.seed, **evaluate(folder, args.explain)}
    lines: Iterable[str] = result.pop("explain", [])
    for line in lines:
        print(line)
    seconds = result.pop("parse_seconds")  # the machine's, not the method's: printed, not kept
    print(f"{result['records']:,} records, seed {result['seed']} (parse_file: {seconds} s)")
    print(table(result["by_kind"]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
