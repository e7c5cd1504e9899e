# Sphinx configuration of the course website: `make book` (python -m mnist_kit.site) stages the sources in
# _build/source and builds _build/html with this file. Notebooks are rendered with their committed outputs, never
# executed; the launch buttons (Colab, Binder) are built from mnist_kit/launch.py's one repository address.
from mnist_kit.launch import BINDER, BRANCH, COLAB, REPOSITORY

project = "mnist-kit"
author = "the mnist-kit course"
extensions = ["myst_nb", "mnist_kit.site"]  # mnist_kit.site: every notebook figure's alt text
root_doc = "index"
exclude_patterns = ["**/.ipynb_checkpoints", "notebooks/**.md", "notebooks/**.py"]  # text pairs are not pages
nb_execution_mode = "off"  # the committed outputs are the lesson; the site never re-runs it
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "colon_fence"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header", "mystnb.unknown_mime_type", "misc.highlighting_failure"]
html_theme = "sphinx_book_theme"
html_title = "mnist-kit: a tiny CNN on MNIST"
html_theme_options = {
    "repository_url": REPOSITORY,
    "repository_branch": BRANCH,
    "path_to_docs": "",
    "use_repository_button": True,
    "launch_buttons": {"binderhub_url": BINDER, "colab_url": COLAB, "notebook_interface": "jupyterlab"},
    "show_navbar_depth": 1,
}
