"""The course's fixed numbers, in one place: the accuracy target and its windows, the parameter budgets,
and what the original write-up reported. Nothing here is tuned; every other module reads them from here.

Taught in every notebook's "Target" section.
"""

from __future__ import annotations

TARGET = 99.4  # % test accuracy the course aims to hold over the last epochs
HOLD_EPOCHS = 3  # ... in each of the last this many epochs (the course's target)
STEADY_EPOCHS = 5  # the stricter window the seed sweep is judged on
PARAMETER_BUDGET = 8000  # the course's limit: fewer parameters than this
MODEL_5_BUDGET = 5000  # notebook 5's own goal: Model_5 has at most this many parameters
SWEEP_MEAN_AIM = 99.5  # notebook 4's aim for the mean final test accuracy of Model_4's seed sweep
# Model_5, attempt 2 (recipes.MODEL_5_ATTEMPT_2, "model_5b"): its goal, fixed before its one test sweep
MODEL_5B_SEEDS = (21, 22, 23, 24, 25)  # seeds no run had used
MODEL_5B_SEEDS_NEEDED = 4  # ... of which at least this many hold >= TARGET in each of the last HOLD_EPOCHS epochs
MODEL_5B_MEAN_AIM = 99.45  # ... and the mean final test accuracy over them is at least this
# Model_4 on a new recipe ("model_4b"), if a candidate beats today's recipe in Model_4's validation round
# (results/tuning/model_4.json, "search"): its goal, fixed before its one test sweep. When it was set, the issue
# asking for it counted today's recipe holding the last 5 epochs on 11 of 18 unseen seeds pooled (its committed
# sweep, seeds 11-30, is in the README); this asks for nearly all.
MODEL_4B_SEEDS = tuple(range(31, 51))  # 20 seeds no run had used
MODEL_4B_SEEDS_NEEDED = 19  # ... of which at least this many hold >= TARGET in each of the last STEADY_EPOCHS epochs

# What the original write-up reported (../shared/seed/Assignment_7.md), to compare against. Only Model_4's
# per-epoch test log is in the write-up ("Logs from local model run"), with its stated target.
ORIGINAL = {
    "model_1": {"parameters": 8246, "best_train": 99.42, "best_test": 99.38},
    "model_2": {"parameters": 7934, "best_train": 98.96, "best_test": 99.41},
    "model_3": {"parameters": 7934, "best_train": 98.75, "best_test": 99.48},
    "model_4": {
        "parameters": 7774,
        "best_train": 99.41,
        "best_test": 99.44,
        "test_log": [
            98.36,
            98.73,
            99.07,
            99.12,
            99.39,
            99.39,
            99.41,
            99.38,
            99.39,
            99.43,
            99.40,
            99.44,
            99.43,
            99.43,
            99.42,
        ],
        "target": "> 99.4 % over more than 7 epochs and kept at the last epoch",
        "target_epochs": 7,
    },
}
