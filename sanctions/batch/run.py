"""Streaming batch checks: many transfers from a file, one decision each, on every core, in input order.

>>> from sanctions.batch import check_file
>>> summary = check_file("transfers.jsonl", out="decisions.jsonl")   # doctest: +SKIP
>>> summary.read == summary.judged + summary.rejected                 # doctest: +SKIP
True

File formats: :mod:`sanctions.batch.formats`.

Interruption and resuming
    With a JSON Lines output *file*, every chunk is written whole, flushed and fsynced, and only then is
    the checkpoint ``OUT.checkpoint`` (:func:`checkpoint_path`) replaced atomically. It records the input
    (path, size, byte length and SHA-256 of the consumed prefix, lines consumed) and the output (records
    and bytes committed, SHA-256 of those bytes) plus the counts so far. ``check_file(..., resume=True)``
    verifies both prefixes against it, cuts the output back to the committed bytes (a kill can leave a
    partial line, or whole lines of a chunk whose checkpoint was never written: they were never counted)
    and continues with the next input record: no record is judged twice in the output and none is
    skipped. A finished run leaves its checkpoint marked ``complete``; resuming it judges nothing. Resuming
    needs JSON Lines input and output; the input must be byte for byte the file the run started on.

Streaming and cores
    The reader hands out chunks of :data:`CHUNK` records; a process pool (one :class:`~sanctions.Engine`
    built once per worker by ``engine_factory``) judges them; about :data:`IN_FLIGHT_RECORDS` records at
    most are in flight (never fewer than ``workers + 1`` chunks, never more than ``2 * workers + 2``), and
    results are written strictly in input order. Memory therefore depends on the chunk size and that budget,
    never on the length of the input. A flat Parquet file on the columnar path is handed out as row ranges
    (:class:`~sanctions.batch.columnar.FlatChunk`): each worker reads its own rows, and this process reads
    only the ``transfer_id`` column to cut them. ``workers=0`` or ``1`` judges in this process.
"""

from __future__ import annotations

import datetime as dt
import errno
import hashlib
import json
import multiprocessing as mp
import os
import signal
import stat
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sanctions.exc import InvalidInput

from sanctions.batch.formats import (  # noqa: F401  (re-exported)
    FLAT_COLUMNS, ITEM_COLUMNS, TRANSFER_COLUMNS, FmtIn, FmtOut, Payload, Record, _CommittedJsonlWriter, _FlatError,
    open_parquet, _group, _guess, _JsonlWriter, _ParquetWriter, _Prefix, _read_jsonl_tracked, _json_error, flatten, read_csv,
    read_jsonl, read_parquet, Result,
)

CHUNK = 1_000
"""Records per chunk handed to a worker."""

@dataclass
class BatchSummary:
    """What a batch run did. ``read == judged + rejected`` always.

    Attributes:
        read: Input records (lines, or transfers of a flat file).
        judged: Records that got a decision.
        rejected: Records reported as errors.
        verdicts: Decisions per verdict.
        seconds: Wall time.
        workers: Worker processes used (0: judged in this process).
    """

    read: int = 0
    judged: int = 0
    rejected: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    workers: int = 0
    columnar: int = 0
    """Records the columnar path decided itself (the rest of ``judged`` and ``rejected`` went to the row path)."""
    routed: dict[str, int] = field(default_factory=dict)
    """Records the columnar path sent to the row path, per reason (empty on the row path)."""
    resumed: int = 0
    """Records (included in the counts above) judged by the interrupted run this one resumed."""
    internal: int = 0
    """Rejected records (included in ``rejected``) that the engine failed on: a bug to report, not bad data."""

    def to_dict(self) -> dict[str, Any]:
        d = {"read": self.read, "judged": self.judged, "rejected": self.rejected,
             "verdicts": dict(sorted(self.verdicts.items())), "seconds": round(self.seconds, 3),
             "workers": self.workers}
        if self.resumed:
            d["resumed"] = self.resumed
        if self.columnar or self.routed:
            d["columnar"] = {"decided": self.columnar, "routed": dict(sorted(self.routed.items()))}
        if self.internal:
            d["internal_errors"] = self.internal
        return d

    def render(self) -> str:
        v = ", ".join(f"{k} {n}" for k, n in sorted(self.verdicts.items()))
        rate = self.read / self.seconds if self.seconds else 0.0
        return (f"read {self.read}, judged {self.judged} ({v or 'none'}), rejected {self.rejected} "
                f"in {self.seconds:.1f} s ({rate:,.0f} records/s, {self.workers or 1} process"
                f"{'es' if self.workers > 1 else ''})"
                + (f"; resumed after {self.resumed} records of an interrupted run" if self.resumed else "")
                + (f"; columnar path decided {self.columnar}, row path judged {sum(self.routed.values())} ("
                   + ", ".join(f"{k}: {n}" for k, n in sorted(self.routed.items())) + ")"
                   if self.columnar or self.routed else "")
                + (f"; {self.internal} of the rejected hit an internal error (please report it)"
                   if self.internal else ""))


