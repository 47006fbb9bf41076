"""Event-camera data: event arrays, transforms, file formats and static images turned into events.

An event stream is a NumPy structured array of :data:`EVENT_DTYPE` (``x``, ``y``, ``t`` in µs,
``p``) with a sensor size ``(W, H, P)``; field names are Tonic's.

Example::

    from spikesmith import events as E
    ev, size = E.read("sample_nmnist.bin")                        # 4325 events, (34, 34, 2)
    t = E.Compose([E.Denoise(size, filter_time=10_000), E.ToFrame(size, n_time_bins=10)])
    frames = t(ev)                                                 # int32 [10, 2, 34, 34]
    ev2, size2 = E.saccade_events(image)                           # a static image, N-MNIST style

Sub-modules: :mod:`~spikesmith.events.core` (arrays), :mod:`~spikesmith.events.functional` and
:mod:`~spikesmith.events.frames` (plain functions), :mod:`~spikesmith.events.transforms`
(dataclasses), :mod:`~spikesmith.events.formats` (files), :mod:`~spikesmith.events.simulate`
(images to events), :mod:`~spikesmith.events.plot` (a figure).
"""

from spikesmith.events.core import (
    EVENT_DTYPE,
    check_events,
    check_sensor_size,
    empty_events,
    from_structured,
    infer_sensor_size,
    is_sorted,
    make_events,
    sort_events,
)
from spikesmith.events.formats import FORMATS, EventFileError, detect_format, read, write
from spikesmith.events.frames import to_frame, to_voxel_grid
from spikesmith.events.plot import event_images, plot_events
from spikesmith.events.simulate import flash_events, poisson_events, saccade_events, saccade_events_batch
from spikesmith.events.transforms import (
    CenterCrop,
    Compose,
    Denoise,
    Downsample,
    DropEvent,
    MergePolarities,
    RandomCrop,
    RandomFlipLR,
    RandomFlipUD,
    RefractoryPeriod,
    SpatialJitter,
    TimeJitter,
    TimeSkew,
    ToFrame,
    ToVoxelGrid,
)

__all__ = [
    "EVENT_DTYPE", "FORMATS", "CenterCrop", "Compose", "Denoise", "Downsample", "DropEvent",
    "EventFileError", "MergePolarities", "RandomCrop", "RandomFlipLR", "RandomFlipUD",
    "RefractoryPeriod", "SpatialJitter", "TimeJitter", "TimeSkew", "ToFrame", "ToVoxelGrid",
    "check_events", "check_sensor_size", "detect_format", "empty_events", "event_images",
    "flash_events", "from_structured", "infer_sensor_size", "is_sorted", "make_events",
    "plot_events", "poisson_events", "read", "saccade_events", "saccade_events_batch",
    "sort_events", "to_frame", "to_voxel_grid", "write",
]
