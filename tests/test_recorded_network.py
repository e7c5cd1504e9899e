"""A record's accuracy belongs to the network it saves: re-evaluating the saved weights gives the recorded
``test_acc``; with a weight average that network is the average, and ``raw_test_acc`` is the raw weights'.
The JSON (what readers look for) is written after the weights, so a record never points at missing weights."""

import dataclasses

import pytest
import torch

from mnist_kit import engine, records
from mnist_kit.recipes import get_recipe
from mnist_kit.records import load_record, load_trained_model, save_run


def smoke_test_accuracy(model, mnist_root) -> float:
    """Accuracy on the smoke runs' test subset, the images a smoke run's ``test_acc`` is measured on."""
    _, loader = engine.make_loaders(get_recipe("model_4"), torch.device("cpu"), mnist_root, smoke=True)
    return engine.test(model, torch.device("cpu"), loader, verbose=False)[1]


@pytest.fixture(scope="module")
def averaged_run(mnist_root):
    """A 1-epoch smoke run that keeps a weight average, with the networks ``train`` was handed: the one the
    optimiser trains (raw) and the ``AveragedModel`` that follows it."""
    seen, real_train = {}, engine.train

    def train(model, device, loader, optimizer, progress=True, batch_scheduler=None, averaged=None):
        seen.update(raw=model, averaged=averaged)
        return real_train(model, device, loader, optimizer, progress, batch_scheduler, averaged)

    recipe = get_recipe("model_4").with_overrides(ema_epochs=1.0)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(engine, "train", train)
        run = engine.fit(recipe, smoke=True, device="cpu", data_root=mnist_root, progress=False)
    return run, seen


def test_the_saved_network_is_the_one_whose_accuracy_is_recorded(smoke_run, mnist_root, tmp_path):
    path = save_run(dataclasses.replace(smoke_run, smoke=False), tmp_path)
    recorded = load_record(path)["history"][-1]["test_acc"]
    assert smoke_test_accuracy(load_trained_model(path), mnist_root) == recorded


def test_with_a_weight_average_the_average_is_recorded_and_saved(averaged_run, mnist_root, tmp_path):
    run, seen = averaged_run
    path = save_run(dataclasses.replace(run, smoke=False), tmp_path)
    last = load_record(path)["history"][-1]
    assert last["test_acc"] != last["raw_test_acc"]  # two different networks, so a swap cannot pass unseen
    saved = torch.load(path.with_suffix(".pt"), weights_only=True)
    average = seen["averaged"].module.state_dict()
    assert saved.keys() == average.keys() and all(torch.equal(saved[k], average[k]) for k in saved)
    assert not torch.equal(saved["convblock1.0.weight"], seen["raw"].state_dict()["convblock1.0.weight"])
    assert smoke_test_accuracy(load_trained_model(path), mnist_root) == last["test_acc"]
    assert smoke_test_accuracy(seen["raw"], mnist_root) == last["raw_test_acc"]


def test_the_json_is_written_after_the_weights(smoke_run, tmp_path, monkeypatch):
    written, real_write = [], records.atomic_write_bytes

    def write(path, payload):
        written.append(path.name)
        real_write(path, payload)

    monkeypatch.setattr(records, "atomic_write_bytes", write)
    save_run(dataclasses.replace(smoke_run, smoke=False), tmp_path)
    assert written == ["model_4-epochs2.pt", "model_4-epochs2.json"]