# ----------------------------------------------------------------------------------------------------------------
# Records: (line, payload); payload is raw JSON text (parsed in the worker), a dict, or an error
# ----------------------------------------------------------------------------------------------------------------

def checkpoint_path(out: str | os.PathLike[str]) -> Path:
    """The checkpoint file of a batch output file: ``OUT.checkpoint``, next to it."""
    return Path(os.fspath(out) + ".checkpoint")


def _sha_of_prefix(path: str, length: int) -> tuple[Any, bytes]:
    """SHA-256 object of the first ``length`` bytes of a file, and its last byte (b"" if none)."""
    h = hashlib.sha256()
    last = b""
    with open(path, "rb") as f:
        left = length
        while left > 0:
            block = f.read(min(left, 1 << 20))
            if not block:
                break
            h.update(block)
            last = block[-1:]
            left -= len(block)
    if left:
        raise InvalidInput(f"{path} is shorter than its checkpoint says ({length} bytes)", source=path)
    return h, last


@dataclass
class _Resume:
    prefix: _Prefix
    out_bytes: int
    out_sha: Any
    summary: BatchSummary
    complete: bool


_OPTION_NAMES = {"rulebook": "the rulebook (--rules)", "evaluator": "the evaluator", "as_of": "--as-of",
                 "regimes": "the regimes", "format_in": "--format-in"}


def _load_checkpoint(source: str, out: str, options: dict[str, Any]) -> _Resume:
    """Read and verify the checkpoint of ``out`` against the input, the output and the options that change a
    decision; see the module docstring."""
    cp = checkpoint_path(out)
    try:
        return _verify_checkpoint(cp, source, out, options)
    except FileNotFoundError:
        raise InvalidInput(f"nothing to resume: no checkpoint {cp} next to the output", source=str(out)) from None
    except InvalidInput:
        raise
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as err:
        raise InvalidInput(f"checkpoint {cp} is damaged ({type(err).__name__}: {err}); delete it and run again "
                           "without --resume", source=str(cp)) from None


