"""Screen a model_4 recipe variant: python screen.py NAME THREADS SEED key=value ..."""
import json, os, sys, time
import torch
name, threads, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
from mnist_kit.recipes import get_recipe
from mnist_kit.engine import fit
changes = {}
for kv in sys.argv[4:]:
    k, v = kv.split("=")
    changes[k] = tuple(int(x) for x in v.split(",")) if k == "milestones" else (v if k == "scheduler" else float(v) if "." in v else int(v))
recipe = get_recipe("model_4").with_overrides(seed=seed, **changes)
t = time.time()
run = fit(recipe, progress=False)
acc = [h["test_acc"] for h in run.history]
out = dict(name=name, seed=seed, threads=threads, changes=changes, config=recipe.to_dict(), test_acc=acc,
           train_acc=[h["train_acc"] for h in run.history], seconds=time.time() - t,
           held=min(acc[-3:]) >= 99.4)
with open("/tmp/tune/results.jsonl", "a") as fh:
    fh.write(json.dumps(out) + "\n")
print(name, seed, [round(a, 2) for a in acc], "held" if out["held"] else "NOT", round(out["seconds"]))
