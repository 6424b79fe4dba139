"""GPU check (optional, needs CUDA): both NumPy LSTMs (the readable lstm_ref.numpy and the tuned
lstm_ref.numpy_fast) agree with torch.nn.LSTM running on cuDNN.

The test suite proves agreement with torch's CPU kernel; this script proves it against the cuDNN kernel
that most learners train with. It never runs in CI (CI has no GPU). TF32 is switched off so that the
GPU computes in true float32.

    python -m scripts.gpu_check
"""

from __future__ import annotations

import itertools
import time

import numpy as np
import torch

from lstm_ref.numpy import LSTM as ReadableLSTM
from lstm_ref.numpy_fast import LSTM as FastLSTM


def main() -> None:
    if not torch.cuda.is_available():
        raise SystemExit("no CUDA device: this check needs a GPU")
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    dev = torch.device("cuda")
    print(
        f"torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}, {torch.cuda.get_device_name()}"
    )
    worst_fwd = worst_bwd = 0.0
    F, H, B, T = 8, 16, 4, 12
    engines = {"readable": ReadableLSTM, "fast": FastLSTM}  # lstm_ref.numpy and lstm_ref.numpy_fast
    for (engine, LSTM), L, bi, bf in itertools.product(
        engines.items(), [1, 2, 3], [False, True], [False, True]
    ):
        torch.manual_seed(0)
        ref = torch.nn.LSTM(F, H, L, batch_first=bf, bidirectional=bi).to(dev)
        ours = LSTM(F, H, L, batch_first=bf, bidirectional=bi)
        ours.load_state_dict({k: v.cpu() for k, v in ref.state_dict().items()})
        x = torch.randn((B, T, F) if bf else (T, B, F), device=dev, requires_grad=True)
        out, (h_n, c_n) = ref(x)
        o, (h, c) = ours(x.detach().cpu().numpy())
        fwd = max(
            float(np.abs(a - b.detach().cpu().numpy()).max()) for a, b in ((o, out), (h, h_n), (c, c_n))
        )
        d_out = torch.randn_like(out)
        out.backward(d_out)
        grads, dx = ours.backward(d_out.cpu().numpy())
        bwd = max(float(np.abs(grads[n] - p.grad.cpu().numpy()).max()) for n, p in ref.named_parameters())
        bwd = max(bwd, float(np.abs(dx - x.grad.cpu().numpy()).max()))
        worst_fwd, worst_bwd = max(worst_fwd, fwd), max(worst_bwd, bwd)
        print(
            f"{engine:8} layers={L} bidirectional={bi!s:5} batch_first={bf!s:5}  "
            f"max|diff| forward {fwd:.1e}  backward {bwd:.1e}"
        )
    ok = worst_fwd < 1e-5 and worst_bwd < 1e-4
    print(
        f"worst forward {worst_fwd:.1e} (bound 1e-5), worst backward {worst_bwd:.1e} (bound 1e-4): "
        f"{'AGREE' if ok else 'DISAGREE'}"
    )
    time_forward(dev)
    if not ok:
        raise SystemExit(1)


def time_forward(dev: torch.device) -> None:
    """One forward pass of a bigger LSTM: cuDNN against the fast NumPy engine (printed, not judged)."""
    B, T, F, H = 64, 100, 32, 128
    ref = torch.nn.LSTM(F, H, batch_first=True).to(dev)
    ours = FastLSTM(F, H, batch_first=True)
    x = torch.randn(B, T, F, device=dev)
    xn = x.cpu().numpy()
    with torch.no_grad():
        for _ in range(3):
            ref(x)
        torch.cuda.synchronize()
        t = time.perf_counter()
        for _ in range(20):
            ref(x)
        torch.cuda.synchronize()
        t_gpu = (time.perf_counter() - t) / 20
    t = time.perf_counter()
    for _ in range(3):
        ours(xn)
    t_np = (time.perf_counter() - t) / 3
    print(
        f"(B{B}, T{T}, F{F}, H{H}) forward: cuDNN {t_gpu * 1e3:.2f} ms, NumPy {t_np * 1e3:.1f} ms "
        f"({t_np / t_gpu:.0f}x): the GPU is for training, the NumPy twin is for understanding"
    )


if __name__ == "__main__":
    main()
