"""The suite downloads nothing: a loader that would fetch its files gets the offline error at once."""

import pytest

from spikesmith.data import load_fashion_mnist
from spikesmith.data.locate import ENV_VAR, SYSTEM_DIRS_ENV_VAR


def test_a_download_fails_at_once_with_a_message_that_says_why(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setenv(SYSTEM_DIRS_ENV_VAR, "")
    with pytest.raises(FileNotFoundError, match=r"Downloading failed: .*tests download nothing \(asked for http"):
        load_fashion_mnist(split="test")
    assert not (tmp_path / ".cache" / "spikesmith" / "fashion_mnist" / "t10k-labels-idx1-ubyte.gz").exists()


def test_the_fake_fashion_mnist_is_what_the_loader_finds(fake_fashion_mnist, monkeypatch):
    monkeypatch.delenv(SYSTEM_DIRS_ENV_VAR, raising=False)
    images, labels = load_fashion_mnist(split="train", download=False)
    assert images.shape == (64, 28, 28) and labels.tolist() == [i % 10 for i in range(64)]
    assert load_fashion_mnist(split="test", download=False)[0].shape == (32, 28, 28)
