"""Loaded by every pytest run from the repo root, the notebooks included (`pytest --nbval-lax`).

It switches the kit to smoke runs (1 epoch on a small real subset) and sends their records to a
scratch folder, so testing never replaces a committed result. The notebook kernels that nbval starts
inherit these variables. `MNIST_KIT_FULL=1 pytest --nbval-lax notebooks/` runs them at full length.
"""
import os
import tempfile

if os.environ.get("MNIST_KIT_FULL") != "1":
    os.environ.setdefault("MNIST_KIT_SMOKE", "1")
os.environ.setdefault("MNIST_KIT_SMOKE_DIR", tempfile.mkdtemp(prefix="mnist_kit_smoke_"))
