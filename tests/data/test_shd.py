"""The SHD/SSC reader on files written here in the published layout: values exactly, counts, errors."""

from __future__ import annotations

import urllib.error
import urllib.request

import numpy as np
import pytest
import torch

pytest.importorskip("h5py")

from shd_files import KEYS, make_samples, write_spike_file  # noqa: E402

from spikesmith.data import dataset_available, dataset_info, get_dataset  # noqa: E402
from spikesmith.data import shd  # noqa: E402


@pytest.fixture
def samples():
    return make_samples(9, seed=3)


@pytest.mark.parametrize("gz", [False, True])
def test_times_units_labels_exactly(tmp_path, samples, gz):
    times, units, labels, speakers = samples
    path = write_spike_file(tmp_path / ("shd_train.h5.gz" if gz else "shd_train.h5"), times, units, labels,
                            speakers, gz=gz)
    records = shd.read_spike_file(path)
    assert len(records) == 9 and records.path == path
    for i in range(9):
        np.testing.assert_array_equal(records.times[i], times[i].astype(np.float64))
        np.testing.assert_array_equal(records.units[i], units[i].astype(np.int64))
    np.testing.assert_array_equal(records.labels, labels.astype(np.int64))
    np.testing.assert_array_equal(records.speakers, speakers.astype(np.int64))
    assert records.keys == KEYS
    assert records.meta_info["age"].tolist() == list(range(20, 32))
    assert records.num_spikes == sum(len(t) for t in times)


def test_bin_counts_by_hand():
    times = np.array([0.0, 0.05, 0.099, 0.1, 0.35, 0.35])
    units = np.array([3, 3, 699, 0, 5, 5])
    counts = shd.bin_spikes(times, units, n_bins=4, duration=0.4)        # bins of 0.1 s
    assert counts.shape == (4, 700) and counts.dtype == torch.int64
    expected = torch.zeros(4, 700, dtype=torch.int64)
    expected[0, 3], expected[0, 699], expected[1, 0], expected[3, 5] = 2, 1, 1, 2
    assert torch.equal(counts, expected)
    by_width = shd.bin_spikes(times, units, bin_width=0.1, duration=0.4)
    assert torch.equal(by_width, expected)
    # without a duration the grid ends just after the last spike: nothing is lost
    assert int(shd.bin_spikes(times, units, n_bins=7).sum()) == 6
    # a duration that cuts drops the late spikes, as documented
    assert int(shd.bin_spikes(times, units, n_bins=3, duration=0.3).sum()) == 4


def test_binned_file_total_equals_the_files_spikes(tmp_path, samples):
    times, units, labels, speakers = samples
    records = shd.read_spike_file(write_spike_file(tmp_path / "shd_test.h5", times, units, labels, speakers))
    frames = shd.bin_records(records, n_bins=50)
    assert frames.shape == (9, 50, 700) and frames.dtype == torch.uint8
    assert int(frames.sum()) == records.num_spikes
    for i in range(9):
        assert int(frames[i].sum()) == len(times[i])
        assert torch.equal(frames[i].sum(0).long(), torch.bincount(torch.from_numpy(units[i].astype(np.int64)),
                                                                    minlength=700))
    assert int(frames[1].sum()) == 0                                      # the sample without spikes


@pytest.mark.parametrize("skip, missing", [
    (("spikes",), "'spikes'"), (("spikes/units",), "'spikes/units'"), (("spikes/times",), "'spikes/times'"),
    (("labels",), "'labels'")])
def test_missing_group_names_file_and_group(tmp_path, samples, skip, missing):
    times, units, labels, speakers = samples
    path = write_spike_file(tmp_path / "shd_train.h5", times, units, labels, speakers, skip=skip)
    with pytest.raises(ValueError, match=rf"shd_train\.h5: missing {missing}"):
        shd.read_spike_file(path)


def test_unit_700_names_file_sample_and_value(tmp_path, samples):
    times, units, labels, speakers = samples
    units = [u.copy() for u in units]
    units[4][0] = 700
    path = write_spike_file(tmp_path / "shd_train.h5", times, units, labels, speakers)
    with pytest.raises(ValueError, match=r"shd_train\.h5: sample 4 has unit 700; units must lie in 0\.\.699"):
        shd.read_spike_file(path)


