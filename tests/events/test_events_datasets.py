"""N-MNIST, DVS128 Gesture (official folder layouts written here) and NeuromorphicFashionMNIST."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from aedat_layouts import AEDAT3_HEADER, aedat3_packet

import spikesmith.events as E
from spikesmith.data.events_datasets import DVSGesture, FrameDataset, NeuromorphicFashionMNIST, NMNIST
from spikesmith.data.idx import write_idx
from spikesmith.data.locate import SPLIT_FILES


def rand_events(n, w, h, seed, t0=0, t1=300_000):
    rng = np.random.default_rng(seed)
    return E.make_events(rng.integers(0, w, n), rng.integers(0, h, n), np.sort(rng.integers(t0, t1, n)),
                         rng.integers(0, 2, n))


@pytest.fixture
def nmnist_root(tmp_path):
    root = tmp_path / "nmnist"
    written = {}
    for split, digits in (("Train", (0, 3, 3)), ("Test", (7,))):
        for k, d in enumerate(digits):
            folder = root / split / str(d)
            folder.mkdir(parents=True, exist_ok=True)
            ev = rand_events(50 + k, 34, 34, seed=10 * d + k)
            E.write(folder / f"{k:05d}.bin", ev)
            written[(split, d, k)] = ev
    return root, written


def test_nmnist_folder_layout(nmnist_root, tmp_path):
    root, written = nmnist_root
    ds = NMNIST(root, "train", cache_dir=tmp_path / "cache")
    assert len(ds) == 3 and ds.sensor_size == (34, 34, 2)
    labels = [ds[i][1] for i in range(3)]
    assert labels == [0, 3, 3]
    np.testing.assert_array_equal(ds[1][0], written[("Train", 3, 1)])
    test = NMNIST(root, "test", transform=E.ToFrame((34, 34, 2), n_time_bins=5))
    x, y = test[0]
    assert x.shape == (5, 2, 34, 34) and y == 7
    frames = ds.to_frames(4)
    assert isinstance(frames, FrameDataset) and frames.frames.dtype == torch.uint8
    assert frames.frames.shape == (3, 4, 2, 34, 34)
    xf, yf = frames[2]
    assert xf.dtype == torch.float32 and int(yf) == 3 and xf.sum() == 52
    assert len(list((tmp_path / "cache").glob("frames_T4_*.npz"))) == 1
    with pytest.raises(FileNotFoundError, match="Train"):
        NMNIST(tmp_path / "nowhere", "train")


def test_dvsgesture_folder_layout(tmp_path):
    folder = tmp_path / "DvsGesture"
    folder.mkdir()
    rec = rand_events(600, 128, 128, seed=1, t0=1_000_000, t1=4_000_000)
    (folder / "user01_fluorescent.aedat").write_bytes(AEDAT3_HEADER + aedat3_packet(rec[:300]) + aedat3_packet(rec[300:]))
    (folder / "user01_fluorescent_labels.csv").write_text(
        "class,startTime_usec,endTime_usec\n1,1000000,2000000\n11,2500000,4000000\n")
    (folder / "trials_to_train.txt").write_text("user01_fluorescent.aedat\n")
    (folder / "trials_to_test.txt").write_text("")
    ds = DVSGesture(tmp_path, "train", cache_dir=tmp_path / "c")
    assert len(ds) == 2 and ds.sensor_size == (128, 128, 2)
    ev0, y0 = ds[0]
    ev1, y1 = ds[1]
    assert (y0, y1) == (0, 10)
    np.testing.assert_array_equal(ev0, rec[(rec["t"] >= 1_000_000) & (rec["t"] < 2_000_000)])
    np.testing.assert_array_equal(ev1, rec[(rec["t"] >= 2_500_000) & (rec["t"] < 4_000_000)])
    f = ds.to_frames(3)
    assert f.frames.shape == (2, 3, 2, 128, 128) and int(f.frames[1].sum()) == len(ev1)
    assert len(DVSGesture(folder, "test")) == 0
    (folder / "user01_fluorescent_labels.csv").write_text("class,startTime_usec,endTime_usec\n12,0,5\n")
    with pytest.raises(ValueError, match="bad row"):
        DVSGesture(tmp_path, "train")


@pytest.fixture
def fake_fmnist(tmp_path):
    rng = np.random.default_rng(0)
    images = np.zeros((6, 28, 28), dtype=np.uint8)
    for i in range(6):
        a, b = sorted(rng.integers(4, 24, 2))
        images[i, a:b + 2, 6:22] = rng.integers(100, 256)
    labels = np.arange(6, dtype=np.uint8)
    data = tmp_path / "fmnist"
    for split in ("train", "test"):
        write_idx(data / SPLIT_FILES[split][0], images)
        write_idx(data / SPLIT_FILES[split][1], labels)
    return data, images


def test_nfmnist_converts_caches_and_reuses(fake_fmnist, tmp_path, monkeypatch):
    data, images = fake_fmnist
    cache = tmp_path / "cache"
    ds = NeuromorphicFashionMNIST("test", data_dir=data, cache_dir=cache, steps_per_saccade=20, limit=5)
    assert len(ds) == 5 and ds.sensor_size == (34, 34, 2)
    ev, y = ds[2]
    assert y == 2 and ev.dtype == E.EVENT_DTYPE and len(ev) > 0
    direct, _ = E.saccade_events(images[2], steps_per_saccade=20)
    np.testing.assert_array_equal(ev, direct)
    assert ds.events_per_sample().tolist() == [len(ds[i][0]) for i in range(5)]
    with np.load(ds.cache_path) as z:           # compact integer columns, not float32
        assert z["x"].dtype == np.uint8 and z["t"].dtype == np.uint32 and z["p"].dtype == np.uint8
    monkeypatch.setattr(NeuromorphicFashionMNIST, "_convert", lambda *a, **k: pytest.fail("cache not reused"))
    again = NeuromorphicFashionMNIST("test", data_dir=data, cache_dir=cache, steps_per_saccade=20, limit=5)
    np.testing.assert_array_equal(again[2][0], ev)
    frames = again.to_frames(8)
    x, y = frames[2]
    assert x.shape == (8, 2, 34, 34) and x.dtype == torch.float32 and int(x.sum()) == len(ev)
    assert not frames.frames.is_floating_point()


def test_nfmnist_other_methods(fake_fmnist, tmp_path):
    data, _ = fake_fmnist
    flash = NeuromorphicFashionMNIST("train", method="flash", data_dir=data, cache_dir=tmp_path, limit=2)
    assert flash.sensor_size == (28, 28, 2) and len(flash[0][0]) > 0
    poisson = NeuromorphicFashionMNIST("train", method="poisson", data_dir=data, cache_dir=tmp_path, limit=2)
    assert np.all(poisson[1][0]["p"] == 1)
    with pytest.raises(ValueError, match="method"):
        NeuromorphicFashionMNIST("train", method="video", data_dir=data, cache_dir=tmp_path)


def test_dataset_frames_past_max_bytes_are_refused_before_allocating(nmnist_root, tmp_path):
    # 3 samples x 10**9 bins x 2 x 34 x 34 would be 6.9 TB: refused by size, not by the allocator
    root, _ = nmnist_root
    ds = NMNIST(root, "train", cache_dir=tmp_path / "cache")
    with pytest.raises(ValueError, match=r"NMNIST.to_frames: the output would be \[3, 1000000000, 2, 34, 34\].*max_bytes="):
        ds.to_frames(10**9)
    with pytest.raises(ValueError, match="max_bytes="):
        ds.to_frames(4, max_bytes=3 * 4 * 2 * 34 * 34 - 1)
    assert ds.to_frames(4, cache=False, max_bytes=3 * 4 * 2 * 34 * 34).frames.shape == (3, 4, 2, 34, 34)
