"""Run reliability cases in forked workers and count how each one ends.

A probe module lists cases; each case is a callable that feeds spikesmith one bad input (a
bit-flipped file, a hostile size, a NaN hyper-parameter...) and checks what came back::

    import harness

    def cases():
        return [harness.Case("checkpoint", f"flip-{i}", lambda i=i: load_flipped(i)) for i in range(400)]

    if __name__ == "__main__":
        harness.main(cases)

How a case ends:

``valid``        ``run()`` returned None: the result is correct (the callable checked it).
``clean error``  it raised an exception from spikesmith's own code that is not a bug type
                 (``ValueError``, ``OSError``, ``MemoryError`` we raised, a warning made an error...).
``raw error``    it raised from inside a dependency, or a bug type (``IndexError``, ``KeyError``,
                 ``AttributeError``, ``ZeroDivisionError``...): the user sees a traceback that does
                 not say what to fix.
``memory``       an allocation failed under the worker's memory bound: the input forced a huge
                 allocation before anything checked it.
``crash``        the worker died (a signal such as SIGSEGV, or a non-zero exit).
``hang``         no answer within the case's timeout.
``wrong``        ``run()`` returned ``"wrong: why"``: a silent wrong result.
                 (``"hang: why"`` is a hang the case timed itself, and ``"clean: message"`` a clean
                 error another process printed: a job of several processes.)
``lost``         ``run()`` returned ``"lost: why"``: data the user had is gone.

Cases run in order in a forked child (so closures work and torch is imported once); the parent
reads one line per case through a pipe. A crash or hang costs one case: the parent starts a new
child at the next case. The memory bound is ``RLIMIT_AS`` over what the worker maps at start.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import select
import signal
import sys
import time
import traceback
from collections import Counter
from typing import Callable, Iterable

OUTCOMES = ("valid", "clean error", "raw error", "memory", "crash", "hang", "wrong", "lost")
BUG_TYPES = (
    IndexError, KeyError, AttributeError, ZeroDivisionError, NameError, UnboundLocalError,
    AssertionError, RecursionError, NotImplementedError, SystemError, UnicodeError,
)
ALLOCATION_MESSAGES = ("can't allocate memory", "cannot allocate memory", "out of memory", "bad_alloc")


@dataclasses.dataclass(frozen=True)
class Case:
    category: str
    name: str
    run: Callable[[], str | None]
    timeout_s: float = 20.0


@dataclasses.dataclass
class Result:
    category: str
    name: str
    outcome: str
    detail: str = ""


def _is_ours(tb) -> bool:
    """True when the innermost Python frame that raised belongs to the spikesmith package."""
    frames = traceback.extract_tb(tb)
    if not frames:
        return False
    return f"{os.sep}spikesmith{os.sep}" in frames[-1].filename


def classify_exception(exc: BaseException) -> tuple[str, str]:
    message = f"{type(exc).__name__}: {exc}".splitlines()[0][:300] if str(exc) else type(exc).__name__
    text = str(exc).lower()
    ours = _is_ours(exc.__traceback__)
    if isinstance(exc, MemoryError) and not ours:
        return "memory", message
    if isinstance(exc, RuntimeError) and any(m in text for m in ALLOCATION_MESSAGES) and not ours:
        return "memory", message
    if isinstance(exc, BUG_TYPES) and not isinstance(exc, _clean_subclasses()):
        return "raw error", message
    if ours:
        return "clean error", message
    return "raw error", message


def _clean_subclasses() -> tuple[type, ...]:
    """Error classes of ours that inherit from a bug type for compatibility (e.g. a registry's
    unknown-name error is also a KeyError so old ``except KeyError`` code keeps working)."""
    classes: list[type] = []
    try:
        from spikesmith.registry import UnknownNameError
        from spikesmith.typeregistry import UnknownTypeError

        classes += [UnknownNameError, UnknownTypeError]
    except ImportError:  # pragma: no cover - the harness still works on an older tree
        pass
    return tuple(classes)


def _run_one(case: Case) -> tuple[str, str]:
    try:
        verdict = case.run()
    except SystemExit as exc:  # argparse's usage error: one line naming the flag, exit status 2
        return ("clean error", f"exit {exc.code} (usage error)") if exc.code == 2 else ("crash", f"exit {exc.code}")
    except Exception as exc:  # noqa: BLE001 - classifying every exception is the point
        return classify_exception(exc)
    if verdict is None:
        return "valid", ""
    verdict = str(verdict)
    kind, _, why = verdict.partition(":")
    if kind.strip() in ("wrong", "lost", "hang"):
        return kind.strip(), why.strip()
    if kind.strip() == "clean":
        return "clean error", why.strip()
    raise ValueError(f"case returned {verdict!r}; return None, 'wrong: why', 'lost: why', 'hang: why' or "
                     f"'clean: message'")


def _worker(cases: list[Case], start: int, write_fd: int, memory_bytes: int | None) -> None:
    if memory_bytes is not None:
        mapped = _mapped_bytes()
        resource.setrlimit(resource.RLIMIT_AS, (mapped + memory_bytes, resource.RLIM_INFINITY))
    os.environ.setdefault("RUST_BACKTRACE", "0")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)  # a dependency's own stderr noise is not the table's business
    with os.fdopen(write_fd, "w", buffering=1) as out:
        for index in range(start, len(cases)):
            out.write(json.dumps({"start": index}) + "\n")
            outcome, detail = _run_one(cases[index])
            out.write(json.dumps({"index": index, "outcome": outcome, "detail": detail}) + "\n")
    os._exit(0)


def _mapped_bytes() -> int:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[0])
    return pages * os.sysconf("SC_PAGE_SIZE")


def run_cases(cases: list[Case], memory_gb: float | None = 2.0, progress: bool = True) -> list[Result]:
    """Run every case; return one Result per case, in order."""
    memory_bytes = None if memory_gb is None else int(memory_gb * 2**30)
    results: dict[int, Result] = {}
    next_index = 0
    bar = _progress(len(cases)) if progress else None
    while next_index < len(cases):
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # child
            os.close(read_fd)
            try:
                _worker(cases, next_index, write_fd, memory_bytes)
            finally:
                os._exit(70)
        os.close(write_fd)
        reader = os.fdopen(read_fd, "r")
        current, started = None, time.monotonic()
        buffer = ""
        while True:
            timeout = cases[current].timeout_s if current is not None else 120.0
            remaining = timeout - (time.monotonic() - started)
            ready, _, _ = select.select([reader], [], [], max(remaining, 0.0))
            if not ready:  # hang
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                if current is not None:
                    results[current] = Result(cases[current].category, cases[current].name, "hang",
                                              f"no answer in {timeout:g} s")
                    next_index = current + 1
                    _tick(bar)
                break
            chunk = os.read(reader.fileno(), 65536).decode()
            if not chunk:  # the child exited or died
                _, status = os.waitpid(pid, 0)
                if current is not None:
                    how = (f"signal {signal.Signals(os.WTERMSIG(status)).name}" if os.WIFSIGNALED(status)
                           else f"exit {os.WEXITSTATUS(status)}")
                    results[current] = Result(cases[current].category, cases[current].name, "crash", how)
                    next_index = current + 1
                    _tick(bar)
                else:
                    next_index = len(cases)
                break
            buffer += chunk
            while "\n" in buffer:
                line, buffer = buffer.split("\n", 1)
                message = json.loads(line)
                if "start" in message:
                    current, started = message["start"], time.monotonic()
                else:
                    index = message["index"]
                    results[index] = Result(cases[index].category, cases[index].name,
                                            message["outcome"], message["detail"])
                    current = None
                    next_index = index + 1
                    _tick(bar)
        reader.close()
    if bar is not None:
        bar.close()
    return [results[i] for i in range(len(cases))]


def _progress(total: int):
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover
        return None
    return tqdm(total=total, desc="cases", unit="case", file=sys.stderr, leave=False)


def _tick(bar) -> None:
    if bar is not None:
        bar.update(1)


def table(results: Iterable[Result], by_prefix: bool = False) -> str:
    """A markdown table: one row per category, one column per outcome, plus a total row.
    ``by_prefix``: one row per category prefix (``files/nmnist cut`` counts under ``files``)."""
    per_category: dict[str, Counter] = {}
    for r in results:
        key = r.category.split("/")[0] if by_prefix else r.category
        per_category.setdefault(key, Counter())[r.outcome] += 1
    header = "| category | tried | " + " | ".join(OUTCOMES) + " |"
    rule = "|---" * (len(OUTCOMES) + 2) + "|"
    rows = [header, rule]
    total = Counter()
    for category, counts in per_category.items():
        total.update(counts)
        rows.append(f"| {category} | {sum(counts.values())} | "
                    + " | ".join(str(counts[o]) for o in OUTCOMES) + " |")
    rows.append("| **all** | " + str(sum(total.values())) + " | "
                + " | ".join(str(total[o]) for o in OUTCOMES) + " |")
    return "\n".join(rows)


def main(make_cases: Callable[[], list[Case]], argv: list[str] | None = None) -> list[Result]:
    parser = argparse.ArgumentParser(description="Run reliability cases and print a table of outcomes.")
    parser.add_argument("--json", help="also write every case's outcome to this JSON file")
    parser.add_argument("--memory-gb", type=float, default=2.0,
                        help="address-space bound per worker above its size at start (default 2)")
    parser.add_argument("--show", default="raw error,memory,crash,hang,wrong,lost",
                        help="outcomes whose cases are listed under the table")
    parser.add_argument("--only", help="run only categories whose name contains this text")
    parser.add_argument("--by-prefix", action="store_true",
                        help="one table row per category prefix (the part before '/')")
    args = parser.parse_args(argv)
    cases = make_cases()
    if args.only:
        cases = [c for c in cases if args.only in c.category]
    start = time.monotonic()
    results = run_cases(cases, memory_gb=args.memory_gb)
    print(table(results, by_prefix=args.by_prefix))
    print(f"\n{len(results)} cases in {time.monotonic() - start:.1f} s, load average "
          f"{os.getloadavg()[0]:.2f}")
    shown = {s.strip() for s in args.show.split(",") if s.strip()}
    for r in results:
        if r.outcome in shown:
            print(f"  {r.outcome:11s} {r.category}/{r.name}: {r.detail}")
    if args.json:
        from spikesmith.atomic import write_text

        write_text(args.json, json.dumps([dataclasses.asdict(r) for r in results], indent=1))
    return results
