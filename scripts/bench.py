"""Benchmark: the fast engine lstm_ref.numpy_fast.LSTM against torch.nn.LSTM on the CPU, same weights and input.

The targets (``TARGETS``) are for the fast engine. One more size runs the readable ``lstm_ref.numpy.LSTM``
too (``READABLE_SIZE``, no target), to show what the tuning buys.

Reports ratios (NumPy time / torch time), never absolute targets in tests: absolute times on shared
machines are noise. Each measurement is the best of ``--rounds`` x ``--repeats`` runs. The two libraries run in
separate blocks with a pause between them: torch's OpenMP workers and OpenBLAS's workers both spin
for a while after a call, and interleaving the two makes each slow the other down (measured here:
torch's forward went from about 8 ms to 12 ms at B64, T100, F32, H128).

    python scripts/bench.py                 # print the table
    python scripts/bench.py --write BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import math
import platform
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from lstm_ref import numpy as readable
from lstm_ref.numpy_fast import LSTM, batch_parts

SIZES = [(64, 100, 32, 128), (256, 200, 64, 256), (32, 50, 16, 64)]  # (B, T, F, H)
TARGETS = {  # (B, T, F, H) -> {measure: max ratio}
    (64, 100, 32, 128): {"forward": 1.4, "forward+backward": 1.5},
    (256, 200, 64, 256): {"forward": 1.2},
}
READABLE_SIZE = SIZES[0]  # the readable engine is timed here only


def verdict(size: tuple[int, int, int, int], measure_name: str, ratio: float) -> str:
    """``"met"`` or ``"MISSED"`` for a fast-engine ratio with a target in ``TARGETS``, else ``""``."""
    target = TARGETS.get(size, {}).get(measure_name)
    return "" if target is None else ("met" if ratio <= target else "MISSED")


def _time(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def measure(
    B: int, T: int, F: int, H: int, repeats: int, rounds: int, engine: type = LSTM
) -> dict[str, tuple[float, float]]:
    """Best seconds for ``engine`` (a NumPy LSTM class) and torch, forward and forward+backward,
    batch-first float32."""
    torch.manual_seed(0)
    ref = torch.nn.LSTM(F, H, batch_first=True)
    ours = engine(F, H, batch_first=True)
    ours.load_state_dict(ref.state_dict())
    x = np.random.default_rng(0).standard_normal((B, T, F)).astype(np.float32)
    xt = torch.from_numpy(x)
    d_out = np.random.default_rng(1).standard_normal((B, T, H)).astype(np.float32)
    d_out_t = torch.from_numpy(d_out)

    def torch_fwd():
        with torch.no_grad():
            ref(xt)

    def torch_fb():
        xx = xt.clone().requires_grad_(True)
        out, _ = ref(xx)
        out.backward(d_out_t)

    def np_fwd():
        ours(x)

    def np_fb():
        ours(x)
        ours.backward(d_out)

    def best(fn) -> float:
        time.sleep(0.3)  # let the other library's spinning worker threads go idle
        fn()  # warm up
        return min(_time(fn) for _ in range(repeats))

    # This machine's speed drifts over seconds (a shared VM), so the blocks alternate for
    # ``rounds`` rounds and each side keeps its best: both libraries get their fastest moment.
    pairs = {"forward": (np_fwd, torch_fwd), "forward+backward": (np_fb, torch_fb)}
    res = {name: (math.inf, math.inf) for name in pairs}
    for _ in range(rounds):
        for name, (ours_fn, ref_fn) in pairs.items():
            t_np, t_t = best(ours_fn), best(ref_fn)
            res[name] = (min(res[name][0], t_np), min(res[name][1], t_t))
    return res


BEGIN, END = "<!-- bench:begin (scripts/bench.py --write) -->", "<!-- bench:end -->"


def write_table(path: Path, block: str) -> None:
    """Put ``block`` between the BEGIN and END markers of ``path``, keeping the hand-written rest."""
    text = (
        path.read_text()
        if path.exists()
        else f"# Benchmarks: NumPy LSTM vs torch.nn.LSTM (CPU)\n\n{BEGIN}\n{END}\n"
    )
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{path}: add the lines {BEGIN} and {END} where the table goes")
    head, rest = text.split(BEGIN, 1)
    path.write_text(f"{head}{BEGIN}\n{block}\n{END}{rest.split(END, 1)[1]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7, help="timed calls per block")
    ap.add_argument("--rounds", type=int, default=3, help="alternating NumPy/torch blocks per measure")
    ap.add_argument("--write", metavar="FILE", help="also write the table as Markdown to FILE")
    args = ap.parse_args()
    rows, failures = [], []
    runs = [(size, "fast", LSTM) for size in SIZES] + [(READABLE_SIZE, "readable", readable.LSTM)]
    for size, name, engine in tqdm(runs, desc="benchmark sizes"):
        res = measure(*size, repeats=args.repeats, rounds=args.rounds, engine=engine)
        for measure_name, (t_np, t_t) in res.items():
            ratio = t_np / t_t
            target = TARGETS.get(size, {}).get(measure_name) if name == "fast" else None
            mark = verdict(size, measure_name, ratio) if name == "fast" else ""
            if mark == "MISSED":
                failures.append(f"{size} {measure_name}: {ratio:.2f} > {target}")
            threads = len(batch_parts(size[0], size[3])) if name == "fast" else 1
            rows.append((size, measure_name, name, threads, t_np * 1e3, t_t * 1e3, ratio, target, mark))
    header = (
        "| B, T, F, H | pass | NumPy engine | NumPy threads | NumPy ms | torch ms | ratio | target | |\n"
        "|---|---|---|---:|---:|---:|---:|---:|---|"
    )
    lines = [
        f"| {', '.join(map(str, s))} | {m} | {e} | {n} | {a:.1f} | {b:.1f} | {r:.2f}x | {'' if t is None else f'<= {t}x'} | {v} |"
        for s, m, e, n, a, b, r, t, v in rows
    ]
    env = (
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), NumPy {np.__version__}, "
        f"Python {platform.python_version()}, {platform.machine()}, best of {args.rounds} rounds x {args.repeats} calls, float32, batch_first"
    )
    table = "\n".join([header, *lines])
    print(table)
    print(env)
    if args.write:
        write_table(Path(args.write), table + "\n\n" + env)
    if failures:
        print("targets missed: " + "; ".join(failures))


if __name__ == "__main__":
    main()