def _verify_checkpoint(cp: Path, source: str, out: str, options: dict[str, Any]) -> _Resume:
    try:
        data = json.loads(cp.read_text(encoding="utf-8"))
    except IsADirectoryError:
        raise ValueError("it is a folder") from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    if data.get("version") not in (1, 2):
        raise ValueError(f"unknown checkpoint version {data.get('version')!r}")
    inp, outp, counts = data["input"], data["output"], data["summary"]
    if data["version"] == 1:
        raise InvalidInput("the checkpoint was written by an older version that did not record the rulebook and "
                           "options; run again without --resume", source=str(cp))
    recorded = data["options"]
    if not isinstance(recorded, dict):
        raise ValueError("its options are not a JSON object")
    for key in [*_OPTION_NAMES, *sorted(set(recorded) | set(options) - set(_OPTION_NAMES))]:
        if recorded.get(key) != options.get(key):
            raise InvalidInput(
                f"cannot resume with other options: {_OPTION_NAMES.get(key, key)} was {recorded.get(key)!r} in "
                f"the interrupted run and is {options.get(key)!r} now; resume with the same options, or start "
                "afresh without --resume", source=str(out))
    if os.path.abspath(source) != inp["path"]:
        raise InvalidInput(f"the checkpoint is of another input file ({inp['path']})", source=source)
    size = os.path.getsize(source)
    if size != inp["size"]:
        raise InvalidInput(f"the input changed since the interrupted run: {size} bytes, the checkpoint says "
                           f"{inp['size']}", source=source)
    in_sha, _ = _sha_of_prefix(source, inp["consumed_bytes"])
    if in_sha.hexdigest() != inp["consumed_sha256"]:
        raise InvalidInput("the input changed since the interrupted run: its first "
                           f"{inp['consumed_bytes']} bytes differ from the checkpoint's", source=source)
    if not os.path.exists(out) or os.path.getsize(out) < outp["bytes"]:
        raise InvalidInput(f"the output is shorter than its checkpoint ({outp['bytes']} bytes committed)",
                           source=str(out))
    out_sha, last = _sha_of_prefix(str(out), outp["bytes"])
    if out_sha.hexdigest() != outp["sha256"] or (outp["bytes"] and last != b"\n"):
        raise InvalidInput("the output's committed records differ from the checkpoint's", source=str(out))
    summary = BatchSummary(read=counts["read"], judged=counts["judged"], rejected=counts["rejected"],
                           verdicts=dict(counts["verdicts"]), resumed=counts["read"])
    if summary.read != outp["records"] or summary.read != summary.judged + summary.rejected:
        raise InvalidInput(f"checkpoint {cp} is damaged: its counts do not add up", source=str(cp))
    return _Resume(_Prefix(inp["consumed_bytes"], inp["consumed_lines"], in_sha), outp["bytes"], out_sha,
                   summary, bool(data.get("complete")))


def _write_checkpoint(source: str, out: str, at: tuple[int, int, Any], out_bytes: int, out_sha: Any,
                      summary: BatchSummary, complete: bool, options: dict[str, Any]) -> None:
    from sanctions.atomic import atomic_write

    offset, line, sha = at
    data = {"version": 2, "complete": complete, "options": options,
            "input": {"path": os.path.abspath(source), "size": os.path.getsize(source), "consumed_bytes": offset,
                      "consumed_lines": line, "consumed_sha256": sha.hexdigest()},
            "output": {"path": os.path.abspath(out), "records": summary.read, "bytes": out_bytes,
                       "sha256": out_sha.hexdigest()},
            "summary": {"read": summary.read, "judged": summary.judged, "rejected": summary.rejected,
                        "verdicts": dict(sorted(summary.verdicts.items()))}}
    atomic_write(checkpoint_path(out), json.dumps(data, indent=1, sort_keys=True) + "\n")


"""(line, subject id, verdict, rule ids, json text); verdict None means the json is an error line."""


def default_engine() -> Any:
    """The engine batch runs use by default: the built-in rulebook on the batch evaluator."""
    from sanctions.evaluate.rowbatch import BatchEvaluator
    from sanctions.engine import Engine

    engine = Engine(evaluator="reference")
    engine.evaluator = BatchEvaluator(engine.rulebook.compiled)
    return engine


def engine_with_rules(rules: tuple[str, ...] = ()) -> Any:
    """An engine on the built-in rules plus rule packs ``rules``, batch evaluator. Picklable through
    ``functools.partial(engine_with_rules, ("path/to/pack",))``: the ``engine_factory`` for ``--rules``."""
    from sanctions.evaluate.rowbatch import BatchEvaluator
    from sanctions.engine import Engine

    engine = Engine(rules=rules, evaluator="reference")
    engine.evaluator = BatchEvaluator(engine.rulebook.compiled)
    return engine


_ENGINE: Any = None
_AS_OF: dt.date | None = None


