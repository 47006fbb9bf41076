"""Content checksums of checkpoints: a damaged file is an error, not a network with other weights.

Every checkpoint the project writes (training, STDP, hybrid, converted) carries, under ``CHECKSUM_KEY``,
the SHA-256 digest of a canonical serialisation of everything else in it::

    {"algorithm": "sha256", "serialisation": "spikesmith-canonical-1", "digest": "9f86d0..."}

The serialisation depends on the values only, not on how ``torch.save`` laid them out: every value
is written as a type tag and its content (a tensor as its dtype, shape and raw bytes in C order; a
float as its exact hex form; a mapping as its items sorted by key), so the digest of a payload is the
same before the save and after the load, on any device. A single changed bit in a weight, a key, a
number or a string changes the digest.

    >>> ckpt = seal({"state_dict": model.state_dict(), "epoch": 3})
    >>> verify(ckpt, "runs/a/checkpoint.pt")      # True; a mismatch raises DamagedCheckpointError

A checkpoint written before checksums existed has none: it loads with a one-line
``UnverifiedCheckpointWarning`` (saving it again adds one).
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import torch

from .typeregistry import TypeRegistry

CHECKSUM_KEY = "checksum"
ALGORITHM = "sha256"
SERIALISATION = "spikesmith-canonical-1"

#: The digest algorithms a stored checksum may name (a newer version may add some).
ALGORITHMS: dict[str, Callable[[], Any]] = {"sha256": hashlib.sha256}


class DamagedCheckpointError(ValueError):
    """The checkpoint's content does not match the checksum stored in it."""


class UnverifiedCheckpointWarning(UserWarning):
    """A checkpoint without a checksum (written before checksums existed) was loaded unverified."""


# ----------------------------------------------------------------------------- canonical serialisation
def _token(tag: bytes, body: bytes) -> bytes:
    """A tag, the body's length and the body: no two different values give the same bytes."""
    return tag + str(len(body)).encode() + b":" + body


_ENCODERS: TypeRegistry[Callable[[Any, Any, str], None]] = TypeRegistry("checksum encoder")


def _feed(h, value: Any, where: str) -> None:
    encoder = _ENCODERS.get(value, None)
    if encoder is None:
        raise TypeError(f"cannot checksum {where}: a {type(value).__name__} is not a value a checkpoint holds "
                        f"(tensors, numbers, strings, None, lists, tuples and dicts of them)")
    encoder(h, value, where)


def _scalar(value: Any) -> bytes:
    """The canonical bytes of a dict key or a scalar value."""
    if value is None:
        return b"N"
    if isinstance(value, bool):
        return b"B1" if value else b"B0"
    if isinstance(value, int):
        return _token(b"I", str(value).encode())
    if isinstance(value, float):
        return _token(b"F", value.hex().encode())
    if isinstance(value, str):
        return _token(b"S", value.encode("utf-8", "surrogatepass"))
    if isinstance(value, (bytes, bytearray)):
        return _token(b"Y", bytes(value))
    if isinstance(value, (torch.dtype, torch.device)):
        return _token(b"E", str(value).encode())
    raise TypeError(f"a {type(value).__name__} cannot be a checkpoint's scalar or dict key")


def _feed_scalar(h, value: Any, where: str) -> None:
    h.update(_scalar(value))


def _feed_sequence(tag: bytes) -> Callable[[Any, Any, str], None]:
    def feed(h, value, where):
        h.update(_token(tag, str(len(value)).encode()))
        for i, item in enumerate(value):
            _feed(h, item, f"{where}[{i}]")
    return feed


def _feed_mapping(h, value: Mapping, where: str) -> None:
    try:
        items = sorted((_scalar(k), k) for k in value)
    except TypeError:
        raise TypeError(f"cannot checksum {where}: its keys must be strings, numbers or None") from None
    h.update(_token(b"D", str(len(items)).encode()))
    for key_bytes, key in items:
        h.update(key_bytes)
        _feed(h, value[key], f"{where}[{key!r}]")


#: sparse layouts as their parts, each a dense tensor (the liquid state machine stores its recurrent
#: weights as CSR); a layout added here gets its own tag, so no strided tensor's digest changes
_SPARSE_PARTS: dict[Any, tuple[bytes, Callable[[torch.Tensor], tuple]]] = {
    torch.sparse_csr: (b"csr", lambda t: (t.crow_indices(), t.col_indices(), t.values())),
    torch.sparse_coo: (b"coo", lambda t: (lambda c: (c.indices(), c.values()))(t.coalesce())),
}


