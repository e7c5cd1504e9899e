"""Loaded by every pytest run from the repo root, the notebooks included (`pytest --nbval-lax`).

It sets the kit's one switch for run length, `MNIST_KIT_SMOKE=1` (see `mnist_kit/runs.py`): every
training run is a smoke run (1 epoch on a small real subset) recorded in a scratch folder, so testing
never replaces a committed result; `MNIST_KIT_MY_RUNS` points a student's own runs (`my_runs/`) at a
scratch folder too. The notebook kernels that nbval starts inherit these variables.
`MNIST_KIT_SMOKE=0 python -m pytest --nbval-lax notebooks/` runs the notebooks at full length.
"""

import os
import tempfile

os.environ.setdefault("MNIST_KIT_SMOKE", "1")
os.environ.setdefault("MNIST_KIT_SMOKE_DIR", tempfile.mkdtemp(prefix="mnist_kit_smoke_"))
os.environ.setdefault("MNIST_KIT_MY_RUNS", tempfile.mkdtemp(prefix="mnist_kit_my_runs_"))  # never the checkout's
