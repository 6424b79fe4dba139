"""lstm_ref: reference LSTMs that agree exactly across NumPy, PyTorch and Keras.

The light modules load with NumPy only:

- ``lstm_ref.numpy``: the NumPy LSTM (forward and full BPTT), a twin of ``torch.nn.LSTM``;
- ``lstm_ref.data``: windows of a series, stateful batches, the shipped datasets;
- ``lstm_ref.shapes``: parameter counts and output/state shapes for both frameworks.

The framework modules import their framework, and only they do:
``lstm_ref.torch``, ``lstm_ref.keras`` and ``lstm_ref.convert``.

The one weight format everywhere is PyTorch's ``state_dict``:
``weight_ih_l{k}`` (4H, in), ``weight_hh_l{k}`` (4H, H), ``bias_ih_l{k}`` (4H,),
``bias_hh_l{k}`` (4H,), with a ``_reverse`` suffix for the backward direction,
and the gate order i, f, g, o.
"""

__version__ = "0.1.0"

import importlib

_SUBMODULES = ("numpy", "data", "shapes", "feedback", "torch", "keras", "convert", "course")
__all__ = [*_SUBMODULES, "__version__"]


def __getattr__(name: str):
    """Import submodules on first access, so ``import lstm_ref`` stays light."""
    if name in _SUBMODULES:
        return importlib.import_module(f"lstm_ref.{name}")
    raise AttributeError(f"module 'lstm_ref' has no attribute {name!r}")
