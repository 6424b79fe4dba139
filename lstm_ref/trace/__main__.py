"""``python -m lstm_ref.trace [--keras]``: trace the course's many-to-one demo model (PyTorch, or Keras with
``--keras``) on windows ``(batch=32, time_steps=12, features=1)``, then on ``X.reshape(n, 1, look_back)``.
"""

from __future__ import annotations

import argparse
import sys

from lstm_ref.i18n import _
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
    import numpy as np

    from lstm_ref.keras import keras  # the TensorFlow backend, without its start-up notices

    layers = [keras.Input((LOOK_BACK, 1)), keras.layers.LSTM(16), keras.layers.Dense(1)]
    model = keras.Sequential(layers, name="many_to_one")
    return model, np.random.default_rng(0).normal(size=(N, LOOK_BACK, 1)).astype("float32")


def main(argv: list[str] | None = None) -> int:
    about = _("Trace a small LSTM model's shapes, then a broken variant's diagnosis.")
    parser = argparse.ArgumentParser(prog="python -m lstm_ref.trace", description=about)
    parser.add_argument("--keras", action="store_true", help=_("a Keras model instead of a PyTorch one"))
    model, x = _keras_demo() if parser.parse_args(argv).keras else _torch_demo()
    print(_("A model fed windows of shape {shape}:").format(shape=tuple(x.shape)), end="\n\n")
    print(trace(model, x))
    wrong = x.reshape(N, 1, LOOK_BACK)  # the classic: one time step of LOOK_BACK features
    msg = _("The same model fed X.reshape(n, 1, look_back), shape {shape}:").format(shape=tuple(wrong.shape))
    print(f"\n{msg}\n")
    try:
        trace(model, wrong)
    except ShapeError as err:
        print(err.trace)
        return 0
    print(_("(no error: the demo's broken variant ran, which it should not)"), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
