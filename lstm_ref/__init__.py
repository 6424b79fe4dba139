"""lstm_ref: reference LSTMs that agree exactly across NumPy, PyTorch and Keras.

The light modules load with NumPy only:

- ``lstm_ref.numpy``: the NumPy LSTM written to be read (CS231n style: named gates, step
  forward/backward pairs, a plain loop over time), a twin of ``torch.nn.LSTM``;
- ``lstm_ref.numpy_fast``: the same layer, tuned for speed (tested against the readable one);
- ``lstm_ref.data``: windows of a series, stateful batches, forecasts, the shipped datasets;
- ``lstm_ref.shapes``: parameter counts and the one parameter table, output/state shapes for both
  frameworks;
- ``lstm_ref.diagnose``: the words for shapes: which axis of a wrong shape is wrong, and the fix;
- ``lstm_ref.feedback``: assertions for exercise tests, in the same words;
- ``lstm_ref.trace``: the shape tracer, for your own PyTorch or Keras model.

The messages to learners are in English, or in Simplified Chinese after ``lstm_ref.set_language("zh_CN")``
(or with ``LSTM_REF_LANG=zh_CN`` in the environment): see ``lstm_ref.i18n``.

The framework modules import their framework, and only they do:
``lstm_ref.torch``, ``lstm_ref.keras`` and ``lstm_ref.convert``. The instructor's tools are a
separate package, ``lstm_course``.

The one weight format everywhere is PyTorch's ``state_dict``:
``weight_ih_l{k}`` (4H, in), ``weight_hh_l{k}`` (4H, H), ``bias_ih_l{k}`` (4H,),
``bias_hh_l{k}`` (4H,), with a ``_reverse`` suffix for the backward direction,
and the gate order i, f, g, o.
"""

__version__ = "0.1.0"

import importlib

from lstm_ref.i18n import get_language, set_language

_SUBMODULES = (
    "numpy",
    "numpy_fast",
    "data",
    "shapes",
    "diagnose",
    "feedback",
    "trace",
    "torch",
    "keras",
    "convert",
)
__all__ = [*_SUBMODULES, "__version__", "get_language", "set_language"]


def __getattr__(name: str):
    """Import submodules on first access, so ``import lstm_ref`` stays light."""
    if name in _SUBMODULES:
        return importlib.import_module(f"lstm_ref.{name}")
    raise AttributeError(f"module 'lstm_ref' has no attribute {name!r}")