def _feed_tensor(h, value: torch.Tensor, where: str) -> None:
    if value.layout in _SPARSE_PARTS:
        tag, parts = _SPARSE_PARTS[value.layout]
        h.update(_token(b"S", tag + f"{list(value.shape)}".encode()))
        for part in parts(value.detach()):
            _feed_tensor(h, part, where)
        return
    if value.layout != torch.strided or value.is_quantized:
        raise TypeError(f"cannot checksum {where}: a {value.layout} tensor; store it dense")
    t = value.detach().to("cpu").contiguous().reshape(-1)
    h.update(_token(b"X", f"{t.dtype}{list(value.shape)}".encode()))
    if t.numel():
        h.update(memoryview(t.view(torch.uint8).numpy()))


for _cls in (type(None), bool, int, float, str, bytes, bytearray, torch.dtype, torch.device):
    _ENCODERS.register(_cls, _feed_scalar)
_ENCODERS.register(list, _feed_sequence(b"L"))
_ENCODERS.register(tuple, _feed_sequence(b"T"))            # torch.Size too
_ENCODERS.register(Mapping, _feed_mapping)                 # dict, OrderedDict (state dicts)
_ENCODERS.register(dict, _feed_mapping)
_ENCODERS.register(torch.Tensor, _feed_tensor)             # nn.Parameter too


def digest(payload: Mapping, algorithm: str = ALGORITHM) -> str:
    """The hex digest of ``payload`` without its checksum entry, in the canonical serialisation."""
    h = ALGORITHMS[algorithm]()
    _feed(h, {k: v for k, v in payload.items() if k != CHECKSUM_KEY}, "the checkpoint")
    return h.hexdigest()


# ----------------------------------------------------------------------------- seal and verify
def seal(payload: Mapping) -> dict:
    """``payload`` (a new dict) with its checksum entry; change it afterwards and seal it again."""
    out = {k: v for k, v in payload.items() if k != CHECKSUM_KEY}
    out[CHECKSUM_KEY] = {"algorithm": ALGORITHM, "serialisation": SERIALISATION, "digest": digest(out)}
    return out


def _damaged_checksum_name(payload: Mapping):
    """A top-level entry whose name differs from ``CHECKSUM_KEY`` in exactly one character, if any."""
    for key in payload:
        if (isinstance(key, str) and len(key) == len(CHECKSUM_KEY)
                and sum(a != b for a, b in zip(key, CHECKSUM_KEY)) == 1):
            return key
    return None


def verify(payload: Mapping, where: str) -> bool:
    """Check the checksum stored in ``payload`` (read from ``where``, named in messages).

    True: it matches. False: there is none (an older checkpoint), after a one-line
    ``UnverifiedCheckpointWarning``. A mismatch or an unreadable checksum entry raises
    :class:`DamagedCheckpointError`.
    """
    stored = payload.get(CHECKSUM_KEY)
    damaged = f"checkpoint {where} is damaged"
    fix = "the file changed after it was written (a disk, copy or transfer error, or an edit); use an intact copy"
    if stored is None:
        renamed = _damaged_checksum_name(payload)
        if renamed is not None:       # a flipped bit in the entry's own name must not pass for an old file
            raise DamagedCheckpointError(
                f"{damaged}: it has no {CHECKSUM_KEY!r} entry but one named {renamed!r}, one character away, so the "
                f"checksum's own name was changed; {fix}")
        warnings.warn(f"{where} has no checksum (written before checkpoints carried one): loaded without verifying "
                      f"its content; save it again to add one", UnverifiedCheckpointWarning, stacklevel=3)
        return False
    if not isinstance(stored, Mapping) or not all(isinstance(stored.get(k), str)
                                                  for k in ("algorithm", "serialisation", "digest")):
        raise DamagedCheckpointError(f"{damaged}: its checksum entry is not readable; {fix}")
    if stored["algorithm"] not in ALGORITHMS or stored["serialisation"] != SERIALISATION:
        raise DamagedCheckpointError(
            f"{damaged} or newer than this version: its checksum uses {stored['algorithm']!r} over "
            f"{stored['serialisation']!r}, and this version knows {', '.join(ALGORITHMS)} over {SERIALISATION!r}; "
            f"use an intact copy, or upgrade spikesmith")
    try:
        actual = digest(payload, stored["algorithm"])
    except TypeError as err:
        raise DamagedCheckpointError(f"{damaged}: {err}; {fix}") from None
    if actual != stored["digest"]:
        raise DamagedCheckpointError(f"{damaged}: its content does not match the {stored['algorithm']} checksum stored in "
                                     f"it; {fix}")
    return True
