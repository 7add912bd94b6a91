"""Large datasets: streaming files through a process pool, with resume, and Dask for a cluster.

:mod:`~sanctions.batch.formats` reads and writes the file formats (JSON Lines, the flat CSV/Parquet layout, whose
columns it documents: :data:`FLAT_COLUMNS`, one for every field of a transfer and its items, written by
:func:`flatten`); :mod:`~sanctions.batch.run` judges a file in ordered chunks on a process pool with checkpoints
(:func:`check_file`); :mod:`~sanctions.batch.distributed` runs the same on Dask.
"""

from sanctions.batch.formats import FLAT_COLUMNS, flatten
from sanctions.batch.run import check_file, check_records

__all__ = ["FLAT_COLUMNS", "check_file", "check_records", "flatten"]
