"""``python -m lstm_ref.trace [--keras]``: trace a small demo model, then a broken variant.

The demo is the course's many-to-one regressor on windows of a series, ``(batch=32, time_steps=12,
features=1)``: PyTorch by default (``nn.LSTM`` + ``nn.Linear``), Keras with ``--keras`` (imported
only then). The broken variant gets the classic ``X.reshape(n, 1, look_back)`` input, and its
diagnosis is printed without a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys

from lstm_ref.trace import ShapeError, trace

N, LOOK_BACK = 32, 12


def _torch_demo():
    import torch
    from torch import nn

    class ManyToOne(nn.Module):
        """LSTM(1 -> 16, two layers, batch first) -> last time step -> Linear(16 -> 1)."""

        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(1, 16, num_layers=2, batch_first=True)
            self.fc = nn.Linear(16, 1)

        def forward(self, x):
            output, (h_n, c_n) = self.lstm(x)
            return self.fc(output[:, -1])

    torch.manual_seed(0)
    return ManyToOne(), torch.randn(N, LOOK_BACK, 1)


def _keras_demo():
    # as lstm_ref.keras does: TensorFlow's start-up notices are no part of the demo
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import keras
    import numpy as np

    model = keras.Sequential(
        [keras.Input((LOOK_BACK, 1)), keras.layers.LSTM(16), keras.layers.Dense(1)], name="many_to_one"
    )
    return model, np.random.default_rng(0).normal(size=(N, LOOK_BACK, 1)).astype("float32")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lstm_ref.trace",
        description="Trace a small LSTM model's shapes, then a broken variant's diagnosis.",
    )
    parser.add_argument("--keras", action="store_true", help="a Keras model instead of a PyTorch one")
    args = parser.parse_args(argv)
    model, x = _keras_demo() if args.keras else _torch_demo()

    print(f"A model fed windows of shape {tuple(x.shape)}:\n")
    print(trace(model, x))

    wrong = x.reshape(N, 1, LOOK_BACK)  # the classic: one time step of LOOK_BACK features
    print(f"\nThe same model fed X.reshape(n, 1, look_back), shape {tuple(wrong.shape)}:\n")
    try:
        trace(model, wrong)
    except ShapeError as err:
        print(err.trace)
        return 0
    print("(no error: the demo's broken variant ran, which it should not)", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
