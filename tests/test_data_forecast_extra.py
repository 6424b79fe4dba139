"""``seasonal_trend_forecast`` against forecasts worked out by hand, and against the series it
should reproduce exactly (a series that grows by the same factor, or the same amount, every season).
"""

from __future__ import annotations

import numpy as np
import pytest

from lstm_ref.data import make_windows
from lstm_ref.data.forecast import seasonal_trend_forecast


def test_hand_computed_multiplicative_and_additive():
    # season 4; last season 8, 12, 16, 20; growth over the last season 20 / 10 = 2, change +10
    X = np.array([[10.0, 4, 6, 8, 10, 8, 12, 16, 20]]).reshape(1, 9, 1)
    mult = seasonal_trend_forecast(X, season=4, horizon=6)
    np.testing.assert_allclose(mult, [[16.0, 24, 32, 40, 8 * 2**2, 12 * 2**2]])  # k = 2 after a season
    add = seasonal_trend_forecast(X, season=4, horizon=6, multiplicative=False)
    np.testing.assert_allclose(add, [[18.0, 22, 26, 30, 28, 32]])


def test_reproduces_a_series_that_grows_by_a_constant_factor():
    season, years = 12, 5
    pattern = 100 + 20 * np.sin(np.arange(season) / season * 2 * np.pi)  # (12,)
    series = np.concatenate([pattern * 1.1**y for y in range(years)])  # (60,)
    X, y = make_windows(series, look_back=season + 1, horizon=18)
    np.testing.assert_allclose(seasonal_trend_forecast(X, season, horizon=18), y, rtol=1e-12)


def test_reproduces_a_series_that_grows_by_a_constant_amount():
    season = 3
    series = np.tile([1.0, 5.0, 2.0], 6) + np.repeat(np.arange(6) * 7.0, season)  # +7 per season
    X, y = make_windows(series, look_back=4, horizon=5)
    pred = seasonal_trend_forecast(X, season, horizon=5, multiplicative=False)
    np.testing.assert_allclose(pred, y)


def test_target_column_and_shape():
    X = np.stack([np.arange(1.0, 14.0), np.full(13, -1.0)], axis=1)[None]  # (1, 13, 2)
    pred = seasonal_trend_forecast(X, season=12, horizon=2, target_col=0)
    assert pred.shape == (1, 2)
    np.testing.assert_allclose(pred, [[2.0 * 13 / 1, 3.0 * 13 / 1]])  # last year's 2, 3 times 13 / 1


def test_needs_one_step_more_than_a_season():
    with pytest.raises(ValueError, match=r"time_steps >= season \+ 1 = 13"):
        seasonal_trend_forecast(np.ones((2, 12, 1)), season=12)