def _die_with_parent(parent: int | None) -> None:
    """Make this worker end, quietly, when the batch process that started it dies (a SIGKILLed parent must not
    leave workers behind that print tracebacks into its terminal)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it stops the pool
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: the kernel kills us when the parent goes
        except (OSError, AttributeError):
            pass
    if parent is not None and os.getppid() != parent:  # the parent died before the death signal was armed
        os._exit(0)


def _parent_pid() -> int | None:
    """This process's pid where workers are its direct children (fork, spawn), else None (forkserver)."""
    return None if mp.get_start_method() == "forkserver" else os.getpid()


def _init_worker(factory: Callable[[], Any], as_of: dt.date | None, parent: int | None = None) -> None:
    global _ENGINE, _AS_OF
    _die_with_parent(parent)
    _ENGINE = factory()
    _AS_OF = as_of


class InternalError(InvalidInput):
    """A record the engine failed on (a bug, not the user's data): reported in its place, the run goes on."""

    code = "internal-error"


def _error_line(line: int, err: InvalidInput) -> Result:
    return (line, None, None, None, json.dumps({"line": line, "error": err.to_dict()}, sort_keys=True,
                                               ensure_ascii=False, separators=(",", ":")))


def judge_chunk(chunk: list[Record], source: str, engine: Any = None, as_of: dt.date | None = None
                ) -> list[Result]:
    """Judge one chunk of records; never raises for a bad record (it becomes an error result)."""
    from sanctions.exc import FieldProblem, InvalidTransfer
    from sanctions.explain import to_json
    from sanctions.model.reading import DuplicateKey, no_duplicate_keys
    from sanctions.model.records import parse_input

    engine = engine if engine is not None else _ENGINE
    as_of = as_of if as_of is not None else _AS_OF
    if getattr(engine, "columnar", False):  # sanctions.batch.columnar.ColumnarEngine
        return engine.judge(chunk, source, as_of, judge_chunk)  # type: ignore[no-any-return]
    out: list[Result] = []
    for line, payload in chunk:
        try:
            if isinstance(payload, InvalidInput):
                raise payload
            if isinstance(payload, str):
                try:
                    payload = json.loads(payload, object_pairs_hook=no_duplicate_keys)
                except DuplicateKey as err:
                    raise InvalidTransfer(f"key {err.key!r} appears twice in one object; a repeated key is "
                                          "ambiguous, so it is refused", source=source, record=line,
                                          problems=[FieldProblem(err.key, "key given twice", None)]) from None
                except json.JSONDecodeError as err:
                    raise _json_error(line, source, err) from None
            subject = parse_input(payload, source=source, record=line)
            d = engine.check(subject, as_of=as_of)
        except InvalidInput as err:
            out.append(_error_line(line, err.located(source=source, record=line)))
            continue
        except (KeyboardInterrupt, SystemExit, MemoryError):
            raise
        except Exception as err:  # one record that breaks the engine must not stop the others: report it
            out.append(_error_line(line, InternalError(
                f"internal error judging this record: {type(err).__name__}: {err}; please report it",
                source=source, record=line)))
            continue
        out.append((line, d.subject["id"], d.verdict, sorted(f.rule_id for f in d.findings),
                    to_json(d, indent=None)))
    return out


def _judge_in_worker(chunk: list[Record], source: str) -> list[Result]:
    return judge_chunk(chunk, source)


# ----------------------------------------------------------------------------------------------------------------
# Writers
# ----------------------------------------------------------------------------------------------------------------


