"""What three-valued facts cost: checks per second with and without the *could* patterns and *must* guards.

``python bench/unknowns_cost.py`` judges every fixture a few times with each evaluator, once with the
rulebook as compiled (unknown values handled) and once compiled as if no field could be unknown, and prints
both rates. It writes nothing.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sanctions.rulebook.compiler as compiler  # noqa: E402
from sanctions.engine import Engine  # noqa: E402
from sanctions.model.records import parse_input  # noqa: E402
from sanctions.rulebook import load_rulebook  # noqa: E402


def rate(rulebook, evaluator: str, subjects, rounds: int = 3) -> float:
    engine = Engine(rulebook, evaluator=evaluator)
    for s in subjects:
        engine.check(s)
    start, n = time.perf_counter(), 0
    for _ in range(rounds):
        for s in subjects:
            engine.check(s)
            n += 1
    return n / (time.perf_counter() - start)


def main() -> None:
    subjects = [parse_input(json.loads(p.read_text())) for p in sorted((ROOT / "fixtures").glob("*.json"))]
    with_unknowns = load_rulebook()
    compiler.may_be_unknown = lambda key: False  # compile as before: no guards, no could patterns
    without = load_rulebook()
    print(f"{len(subjects)} fixtures; patterns: {len(with_unknowns.compiled.patterns)} with unknowns, "
          f"{len(without.compiled.patterns)} without")
    for evaluator in ("batch", "reference", "durable"):
        a, b = rate(without, evaluator, subjects), rate(with_unknowns, evaluator, subjects)
        print(f"{evaluator:>9}: {a:7.1f} checks/s without, {b:7.1f} with ({b / a:.2f}x)")


if __name__ == "__main__":
    main()
