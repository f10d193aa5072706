"""The `auto` benchmark method: the main job's population search behind the Reconstructor protocol.

One fit on 2 000 points of noisy, unstandardised Lorenz-63 (a budget under SMALL_SEARCH: four shPLRNNs; max_epochs
ends the search before the budget, so the fit does not depend on the machine's speed).
"""

from __future__ import annotations

import numpy as np
import pytest

import dsrkit
from dsrkit import baselines

RAW = dsrkit.systems.get("lorenz63").trajectory(2400, seed=0, noise=0.05) * 3.0 + 10.0
TRAIN, TEST = RAW[:2000], RAW[2000:]
SETTINGS = dict(budget=60.0, max_epochs=2)


@pytest.fixture(scope="module")
def fitted():
    return baselines.get("auto", **SETTINGS).fit(TRAIN, seed=3, dt=0.01)


def test_auto_selects_a_plrnn_family_model_and_runs_it_in_the_datas_units(fitted):
    """The selected model is a checkpoint of the search (a shPLRNN of the small population, its label recorded);
    the free run starts at the given observation and its first steps stay near the data (the standardisation is
    undone: unstandardised output would sit near 0, not near the data's mean 10 + 3·mean)."""
    m = fitted
    assert m.model_kind_ == "shplrnn" and m.label_.startswith("shplrnn(") and "seed=" in m.label_
    np.testing.assert_allclose(m.mean_, TRAIN.mean(0)) and np.testing.assert_allclose(m.scale_, TRAIN.std(0))
    y = m.generate(TEST[0], 20)
    assert y.shape == (20, 3) and y.dtype == np.float64
    np.testing.assert_array_equal(y[0], TEST[0])
    assert np.all(np.abs(y[1] - TEST[0]) < 0.5 * TRAIN.std(0))  # one step moves little, in data units


def test_auto_save_load_round_trip_rebuilds_the_selected_structure(fitted, tmp_path):
    path = fitted.save(tmp_path / "auto.eqx")
    back = baselines.load(path)
    assert type(back).__name__ == "PopulationSearch" and back.label_ == fitted.label_
    assert back.model_.hidden_dim == fitted.model_.hidden_dim
    np.testing.assert_array_equal(back.generate(TEST[:5], 30), fitted.generate(TEST[:5], 30))


def test_auto_refuses_a_series_too_short_for_its_validation_part():
    with pytest.raises(ValueError, match="1600"):
        baselines.get("auto", **SETTINGS).fit(TRAIN[:1000], dt=0.01)


@pytest.mark.slow
def test_auto_is_repeatable_when_max_epochs_ends_the_search(fitted):
    again = baselines.get("auto", **SETTINGS).fit(TRAIN, seed=3, dt=0.01)
    np.testing.assert_array_equal(again.generate(TEST[:5], 30), fitted.generate(TEST[:5], 30))
