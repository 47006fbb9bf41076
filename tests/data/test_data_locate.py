"""Where the loaders look for IDX files, in which order, and what they say (or fetch) when nothing is found."""

from __future__ import annotations

import io
import os
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from spikesmith.data import find_dataset, load_fashion_mnist, load_mnist, search_dirs, write_idx
from spikesmith.data import locate


def _first_label(folder=None, split="train"):
    return load_fashion_mnist(folder, split, download=False)[1][0].item()


def _put(folder: Path, make_split, label: int, split: str = "train"):
    """A one-image split whose label tells which folder it was loaded from."""
    make_split(folder, split, n=1)
    write_idx(folder / f"{locate.SPLIT_FILES[split][1]}.gz", np.array([label], dtype=np.uint8))


def test_search_order_data_dir_env_cache_system(tmp_path, isolated_env, make_split, monkeypatch):
    explicit, env, system = tmp_path / "explicit", tmp_path / "env", tmp_path / "system"
    cache = isolated_env / ".cache" / "spikesmith" / "fashion_mnist"
    monkeypatch.setenv("SPIKESMITH_DATA", str(env))
    spec = locate.SPECS["fashion_mnist"]
    monkeypatch.setitem(locate.SPECS, "fashion_mnist", spec._replace(system_dirs=(str(system),)))
    for label, folder in enumerate((explicit, env, cache, system), start=1):
        _put(folder, make_split, label)
    assert _first_label(explicit) == 1
    assert _first_label() == 2                   # no data_dir: $SPIKESMITH_DATA
    monkeypatch.delenv("SPIKESMITH_DATA")
    assert _first_label() == 3                   # then the cache in $HOME
    with pytest.raises(FileNotFoundError, match="data_dir .*empty' does not exist"):
        _first_label(tmp_path / "empty")       # a data_dir given is the only place searched (issue 14)
    for p in cache.iterdir():
        p.unlink()
    assert _first_label() == 4                   # then the system folder
    assert find_dataset("fashion_mnist") is None  # only the train split is there


def test_search_dirs_lists_every_place_in_order(tmp_path, isolated_env, monkeypatch):
    monkeypatch.setenv("SPIKESMITH_DATA", str(tmp_path / "env"))
    spec = locate.SPECS["mnist"]
    assert search_dirs(spec) == [tmp_path / "env", tmp_path / "env" / "mnist", tmp_path / "env" / "MNIST",
                                 isolated_env / ".cache" / "spikesmith" / "mnist"]
    # an explicit data_dir is the only place: nothing falls back to another copy
    assert search_dirs(spec, tmp_path / "d") == [tmp_path / "d", tmp_path / "d" / "mnist", tmp_path / "d" / "MNIST"]


def test_system_dirs_env_var_replaces_or_hides_the_system_folders(tmp_path, make_dataset, monkeypatch):
    spec = locate.SPECS["fashion_mnist"]._replace(system_dirs=(str(tmp_path / "packaged"),))
    monkeypatch.setitem(locate.SPECS, "fashion_mnist", spec)
    make_dataset(tmp_path / "packaged")
    assert locate.system_dirs(spec) == [tmp_path / "packaged"]        # unset: the dataset's own folders
    assert find_dataset("fashion_mnist") == tmp_path / "packaged"
    monkeypatch.setenv(locate.SYSTEM_DIRS_ENV_VAR, "")                 # empty: no system folder at all
    assert locate.system_dirs(spec) == []
    assert search_dirs(spec) == [locate.cache_dir(spec)]
    assert find_dataset("fashion_mnist") is None
    with pytest.raises(FileNotFoundError, match="Fashion-MNIST train split not found"):
        load_fashion_mnist(split="train", download=False)
    make_dataset(tmp_path / "b")
    monkeypatch.setenv(locate.SYSTEM_DIRS_ENV_VAR, f"{tmp_path / 'a'}{os.pathsep}{tmp_path / 'b'}")
    assert locate.system_dirs(spec) == [tmp_path / "a", tmp_path / "b"]  # set: these instead, in order
    assert search_dirs(spec)[-2:] == [tmp_path / "a", tmp_path / "b"]
    assert find_dataset("fashion_mnist") == tmp_path / "b"


@pytest.mark.parametrize("what", ["missing", "images only", "a file"])
def test_an_explicit_data_dir_without_the_files_is_an_error(tmp_path, isolated_env, make_split, make_dataset,
                                                            monkeypatch, what):
    """--data-dir /nonexistent (or a folder with only the images file) trained on the system copy."""
    monkeypatch.setenv("SPIKESMITH_DATA", str(tmp_path / "env"))
    make_dataset(tmp_path / "env")                       # a copy elsewhere that must not be used
    data_dir = tmp_path / "given"
    if what == "images only":
        make_split(data_dir, "train")
        (data_dir / "train-labels-idx1-ubyte.gz").unlink()
        fragment = "holds only .*train-images-idx3-ubyte"
    elif what == "a file":
        data_dir.write_text("x")
        fragment = "is not a folder"
    else:
        fragment = "does not exist"
    with pytest.raises(FileNotFoundError, match=f"data_dir .*given' {fragment}.*needs train-images"):
        load_fashion_mnist(data_dir, split="train")
    assert find_dataset("fashion_mnist", data_dir) is None
    assert find_dataset("fashion_mnist") == tmp_path / "env"


