"""The rulebook: rule files read, checked and compiled to the engine-neutral form.

:mod:`~sanctions.rulebook.spec` is the format (what a YAML rule file may say), :mod:`~sanctions.rulebook.loader`
reads a folder of them, :mod:`~sanctions.rulebook.compiler` turns them into the patterns of
:mod:`sanctions.evaluate.compiled`, and :mod:`~sanctions.rulebook.book` holds the runtime objects.
:mod:`~sanctions.rulebook.facts` lists the fields a rule may test; :mod:`~sanctions.rulebook.catalogue` and
:mod:`~sanctions.rulebook.examples` describe and exercise the rules. This package knows no evaluator.
"""

from sanctions.rulebook.book import Exemption, Rule, Rulebook
from sanctions.rulebook.loader import builtin_rules_dir, load_rulebook, select_regimes
from sanctions.rulebook.spec import OUTCOME_RANK, RuleSpec

__all__ = ["OUTCOME_RANK", "Exemption", "Rule", "RuleSpec", "Rulebook", "builtin_rules_dir", "load_rulebook",
           "select_regimes"]
