"""Every figure of the kit, in one place: ``plots.curves`` (training curves, the sweep, the schedule, the
iterations, the frontier, the parameter budget), ``plots.digits`` (augmented digits, mistakes, confusion) and
``plots.network`` (receptive fields, feature maps, a drawn digit), all read here as ``plots.<name>``.

Each function returns a ``plots.figure.Figure`` (matplotlib's, with alt text: what it shows, in words) built without
pyplot, so a notebook cell shows it exactly once
and tests can inspect its axes headless; ``widgets`` holds only the controls that redraw them.
"""

from .curves import (
    budget_figure,
    message_figure,
    plot_comparison,
    plot_frontier,
    plot_history,
    plot_iterations,
    plot_schedule,
    plot_sweep,
)
from .digits import (
    augmentation_figure,
    confusion_matrix,
    mistake_figure,
    mistakes_of_class,
    per_class_accuracy,
    plot_confusion,
    plot_digit_rows,
    plot_misclassified,
    show_augmented,
)
from .network import drawn_digit_figure, feature_maps_figure, receptive_field_figure, receptive_field_patch

__all__ = [
    "augmentation_figure",
    "budget_figure",
    "confusion_matrix",
    "drawn_digit_figure",
    "feature_maps_figure",
    "message_figure",
    "mistake_figure",
    "mistakes_of_class",
    "per_class_accuracy",
    "plot_comparison",
    "plot_confusion",
    "plot_digit_rows",
    "plot_frontier",
    "plot_history",
    "plot_iterations",
    "plot_misclassified",
    "plot_schedule",
    "plot_sweep",
    "receptive_field_figure",
    "receptive_field_patch",
    "show_augmented",
]
