"""Caps, the ledger of deliveries, and the audit log.

:mod:`~sanctions.ledger.caps` is the cap arithmetic (periods, units, thresholds); :mod:`~sanctions.ledger.capcheck`
judges a decision's capped findings against the ledger; :mod:`~sanctions.ledger.store` is the SQLite ledger
store; :mod:`~sanctions.ledger.audit` the hash-chained audit log. Further backends sit beside ``store``.
"""
