"""Append the round-2 screening runs (/tmp/tune/results.jsonl) to results/tuning/model_4.json."""
import json, os, sys, tempfile
sys.path.insert(0, "/work/main")
from mnist_kit.paths import atomic_write_bytes
from mnist_kit.engine import device_name
import torch
path = "/work/main/results/tuning/model_4.json"
doc = json.load(open(path))
chosen = sys.argv[1]
base2 = {"rotation": 5, "jitter": 0.0, "lr": 0.05, "scheduler": "step", "step_size": 5, "gamma": 0.2, "dropout": 0.05}
for r in doc["runs"]:
    r.setdefault("round", 1)
    r.setdefault("device_name", doc["device_name"])
names = {(r["name"], r["config"]["seed"]) for r in doc["runs"]}
torch.set_num_threads(1)
cpu = device_name(torch.device("cpu"))
for line in open("/tmp/tune/results.jsonl"):
    r = json.loads(line)
    key = (f"R2-{r['name']}-s{r['seed']}", r["seed"])
    if key in names:
        continue
    changes = {k: v for k, v in r["changes"].items()}
    doc["runs"].append(dict(
        name=key[0], round=2, changes=dict(changes, seed=r["seed"]) if r["seed"] != 1 else changes,
        config={k: v for k, v in r["config"].items() if k not in ("name", "model")},
        code="OneCycleLR support (commit 1056b77)", torch_threads=r["threads"], device_name=cpu,
        held_99_4_in_last_3=r["held"],
        history=[dict(epoch=i + 1, train_acc=tr, test_acc=te) for i, (tr, te) in enumerate(zip(r["train_acc"], r["test_acc"]))],
        seconds=round(r["seconds"], 1)))
doc["device_name"] = None
doc.pop("device_name")
doc["base_round_2"] = base2
doc["what"] = ("Model_4 tuning runs on the fast pipeline, CPU, each run's machine in its device_name (several runs "
               "shared 2 cores). Round 1: 'changes' are relative to 'base', the recipe before tuning; it chose C2 "
               "(jitter 0), which still missed the target on 2 of 3 seeds. Round 2: 'changes' are relative to "
               "'base_round_2' (round 1's choice). Chosen: " + chosen + ".")
atomic_write_bytes(path, (json.dumps(doc, indent=1) + "\n").encode())
print(len(doc["runs"]), "runs")