class _Progress:
    def __init__(self, stream: IO[str], size_of: Callable[[], float] | None) -> None:
        self.stream = stream
        self.size_of = size_of
        self.fraction: float | None = None
        self.t0 = time.monotonic()
        self.last = 0.0

    def update(self, done: int, *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self.last < 0.2:
            return
        self.last = now
        frac = self.size_of() if self.size_of else self.fraction
        rate = done / (now - self.t0) if now > self.t0 else 0.0
        if frac is not None:
            frac = min(max(frac, 0.0), 1.0) if not final else 1.0
            filled = int(frac * 30)
            bar = f"[{'#' * filled}{'.' * (30 - filled)}] {frac * 100:5.1f}% "
        else:
            bar = ""
        self.stream.write(f"\r{bar}{done:,} records, {rate:,.0f}/s")
        if final:
            self.stream.write("\n")
        self.stream.flush()


# ----------------------------------------------------------------------------------------------------------------
# The public function
# ----------------------------------------------------------------------------------------------------------------


def _chunks(records: Iterator[Record], size: int) -> Iterator[list[Record]]:
    chunk: list[Record] = []
    for r in records:
        chunk.append(r)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def check_file(
    path: str | os.PathLike[str],
    *,
    out: str | os.PathLike[str] | IO[str],
    fmt_in: FmtIn | None = None,
    fmt_out: FmtOut = "jsonl",
    engine_factory: Callable[[], Any] | None = None,
    workers: int | None = None,
    as_of: dt.date | None = None,
    chunk_size: int = CHUNK,
    progress: bool | None = None,
    quiet: bool = False,
    resume: bool = False,
    evaluator: str = "columnar",
) -> BatchSummary:
    """Judge every transfer or deal in a file and write one output line (or row) per record, in input order.

    Args:
        path: Input file (``-`` is not supported: the pool needs a seekable source for progress; use a file).
        out: Output file path (or, for ``jsonl``, an open text stream).
        fmt_in: ``jsonl``, ``csv`` or ``parquet``; by default from the file name (``.csv``, ``.parquet``,
            otherwise JSON Lines).
        fmt_out: ``jsonl`` or ``parquet``.
        engine_factory: A picklable callable (a module-level function or :func:`functools.partial`) that
            builds the :class:`~sanctions.Engine`; called once per worker. Default: :func:`default_engine`.
        workers: Worker processes; ``None`` for one per core, ``0`` or ``1`` to judge in this process.
        as_of: Judge every record under the law in force on this date.
        chunk_size: Records per chunk.
        progress: Show a progress bar on stderr; default: only when stderr is a terminal.
        quiet: Do not print the summary to stderr.
        resume: Continue the interrupted run that wrote ``out`` (see "Interruption and resuming" above);
            its checkpoint must match the input and the output.
        evaluator: ``columnar`` (default: :mod:`sanctions.batch.columnar`, the same output, the clear lines
            decided as columns and the rest on the row path) or ``row`` (every record through ``Engine.check``).

    Returns:
        The :class:`BatchSummary` (also printed to stderr as one line).

    Raises:
        InvalidInput: When the file as a whole cannot be read (unknown format, unknown flat columns), or
            ``resume`` finds no checkpoint or one that does not match the input and output.
            Bad *records* never raise: each becomes an error line and the run goes on.
    """
    t0 = time.monotonic()
    source = os.fspath(path)
    fmt = fmt_in or _guess(source)
    if fmt not in ("jsonl", "csv", "parquet"):
        raise InvalidInput(f"unknown input format {fmt!r}; use jsonl, csv or parquet")
    if fmt_out not in ("jsonl", "parquet"):
        raise InvalidInput(f"unknown output format {fmt_out!r}; use jsonl or parquet")
    _check_paths(source, out)
    if fmt == "jsonl":
        _not_one_document(source)
    if fmt == "parquet":
        open_parquet(source, source)  # pyarrow installed, and a Parquet file: said plainly before any work
    special = not hasattr(out, "write") and _is_special(os.fspath(out))  # type: ignore[arg-type]
    committed = fmt == "jsonl" and fmt_out == "jsonl" and not hasattr(out, "write") and not special
    if resume and not committed:
        raise InvalidInput("resuming needs JSON Lines input and a JSON Lines output file", source=source)
    factory = engine_factory or default_engine
    if evaluator not in ("columnar", "row"):
        raise InvalidInput(f"unknown batch evaluator {evaluator!r}; use columnar or row")
    if evaluator == "columnar" and not _columnar_available():
        evaluator = "row"  # the columnar path needs pyarrow and NumPy (an optional extra); same output without
    if evaluator == "columnar":
        from sanctions.batch.columnar import COLUMNAR_CHUNK, ColumnarFactory

        factory = ColumnarFactory(factory)
        chunk_size = COLUMNAR_CHUNK if chunk_size == CHUNK else chunk_size
    n_workers = (os.cpu_count() or 1) if workers is None else workers
    probe = factory() if committed or n_workers <= 1 else None
    options = _options(probe, as_of, fmt) if probe is not None else {}
    summary = BatchSummary(workers=n_workers if n_workers > 1 else 0)
    show = sys.stderr.isatty() if progress is None else progress
    size = os.path.getsize(source) if fmt != "parquet" and os.path.isfile(source) else 0
    out_path = os.fspath(out) if committed else ""  # type: ignore[arg-type]
    start = _Resume(_Prefix(), 0, hashlib.sha256(), BatchSummary(), False)
    if committed and not resume:
        checkpoint_path(out_path).unlink(missing_ok=True)  # a fresh run: an old checkpoint describes nothing now
    if resume:
        start = _load_checkpoint(source, out_path, options)
        summary.read, summary.judged, summary.rejected = start.summary.read, start.summary.judged, \
            start.summary.rejected
        summary.verdicts, summary.resumed = dict(start.summary.verdicts), start.summary.resumed

    try:
        return _run(source, out, out_path, fmt, fmt_out, factory, n_workers, as_of, chunk_size, show, size,
                    committed, start, summary, options, probe, quiet, t0)
    except OSError as err:
        raise _environment_error(err, source, out) from None


def _run(source: str, out: Any, out_path: str, fmt: str, fmt_out: str, factory: Callable[[], Any],
         n_workers: int, as_of: dt.date | None, chunk_size: int, show: bool, size: int, committed: bool,
         start: _Resume, summary: BatchSummary, options: dict[str, Any], probe: Any, quiet: bool,
         t0: float) -> BatchSummary:
    stack: list[Any] = []
    bar: _Progress | None = None
    at: _Prefix | None = None
    try:
        chunks: Iterator[tuple[list[Record], Any]]
        if fmt == "jsonl":
            fb = open(source, "rb")
            stack.append(fb)
            bar = _Progress(sys.stderr, (lambda: fb.tell() / size) if size else None) if show else None
            if committed:
                at = start.prefix
                fb.seek(at.offset)
                chunks = _tracked_chunks(_read_jsonl_tracked(fb, source, at), chunk_size, at)
            else:
                chunks = ((c, None) for c in _chunks(read_jsonl(fb, source), chunk_size))
        elif fmt == "csv":
            ft = open(source, encoding="utf-8", newline="")
            stack.append(ft)
            bar = _Progress(sys.stderr, (lambda: ft.buffer.tell() / size) if size else None) if show else None
            chunks = ((c, None) for c in _chunks(read_csv(ft, source), chunk_size))
        else:
            bar = _Progress(sys.stderr, None) if show else None
            if getattr(factory, "columnar", False):  # Arrow record batches, no Python object per row
                from sanctions.batch.columnar import flat_chunks

                chunks = ((c, None) for c in flat_chunks(source, "parquet", rows=chunk_size * 10))
            else:
                chunks = ((c, None) for c in _chunks(read_parquet(source, source, bar), chunk_size))
        writer: Any
        if committed:
            writer = _CommittedJsonlWriter(out_path, start.out_bytes, start.out_sha)
        else:
            writer = _JsonlWriter(out) if fmt_out == "jsonl" else _ParquetWriter(out)  # type: ignore[arg-type]
        last: list[Any] = [None]

        def consume(results: list[Result], snap: Any) -> None:
            writer.write(results)
            report = getattr(results, "report", None)  # the columnar path's counts
            if report is not None:
                summary.columnar += report.columnar
                for why, n in report.routed.items():
                    summary.routed[why] = summary.routed.get(why, 0) + n
            for r in results:
                summary.read += 1
                if r[2] is None:
                    summary.rejected += 1
                    summary.internal += '"code":"internal-error"' in r[4]
                else:
                    summary.judged += 1
                    summary.verdicts[r[2]] = summary.verdicts.get(r[2], 0) + 1
            if committed:
                last[0] = snap
                _write_checkpoint(source, out_path, snap, writer.bytes, writer.sha, summary, False, options)
            if bar:
                bar.update(summary.read)

        try:
            if start.complete:
                pass
            elif n_workers <= 1:
                engine = probe
                for chunk, snap in chunks:
                    consume(judge_chunk(chunk, source, engine, as_of), snap)
            else:
                with mp.get_context().Pool(n_workers, initializer=_init_worker,
                                          initargs=(factory, as_of, _parent_pid())) as pool:
                    _pipeline(lambda chunk: pool.apply_async(_judge_in_worker, (chunk, source)), chunks, consume,
                              n_workers)
            if committed:
                snap = last[0] if last[0] is not None else start.prefix.snapshot()
                _write_checkpoint(source, out_path, snap, writer.bytes, writer.sha, summary, True, options)
        finally:
            writer.close()
    finally:
        for f in stack:
            f.close()
    summary.seconds = time.monotonic() - t0
    if bar:
        bar.update(summary.read, final=True)
    if not quiet:
        print(summary.render(), file=sys.stderr)
    return summary


IN_FLIGHT_RECORDS = 30_000
"""About this many records at most are in flight at once (sent to the workers, or judged and not yet written), but
never fewer than ``workers + 1`` chunks; never more than ``2 * workers + 2`` chunks either."""


def _records_in(chunk: Any) -> int:
    """Records in a chunk: its length, or the transfers of a flat chunk (whose length is its rows)."""
    return int(getattr(chunk, "records", None) or len(chunk))


def _pipeline(submit: Callable[[Any], Any], chunks: Iterable[tuple[Any, Any]], consume: Callable[[Any, Any], None],
              n_workers: int, budget: int | None = None) -> int:
    """Submit chunks (``submit(chunk)`` returns something with ``get()``) and hand each result to ``consume`` with
    its snapshot, strictly in input order, holding at most ``budget`` records in flight (see
    :data:`IN_FLIGHT_RECORDS`). Returns the most records that were in flight at once.

    The parent process holds every chunk in flight and, once judged, its results (about 5 kB of decision text per
    record) until they are written: the budget, not the number of chunks, is what bounds its memory."""
    budget = IN_FLIGHT_RECORDS if budget is None else budget
    window: deque[tuple[Any, Any, int]] = deque()
    held = peak = 0
    most = 2 * n_workers + 2

    def drain_one() -> None:
        nonlocal held
        job, snap, n = window.popleft()
        held -= n
        consume(job.get(), snap)  # the job (and so its results) is released when this returns

    for chunk, snap in chunks:
        n = _records_in(chunk)
        while window and (len(window) >= most or (len(window) > n_workers and held + n > budget)):
            drain_one()
        window.append((submit(chunk), snap, n))
        held += n
        peak = max(peak, held)
        del chunk  # the pool has it now
    while window:
        drain_one()
    return peak


def _check_paths(source: str, out: Any) -> None:
    """Refuse, before anything is written, an input that is not a readable file and an output that cannot be
    written or that is the input itself (writing it would empty the input)."""
    if not os.path.exists(source):
        raise InvalidInput("no such input file", source=source)
    if os.path.isdir(source):
        raise InvalidInput("the input is a folder; give a JSON Lines, CSV or Parquet file", source=source)
    if hasattr(out, "write"):
        return
    target = os.fspath(out)
    parent = os.path.dirname(os.path.abspath(target))
    if not os.path.isdir(parent):
        raise InvalidInput(f"the output folder {parent} does not exist; create it first", source=target)
    if os.path.isdir(target):
        raise InvalidInput("the output is a folder; give a file name", source=target)
    if os.path.exists(target) and os.path.samefile(source, target):
        raise InvalidInput(f"the output is the input file ({source}): writing it would destroy the input; "
                           "choose another --out", source=target)


def _not_one_document(source: str) -> None:
    """Refuse, with the reason, a JSON Lines input that is really one JSON document (a pretty-printed object or
    an array): read as lines, every one of its lines would be rejected."""
    with open(source, "rb") as f:
        first = b""
        for raw in f:
            if raw.strip():
                first = raw.strip()
                break
        if not first:
            return
        try:
            value = json.loads(first)
        except ValueError:
            if first[:1] not in (b"{", b"[") or os.path.getsize(source) > 64 * 1024 * 1024:
                return
            f.seek(0)
            try:
                value = json.loads(f.read())
            except ValueError:
                return
            kind = "an array" if isinstance(value, list) else "one JSON document"
            raise InvalidInput(f"the input is {kind} spread over several lines, not JSON Lines (one record per "
                               "line): judge it with 'check-transfer FILE', or write one record per line (e.g. "
                               "jq -c '.[]')", source=source) from None
    if isinstance(value, list):
        raise InvalidInput("the first line is a JSON array, not one record: JSON Lines has one transfer or deal "
                           "per line (e.g. jq -c '.[]'), or judge the array with 'check-transfer FILE'",
                           source=source, record=1)


def _columnar_available() -> bool:
    try:
        import numpy  # noqa: F401
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def _is_special(path: str) -> bool:
    """True for an existing output that is not a regular file (/dev/null, a FIFO, a device): written directly,
    with no checkpoint beside it."""
    try:
        return not stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        return False


def _options(engine: Any, as_of: dt.date | None, fmt: str) -> dict[str, Any]:
    """What a checkpoint records of the run's options: everything that changes a decision or its bytes."""
    rulebook = getattr(engine, "rulebook", None)
    name = getattr(engine, "evaluator_name", None)
    return {"rulebook": getattr(rulebook, "digest", None), "evaluator": name if isinstance(name, str) else None,
            "regimes": sorted(getattr(rulebook, "regimes", None) or []) or None,
            "as_of": as_of.isoformat() if as_of else None, "format_in": fmt}


def _environment_error(err: OSError, source: str, out: Any) -> InvalidInput:
    """An OSError of the machine (full or read-only disk, permissions) as a message that says what to do."""
    where = err.filename or (os.fspath(out) if not hasattr(out, "write") else source)
    hint = {errno.ENOSPC: "the disk is full: free some space, then run again with --resume",
            errno.EDQUOT: "the disk quota is used up: free some space, then run again with --resume",
            errno.EROFS: "the file system is read-only: choose an --out on a writable disk",
            errno.EACCES: "permission denied: choose an --out you may write, or check the file's permissions",
            errno.EPERM: "operation not permitted: choose another --out"}.get(err.errno or 0, "")
    text = f"cannot read or write {where}: {err.strerror or err}"
    return InvalidInput(text + (f"; {hint}" if hint else ""), source=str(where))


def _tracked_chunks(records: Iterator[Record], size: int, at: _Prefix) -> Iterator[tuple[list[Record], Any]]:
    """Chunks, each with the input prefix consumed up to its last record (taken before reading further)."""
    chunk: list[Record] = []
    for r in records:
        chunk.append(r)
        if len(chunk) >= size:
            yield chunk, at.snapshot()
            chunk = []
    if chunk:
        yield chunk, at.snapshot()


def check_records(records: Iterable[dict[str, Any]], *, engine: Any = None, as_of: dt.date | None = None,
                  source: str = "<records>") -> Iterator[Result]:
    """Judge JSON-like records in this process, yielding results in order (the path Dask partitions use)."""
    engine = engine if engine is not None else default_engine()
    for chunk in _chunks(((n, r) for n, r in enumerate(records, 1)), CHUNK):
        yield from judge_chunk(chunk, source, engine, as_of)


__all__ = ["BatchSummary", "CHUNK", "FLAT_COLUMNS", "check_file", "checkpoint_path", "check_records", "default_engine", "engine_with_rules", "flatten",
           "judge_chunk", "read_csv", "read_jsonl", "read_parquet"]
