"""AEDAT 4.0 (iniVation DV) through the ``aedat`` package (a Rust decoder; ``pip install spikesmith[events]``).

The file holds several streams (events, frames, IMU, triggers); the polarity events of one
``events`` stream are returned (the first, or ``stream_id``) with the sensor size that stream
declares. Times are Unix time in microseconds, as stored. Whatever the decoder raises (Rust
panics included) becomes an :class:`~spikesmith.events.formats.EventFileError` naming the file.

A Rust panic prints ``thread '<unnamed>' panicked at ...`` and, with ``RUST_BACKTRACE`` set, a
full backtrace straight to file descriptor 2, past Python. So while the decoder runs, fd 2 goes to
a temporary file (and ``RUST_BACKTRACE`` is 0): on a failure the panic's one-line message goes
into the error and the rest into the error's ``decoder_output`` attribute; on success whatever
the decoder wrote is passed on to stderr unchanged. (Output that other threads write to fd 2
during a decode is delayed, not lost.)

**What this format can detect.** The decoder checks the packet framing (sizes, FlatBuffers
tables) and, for compressed files, the LZ4 / ZSTD frames; a cut anywhere inside a packet fails.
A file cut exactly between packets reads short, and a flipped bit inside an uncompressed event
payload that keeps the event on the sensor and in time order is accepted.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from spikesmith.events.core import EVENT_DTYPE, check_events, check_sensor_size
from spikesmith.events.formats._common import EventFileError, DEFAULT_TIMESTAMPS, apply_timestamp_policy, fail

FORMAT = "AEDAT 4"
VERSION_LINE = b"#!AER-DAT4.0"
INSTALL_HINT = "reading AEDAT 4 files needs the 'aedat' package: pip install 'spikesmith[events]' (or pip install aedat)"


def _decoder_class() -> Any:
    try:
        import aedat
    except ImportError as err:
        raise ImportError(INSTALL_HINT) from err
    return aedat.Decoder


@contextlib.contextmanager
def _decoder_stderr() -> Iterator[list[str]]:
    """Send fd 2 to a temporary file (and set RUST_BACKTRACE=0) while the Rust decoder runs.

    Yields a list that receives the captured text when the block ends; the caller decides whether
    to show it (success) or fold it into its error (failure).
    """
    captured: list[str] = []
    try:
        sys.stderr.flush()
        saved_fd = os.dup(2)
    except (OSError, ValueError, AttributeError):   # no usable fd 2: nothing to capture
        yield captured
        return
    saved_env = os.environ.get("RUST_BACKTRACE")
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        os.environ["RUST_BACKTRACE"] = "0"
        try:
            yield captured
        finally:
            os.dup2(saved_fd, 2)
            os.close(saved_fd)
            if saved_env is None:
                os.environ.pop("RUST_BACKTRACE", None)
            else:
                os.environ["RUST_BACKTRACE"] = saved_env
            tmp.seek(0)
            captured.append(tmp.read().decode("utf-8", "replace"))


def _panic_message(output: str) -> str:
    """The one line that says why the decoder panicked (the line after ``panicked at ...:``)."""
    lines = [line.strip() for line in output.splitlines()]
    for i, line in enumerate(lines):
        if "panicked at" in line:
            return next((m for m in lines[i + 1:] if m), line)
    return ""


def _decode(decoder_cls: Any, p: Path, path: Any, stream_id: int | None, chunks: list[np.ndarray]) -> dict:
    """Run the decoder, appending the wanted stream's event packets to ``chunks``; the stream's info.

    Everything the decoder raises becomes an :class:`EventFileError`.
    """
    try:
        decoder = decoder_cls(str(p))
        streams = decoder.id_to_stream()
        ids = sorted(k for k, v in streams.items() if v.get("type") == "events")
        if stream_id is None:
            if not ids:
                raise fail(path, FORMAT, f"no events stream (streams: {streams})")
            stream_id = ids[0]
        elif stream_id not in ids:
            raise fail(path, FORMAT, f"stream_id {stream_id} is not an events stream; events streams: {ids}")
        info = streams[stream_id]
        for packet in decoder:
            if packet.get("stream_id") == stream_id and "events" in packet:
                chunks.append(packet["events"])
    except EventFileError:
        raise
    except BaseException as err:  # the Rust decoder raises OSError, RuntimeError or PanicException
        if isinstance(err, (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError)):
            raise
        message = str(err).strip().splitlines()[0] if str(err).strip() else ""
        raise fail(path, FORMAT, f"the aedat decoder failed: {type(err).__name__}: {message}") from None
    return info


def read(path: str | os.PathLike, stream_id: int | None = None, sensor_size: Any = None,
         timestamps: str = DEFAULT_TIMESTAMPS) -> tuple[np.ndarray, tuple[int, int, int]]:
    """Read the polarity events of an AEDAT 4 file: ``(events, sensor_size)`` in file order.

    Raises:
        ImportError: the ``aedat`` package is missing (the message names the extra).
        EventFileError: (a ValueError) the decoder rejects the file, no events stream, or a
            ``stream_id`` that is not an events stream.
        FileNotFoundError: no such file.
    """
    decoder_cls = _decoder_class()
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{FORMAT} file {str(path)!r} does not exist")
    with open(p, "rb") as f:
        head = f.read(len(VERSION_LINE))
    if head != VERSION_LINE:
        raise fail(path, FORMAT, f"does not start with {VERSION_LINE.decode()!r}")
    chunks: list[np.ndarray] = []
    failure: EventFileError | None = None
    with _decoder_stderr() as output:
        try:
            info = _decode(decoder_cls, p, path, stream_id, chunks)
        except EventFileError as err:
            failure = err
    text = output[0] if output else ""
    if failure is None and text:
        sys.stderr.write(text)          # the decoder's own messages on success are not ours to drop
    if failure is not None:
        if "decoder failed" in str(failure) or "panicked" in text:
            panic = _panic_message(text)
            if panic:
                failure = fail(path, FORMAT, f"the aedat decoder panicked: {panic} (corrupt file?)")
            failure.decoder_output = text  # type: ignore[attr-defined]
        raise failure
    total = sum(len(c) for c in chunks)
    events = np.empty(total, dtype=EVENT_DTYPE)
    i = 0
    for c in chunks:
        k = len(c)
        events["x"][i:i + k] = c["x"]
        events["y"][i:i + k] = c["y"]
        events["t"][i:i + k] = c["t"]
        events["p"][i:i + k] = c["on"] if "on" in c.dtype.names else c["p"]
        i += k
    if sensor_size is None:
        sensor_size = (int(info["width"]), int(info["height"]), 2)
    sensor_size = check_sensor_size(sensor_size)
    try:
        check_events(events, sensor_size)
    except ValueError as err:
        raise fail(path, FORMAT, str(err)) from None
    return apply_timestamp_policy(events, path, FORMAT, timestamps), sensor_size
