"""AEDAT 4.0 (iniVation DV) through the ``aedat`` package (a Rust decoder; ``pip install spikesmith[events]``).

The file holds several streams (events, frames, IMU, triggers); the polarity events of one
``events`` stream are returned (the first, or ``stream_id``) with the sensor size that stream
declares. Times are Unix time in microseconds, as stored. Whatever the decoder raises (Rust
panics included) becomes an :class:`~spikesmith.events.formats.EventFileError` naming the file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from spikesmith.events.core import EVENT_DTYPE, check_events, check_sensor_size
from spikesmith.events.formats._common import fail

FORMAT = "AEDAT 4"
VERSION_LINE = b"#!AER-DAT4.0"
INSTALL_HINT = "reading AEDAT 4 files needs the 'aedat' package: pip install 'spikesmith[events]' (or pip install aedat)"


def _decoder_class() -> Any:
    try:
        import aedat
    except ImportError as err:
        raise ImportError(INSTALL_HINT) from err
    return aedat.Decoder


def read(path: str | os.PathLike, stream_id: int | None = None,
         sensor_size: Any = None) -> tuple[np.ndarray, tuple[int, int, int]]:
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
    except ValueError:
        raise
    except BaseException as err:  # the Rust decoder raises OSError, RuntimeError or PanicException
        if isinstance(err, (KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError)):
            raise
        raise fail(path, FORMAT, f"the aedat decoder failed: {type(err).__name__}: {err}") from None
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
    return events, sensor_size
