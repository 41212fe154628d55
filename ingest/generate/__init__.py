"""`generate(out_dir, seed, total)`: a seeded world of realistic Belgian register exports.

Eleven files, one per register, in exactly the formats the packaged mappings read (so `speurder ingest
<register> <file>` takes each without a rejected row), plus `ground_truth.jsonl`: every true entity with
its identifiers, the spellings used, and the records it appears in. The same seed gives byte-identical
files; memory does not grow with `total` (see population.py and truth.py for how).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ingest.generate.anpr import write_anpr
from ingest.generate.borders import write_aerotask, write_aquatask, write_belvis, write_raavis
from ingest.generate.cases import Cases
from ingest.generate.context import Context
from ingest.generate.focus import write_focus
from ingest.generate.islp import write_islp
from ingest.generate.police import write_ang, write_pacos
from ingest.generate.population import Population
from ingest.generate.traffic import write_cross_border_exchange, write_mercurius
from ingest.generate.truth import Truth
from ingest.generate.world import World

__all__ = ["FILES", "GeneratedFile", "GenerationReport", "generate"]

Writer = Callable[[Context, Path], int]
# Register, file name, writer; in this order (ANG before ANPR: the plate hit list follows the alerts).
FILES: tuple[tuple[str, str, Writer], ...] = (
    ("islp", "islp.csv", write_islp),
    ("pacos", "pacos.xml", write_pacos),
    ("ang", "ang.json", write_ang),
    ("focus", "focus.ndjson", write_focus),
    ("mercurius", "mercurius.csv", write_mercurius),
    ("cross_border_exchange", "cross_border_exchange.csv", write_cross_border_exchange),
    ("belvis", "belvis.xml", write_belvis),
    ("raavis", "raavis.csv", write_raavis),
    ("aquatask", "aquatask.json", write_aquatask),
    ("aerotask", "aerotask.json", write_aerotask),
    ("anpr", "anpr.ndjson", write_anpr),
)
GROUND_TRUTH = "ground_truth.jsonl"


@dataclass(frozen=True)
class GeneratedFile:
    register: str
    path: Path
    rows: int


@dataclass
class GenerationReport:
    seed: int
    total: int
    files: list[GeneratedFile] = field(default_factory=list)
    ground_truth: Path | None = None
    entities: int = 0
    appearances: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)  # seconds per file

    @property
    def rows(self) -> int:
        return sum(file.rows for file in self.files)


def _case_count(world: World, cases: Cases) -> int:
    """As many cases as fill about a third of the ISLP export, never more than it holds."""
    budget = world.counts["islp"]
    target, rows = max(0, int(budget * 0.33 / 3.4)), 0
    for index in range(target):
        rows += cases.rows_in_islp(index)
        if rows > budget:
            return index
    return target


def generate(out_dir: Path | str, seed: int = 42, total: int = 100_000) -> GenerationReport:
    """Write the eleven register exports and the ground truth into `out_dir`."""
    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    world = World.plan(seed, total)
    population = Population(world)
    cases = Cases(world, population, 0)
    cases.count = _case_count(world, cases)
    report = GenerationReport(seed, total)
    timings = report.timings
    with tempfile.TemporaryDirectory(dir=out, prefix=".truth-") as scratch:
        truth = Truth(Path(scratch) / "appearances.sqlite")
        try:
            ctx = Context(world, population, cases, truth)
            for register, name, writer in FILES:
                began = time.perf_counter()
                rows = writer(ctx, out / name)
                timings[register] = time.perf_counter() - began
                report.files.append(GeneratedFile(register, out / name, rows))
            report.ground_truth = out / GROUND_TRUTH
            began = time.perf_counter()
            report.entities = truth.write(report.ground_truth, population.describe)
            report.appearances = truth.appearances
            timings["ground_truth"] = time.perf_counter() - began
        finally:
            truth.close()
    report.seconds = time.perf_counter() - started
    return report
