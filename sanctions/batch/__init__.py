"""Large datasets: streaming files through a process pool, with resume, and Dask for a cluster.

:mod:`~sanctions.batch.formats` reads and writes the file formats (JSON Lines, the flat CSV/Parquet layout);
:mod:`~sanctions.batch.run` judges a file in ordered chunks on a process pool with checkpoints
(:func:`check_file`); :mod:`~sanctions.batch.distributed` runs the same on Dask.
"""

from sanctions.batch.run import check_file, check_records

__all__ = ["check_file", "check_records"]
