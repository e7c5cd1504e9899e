"""tools/rerender_sources.py: a stale shown-source output is recomputed in place, nothing else is touched."""

import shutil
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import rerender_sources  # noqa: E402


def test_a_stale_source_cell_is_rendered_again_and_the_rest_is_left_alone(tmp_path):
    path = tmp_path / "02_model_2.ipynb"
    shutil.copy(ROOT / "notebooks" / "02_model_2.ipynb", path)
    original = path.read_bytes()
    assert rerender_sources.rerender(path) == 0 and path.read_bytes() == original  # current: nothing to do
    notebook = nbformat.read(path, as_version=4)
    cell = next(c for c in notebook.cells if "show_source" in c.source)
    cell.outputs[0]["data"]["text/markdown"] = "an old copy of the source"
    path.write_text(nbformat.writes(notebook) + ("\n" if original.endswith(b"\n") else ""), encoding="utf-8")
    assert rerender_sources.rerender(path) == 1
    assert path.read_bytes() == original  # the committed output back, byte for byte, every other cell as it was
