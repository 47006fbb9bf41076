"""Event arrays: construction, validation, conversion from Tonic-style dtypes."""

from __future__ import annotations

import numpy as np
import pytest

from spikesmith.events import (EVENT_DTYPE, check_events, check_sensor_size, from_structured,
                               infer_sensor_size, make_events, sort_events)


def test_dtype_is_the_documented_one():
    assert EVENT_DTYPE.descr == [("x", "<i2"), ("y", "<i2"), ("t", "<i8"), ("p", "|i1")]


def test_make_events_values_and_sort():
    ev = make_events([1, 2, 3], [4, 5, 6], [30, 10, 20], [1, 0, 1], sort=True)
    assert ev.dtype == EVENT_DTYPE
    assert ev["t"].tolist() == [10, 20, 30]
    assert ev["x"].tolist() == [2, 3, 1]


@pytest.mark.parametrize("kwargs, match", [
    (dict(x=[1.5], y=[0], t=[0], p=[0]), "integers"),
    (dict(x=[40000], y=[0], t=[0], p=[0]), "-32768..32767"),
    (dict(x=[1, 2], y=[0], t=[0], p=[0]), "same length"),
    (dict(x=[[1]], y=[0], t=[0], p=[0]), "1-D"),
])
def test_make_events_rejects(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_events(**kwargs)


def test_check_events_wrong_dtype_and_out_of_sensor():
    with pytest.raises(TypeError, match="dtype"):
        check_events(np.zeros(3, dtype=[("x", "<u2"), ("y", "<u2"), ("t", "<i8"), ("p", "i1")]))
    with pytest.raises(TypeError):
        check_events([1, 2, 3])
    ev = make_events([0, 34], [0, 0], [0, 1], [0, 1])
    with pytest.raises(ValueError, match=r"outside the sensor.*index 1: x=34"):
        check_events(ev, (34, 34, 2))
    with pytest.raises(ValueError, match="outside"):
        check_events(make_events([0], [0], [0], [1]), (34, 34, 1))
    assert check_events(ev, (35, 34, 2)) is ev


@pytest.mark.parametrize("bad", [(34, 34), (34, 34, 3), (0, 34, 2), (34.0, 34, 2), "abc", None, (True, 1, 1)])
def test_sensor_size_errors(bad):
    with pytest.raises(ValueError, match="sensor_size"):
        check_sensor_size(bad)


def test_from_structured_any_order_bool_and_signed_polarity():
    tonic = np.zeros(3, dtype=[("t", "<u8"), ("y", "<u2"), ("x", "<u2"), ("polarity", "?")])
    tonic["t"], tonic["x"], tonic["y"], tonic["polarity"] = [5, 6, 7], [1, 2, 3], [4, 5, 6], [True, False, True]
    ev = from_structured(tonic)
    assert ev.dtype == EVENT_DTYPE
    assert ev["x"].tolist() == [1, 2, 3] and ev["y"].tolist() == [4, 5, 6]
    assert ev["t"].tolist() == [5, 6, 7] and ev["p"].tolist() == [1, 0, 1]
    signed = np.zeros(2, dtype=[("x", "i4"), ("y", "i4"), ("ts", "f8"), ("p", "i1")])
    signed["p"], signed["ts"] = [-1, 1], [0.5e-6, 2e-6]
    ev2 = from_structured(signed, time_scale=1e6)
    assert ev2["p"].tolist() == [0, 1] and ev2["t"].tolist() == [0, 2]  # round half to even


def test_from_structured_titles_as_in_aedat():
    arr = np.zeros(1, dtype=[("t", "<u8"), ("x", "<u2"), ("y", "<u2"), (("p", "on"), "?")])
    arr["on"] = True
    assert from_structured(arr)["p"].tolist() == [1]
    with pytest.raises(ValueError, match="no time field"):
        from_structured(np.zeros(1, dtype=[("x", "i2"), ("y", "i2"), ("p", "i1")]))
    with pytest.raises(TypeError, match="structured"):
        from_structured(np.zeros(3))


def test_sort_is_stable_and_infer_size():
    ev = make_events([0, 1, 2], [0, 0, 0], [5, 1, 5], [0, 0, 0])
    assert sort_events(ev)["x"].tolist() == [1, 0, 2]
    assert infer_sensor_size(ev) == (3, 1, 2)