def test_other_bad_files(tmp_path, samples):
    times, units, labels, speakers = samples
    path = write_spike_file(tmp_path / "a.h5", times, units, labels[:5], speakers[:5])
    with pytest.raises(ValueError, match="a.h5: spikes/times has 9 samples, spikes/units 9 and labels 5"):
        shd.read_spike_file(path)
    (tmp_path / "junk.h5").write_bytes(b"not hdf5 at all")
    with pytest.raises(ValueError, match="junk.h5: not a readable HDF5 file"):
        shd.read_spike_file(tmp_path / "junk.h5")
    (tmp_path / "shd_cut.h5.gz").write_bytes(b"\x1f\x8b\x08\x00trunc")
    with pytest.raises(ValueError, match="shd_cut.h5.gz: cannot be decompressed"):
        shd.read_spike_file(tmp_path / "shd_cut.h5.gz")
    with pytest.raises(FileNotFoundError):
        shd.read_spike_file(tmp_path / "none.h5")
    with pytest.raises(ValueError, match="exactly one of n_bins"):
        shd.bin_spikes(times[0], units[0])


def test_search_order_env_var_and_ssc_splits(tmp_path, monkeypatch, samples):
    times, units, labels, speakers = samples
    monkeypatch.setenv("SPIKESMITH_DATA", str(tmp_path / "data"))
    write_spike_file(tmp_path / "data" / "shd" / "shd_test.h5.gz", times, units, labels, speakers, gz=True)
    assert shd.find_file("shd", "test") == tmp_path / "data" / "shd" / "shd_test.h5.gz"
    write_spike_file(tmp_path / "data" / "shd_test.h5", times, units, labels, speakers)
    assert shd.find_file("shd", "test") == tmp_path / "data" / "shd_test.h5"       # the root comes first
    assert shd.find_file("shd", "train") is None
    write_spike_file(tmp_path / "data" / "ssc_valid.h5", times, units, labels, speakers)
    x, y = shd.load_ssc("valid")
    assert x.shape == (9, 100, 700) and int(x.sum()) == sum(len(t) for t in times)
    with pytest.raises(ValueError, match=r"split must be one of \['train', 'test'\], got 'valid'"):
        shd.find_file("shd", "valid")


def test_offline_error_names_the_folders_and_the_url(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(FileNotFoundError, match=r"(?s)shd_train\.h5\[\.gz\] not found.*"
                                                r"https://zenkelab\.org/datasets/shd_train\.h5\.gz.*"
                                                r"Downloading failed: .*no network"):
        shd.load_shd("train")
    with pytest.raises(FileNotFoundError, match="download=False"):
        shd.load_shd("train", download=False)
    with pytest.raises(FileNotFoundError, match="only place searched"):
        shd.load_shd("train", data_dir=tmp_path)
    assert not (shd.cache_dir("shd") / "shd_train.h5.gz").exists()         # nothing half-written


def test_get_dataset_shd_from_spikesmith_data(tmp_path, monkeypatch):
    for split, seed in (("train", 1), ("test", 2)):
        times, units, labels, speakers = make_samples(6, seed=seed)
        write_spike_file(tmp_path / f"shd_{split}.h5.gz", times, units, labels, speakers, gz=True)
    monkeypatch.setenv("SPIKESMITH_DATA", str(tmp_path))
    assert dataset_available("shd") and dataset_info("spiking_heidelberg_digits").input_shape == (100, 700)
    ds = get_dataset("shd", "test")
    times, units, labels, _ = make_samples(6, seed=2)
    assert ds.inputs.shape == (6, 100, 700) and ds.inputs.dtype == torch.uint8
    assert torch.equal(ds.targets, torch.from_numpy(labels.astype(np.int64)))
    for i in range(6):                                       # 1.4 s in 100 bins of 14 ms
        index = torch.from_numpy(np.floor(times[i].astype(np.float64) / 0.014).astype(np.int64))
        expected = torch.zeros(100, 700, dtype=torch.uint8)
        expected.index_put_((index, torch.from_numpy(units[i].astype(np.int64))), torch.tensor(1, dtype=torch.uint8),
                            accumulate=True)
        assert torch.equal(ds.inputs[i], expected)


def test_train_dataset_shd_end_to_end(tmp_path, monkeypatch):
    from spikesmith.run import train as run
    from spikesmith.training import make_config

    for split, seed, n in (("train", 1, 24), ("test", 2, 8)):
        times, units, labels, speakers = make_samples(n, seed=seed)
        write_spike_file(tmp_path / "data" / f"shd_{split}.h5.gz", times, units, labels, speakers, gz=True)
    monkeypatch.setenv("SPIKESMITH_DATA", str(tmp_path / "data"))
    cfg = make_config(overrides={"dataset": "shd", "model": "fcsnn", "epochs": 1, "batch_size": 8, "report": False,
                                 "device": "cpu", "out": str(tmp_path / "run"), "hidden": 16})
    metrics = run(cfg)
    assert metrics["epochs_run"] == 1 and 0.0 <= metrics["test_accuracy"] <= 1.0
    assert (tmp_path / "run" / "checkpoint.pt").is_file()
