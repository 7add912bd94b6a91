"""Files replaced whole: a reader sees the old content or the new, never half of either.

Only a regular file (or a name not yet taken) is replaced by a rename. A device, a FIFO or another non-regular
file (``/dev/null``, ``/dev/stdout``, a named pipe) is written in place: renaming over it would put a regular
file where the device was. A new file gets the mode other tools give it (``0o666`` less the umask); a replaced
file keeps its mode.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from pathlib import Path


def atomic_write(path: str | Path, data: str | bytes, *, make_parents: bool = False) -> None:
    """Write a file so that a reader sees the old content or the new, never half of either.

    Args:
        path: The file. A missing parent folder is an error (``FileNotFoundError``) unless ``make_parents``.
        data: Text (written as UTF-8) or bytes.
        make_parents: Create missing parent folders (for the library's own data folders, never a user's
            ``--out``).

    Raises:
        OSError: The file cannot be written (``IsADirectoryError`` for a folder, ``FileNotFoundError`` for a
            missing folder, ``PermissionError``, a full disk ...). Nothing is left behind.
    """
    target = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, "is a folder, not a file", str(target))
    if st is not None and not stat.S_ISREG(st.st_mode):
        _write_in_place(target, payload, st)
        return
    if make_parents:
        target.parent.mkdir(parents=True, exist_ok=True)
    elif not target.parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, f"the folder {target.parent} does not exist", str(target))
    mode = stat.S_IMODE(st.st_mode) if st is not None else 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _write_in_place(target: Path, payload: bytes, st: os.stat_result) -> None:
    if stat.S_ISSOCK(st.st_mode):
        raise OSError(errno.EINVAL, "is a socket, not a file", str(target))
    with open(target, "wb") as fh:  # a device or FIFO: no rename, no temporary file beside it
        fh.write(payload)
        fh.flush()


def _umask() -> int:
    """The process umask, read without changing it where the system allows (Linux: /proc)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
