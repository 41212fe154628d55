"""Words per second through the project's NER against the raw tools, measured side by side in one run.

Dutch: `entities_many(texts, "nl")` against the same Frog process fed the same texts alone (no spaCy, no
offsets, no rulers). French: `entities_many(texts, "fr")` against `nlp.pipe` of `fr_core_news_sm` loaded
with the same components, and, for reference, the model's default pipeline. Texts are the opening of
the Europeana corpora, cut as `bench.ner_eval` cuts them. Every arm is warmed up first; the arms then
run in interleaved rounds and each ratio is the median of the rounds' ratios project/raw.

    python -m bench.ner_speed          # -> bench/results/ner-speed.json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import spacy

from bench.ner_eval import DATA, RESULTS, SETS, chunks, read_tokens
from enrichers.frog import FrogProcess
from enrichers.ner import FRENCH_EXCLUDE, FRENCH_MODEL, entities_many, pipeline

BATCH_SIZE = 32


def texts_of(name: str, tokens: int) -> list[str]:
    _, _, files = SETS[name]
    return [" ".join(chunk.tokens) for chunk in chunks(read_tokens(DATA / f for f in files), tokens, 300)]


def timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def compare(
    words: int, project: Callable[[], object], raws: dict[str, Callable[[], object]], rounds: int
) -> dict[str, object]:
    seconds: dict[str, list[float]] = {"project": [], **{name: [] for name in raws}}
    arms = {"project": project, **raws}
    for round_number in range(rounds):
        # Alternate the order so a machine that speeds up or slows down touches every arm.
        order = list(arms) if round_number % 2 == 0 else list(reversed(arms))
        for name in order:
            seconds[name].append(timed(arms[name]))
    result: dict[str, object] = {
        "words": words,
        "words_per_second": {name: round(words / statistics.median(s), 1) for name, s in seconds.items()},
        "seconds": {name: [round(x, 2) for x in s] for name, s in seconds.items()},
    }
    result["ratio"] = {
        f"project/{name}": round(
            statistics.median(r / p for p, r in zip(seconds["project"], seconds[name], strict=True)), 3
        )
        for name in raws
    }
    return result


def dutch(tokens: int, rounds: int) -> dict[str, object]:
    texts = texts_of("europeana-nl", tokens)
    frog: FrogProcess = pipeline("nl").get_pipe("frog").frog
    entities_many(["Jan Peeters woont in Gent."], "nl")  # Frog loaded and warm
    whole = "\n\n".join(texts)
    result = compare(
        sum(len(t.split()) for t in texts),
        lambda: entities_many(texts, "nl", batch_size=BATCH_SIZE),
        {"raw_frog": lambda: frog.tokens([whole])},
        rounds,
    )
    return {"texts": len(texts), **result}


def french(tokens: int, rounds: int) -> dict[str, object]:
    texts = texts_of("europeana-fr", tokens)
    same = spacy.load(FRENCH_MODEL, exclude=FRENCH_EXCLUDE)
    default = spacy.load(FRENCH_MODEL)
    for nlp in (same, default, pipeline("fr")):
        list(nlp.pipe(texts[:2]))

    def raw(nlp: spacy.language.Language) -> Callable[[], object]:
        return lambda: [list(doc.ents) for doc in nlp.pipe(texts, batch_size=BATCH_SIZE)]

    result = compare(
        sum(len(t.split()) for t in texts),
        lambda: entities_many(texts, "fr", batch_size=BATCH_SIZE),
        {"raw_spacy": raw(same), "raw_spacy_default_pipeline": raw(default)},
        rounds,
    )
    return {"texts": len(texts), **result}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nl-tokens", type=int, default=3000, help="Frog tags about 100 words/s")
    parser.add_argument("--fr-tokens", type=int, default=30000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--output", type=Path, default=RESULTS / "ner-speed.json")
    args = parser.parse_args(argv)
    result = {
        "machine": {"python": platform.python_version(), "spacy": spacy.__version__},
        "rounds": args.rounds,
        "nl": dutch(args.nl_tokens, args.rounds),
        "fr": french(args.fr_tokens, args.rounds),
    }
    print(json.dumps(result, indent=2))
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
