"""Decisions you can look at: self-contained HTML reports.

Every page is one file: its style sheet and its few lines of script are inside it, and it loads nothing from
any network, so it can travel as a mail attachment. Pages are rendered with Jinja2, autoescape on: every string
that came from an input is shown as text. The page's Content-Security-Policy forbids loading anything and runs
only the page's own script and style blocks, each allowed by its SHA-256 (no ``'unsafe-inline'``), so even
markup that escaping missed could neither run a script nor restyle the page.

* :func:`render_decisions`: one or more decisions (from :meth:`sanctions.Engine.check`), with each deal's flow
  diagram, a card per finding, screening hits, rules not in force and what was considered and not applied.
* :func:`render_batch`: a batch output (decisions as JSON Lines): the verdicts, the rules that fired most,
  and a table that sorts, filters and pages in the browser, fast at 100,000 decisions.
* :func:`render_ledger`: the cap ledger: per cap and period, the cumulative total over time against the
  limit and the alert thresholds.
"""

from sanctions.report.batch import render_batch
from sanctions.report.decision import render_decisions
from sanctions.report.ledger import render_ledger

__all__ = ["render_batch", "render_decisions", "render_ledger"]
