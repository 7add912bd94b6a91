"""Regenerate the golden decisions of fixtures/*.json: ``python tests/regen_golden.py``.

Golden files hold the decision as the reference evaluator gives it, with the rulebook digest blanked so
that a rule edit that changes no decision changes no golden file. Review the diff before committing it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sanctions.engine import Engine  # noqa: E402
from sanctions.explain import to_json  # noqa: E402
from sanctions.model.records import parse_input  # noqa: E402


def normalised(decision_json: str) -> str:
    """A decision's JSON without what may differ between equal decisions: digest and evaluator."""
    data = json.loads(decision_json)
    data["rulebook"]["digest"] = "-"
    data["evaluator"] = "-"
    data["notes"] = [n for n in data["notes"] if not n.startswith("durable-rules is not available")]
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def fixtures() -> list[Path]:
    return sorted((ROOT / "fixtures").glob("*.json"))


def golden_path(fixture: Path) -> Path:
    return ROOT / "fixtures" / "golden" / (fixture.stem + ".decision.json")


def main() -> None:
    engine = Engine(evaluator="reference")
    for f in fixtures():
        decision = engine.check(parse_input(json.loads(f.read_text()), source=str(f)))
        golden_path(f).write_text(normalised(to_json(decision)))
        print(f"{golden_path(f).relative_to(ROOT)}: {decision.verdict}")


if __name__ == "__main__":
    main()
