"""Who, not what: designated parties and vessels.

:mod:`~sanctions.screening.unlist` parses the UN Security Council Consolidated List (safely);
:mod:`~sanctions.screening.lists` installs, updates and diffs list editions; :mod:`~sanctions.screening.matching`
scores names with explanations; :mod:`~sanctions.screening.vessels` matches vessels by IMO number and name;
:mod:`~sanctions.screening.screen` screens a transfer or deal and turns hits into facts for the rules.
"""