@pytest.mark.parametrize("sub", ["fashion_mnist", "fashion-mnist", "FashionMNIST/raw"])
def test_env_var_dataset_subfolders(tmp_path, make_dataset, monkeypatch, sub):
    make_dataset(tmp_path / "root" / sub)
    monkeypatch.setenv("SPIKESMITH_DATA", str(tmp_path / "root"))
    assert find_dataset("fmnist") == tmp_path / "root" / sub
    assert find_dataset("mnist") is None
    assert load_fashion_mnist(split="test", download=False)[0].shape == (3, 28, 28)


def test_find_dataset_needs_both_splits_and_accepts_aliases(tmp_path, make_split, make_dataset):
    make_split(tmp_path / "a", "train")
    assert find_dataset("fashion_mnist", tmp_path / "a") is None
    make_dataset(tmp_path / "b")
    for name in ("fashion_mnist", "fmnist", "Fashion-MNIST", "sfmnist"):
        assert find_dataset(name, tmp_path / "b") == tmp_path / "b"
    with pytest.raises(ValueError, match="'digits' is not stored as IDX files"):
        find_dataset("digits")
    with pytest.raises(ValueError, match="unknown dataset 'cifar10'"):
        find_dataset("cifar10")


def test_offline_message_lists_places_and_remedies(tmp_path, isolated_env, monkeypatch):
    monkeypatch.setenv("SPIKESMITH_DATA", str(tmp_path / "env"))
    with pytest.raises(FileNotFoundError) as err:
        load_fashion_mnist(None, "test", download=False)
    msg = str(err.value)
    for place in (tmp_path / "env", tmp_path / "env" / "fashion_mnist",
                  isolated_env / ".cache" / "spikesmith" / "fashion_mnist"):
        assert f"  {place}\n" in msg
    for text in ("t10k-images-idx3-ubyte[.gz]", "$SPIKESMITH_DATA", "apt-get install dataset-fashion-mnist",
                 "download=False"):
        assert text in msg


def test_failed_download_is_reported_with_every_url(tmp_path, isolated_env, monkeypatch):
    tried = []

    def offline(url, timeout):
        tried.append((url, timeout))
        raise urllib.error.URLError("no route to host")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(FileNotFoundError, match=r"(?s)MNIST test split not found.*Downloading failed.*no route"):
        load_mnist(split="test")
    assert [u for u, _ in tried] == [base + "t10k-images-idx3-ubyte.gz" for base in locate.SPECS["mnist"].urls]
    assert all(0 < t <= 60 for _, t in tried)
    assert not any((isolated_env / ".cache" / "spikesmith" / "mnist").glob("*"))


def _serve(files: dict[str, bytes]):
    def urlopen(url, timeout):
        name = url.rsplit("/", 1)[1]
        if name not in files:
            raise urllib.error.HTTPError(url, 404, "Not Found", None, None)
        return io.BytesIO(files[name])
    return urlopen


def test_download_fills_the_cache_then_works_offline(tmp_path, isolated_env, make_split, monkeypatch):
    images, labels = make_split(tmp_path / "server", "test", n=4)
    served = {p.name: p.read_bytes() for p in (tmp_path / "server").iterdir()}
    monkeypatch.setattr(urllib.request, "urlopen", _serve(served))
    x, y = load_fashion_mnist(split="test")
    assert y.tolist() == labels.tolist() and np.array_equal(x.numpy(), images)
    cache = isolated_env / ".cache" / "spikesmith" / "fashion_mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(served)
    monkeypatch.setattr(urllib.request, "urlopen", _serve({}))  # now offline: the cache serves it
    assert load_fashion_mnist(split="test")[1].tolist() == labels.tolist()


def test_bad_download_never_lands_in_the_cache(tmp_path, isolated_env, make_split, monkeypatch):
    make_split(tmp_path / "server", "train", n=4)
    served = {p.name: p.read_bytes() for p in (tmp_path / "server").iterdir()}
    served["train-images-idx3-ubyte.gz"] = served["train-images-idx3-ubyte.gz"][:-20]  # cut off
    monkeypatch.setattr(urllib.request, "urlopen", _serve(served))
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.gz: .*IDX file"):
        load_fashion_mnist(split="train")
    cache = isolated_env / ".cache" / "spikesmith" / "fashion_mnist"
    assert list(cache.iterdir()) == []
