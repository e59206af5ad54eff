"""PyTorch speed reference for vigil's predictor (random weights: speed only).

Measures, each phase in a fresh subprocess (so peak RSS is per phase):
  stream   streaming inference, one new frame per call: encoder on that frame, keep the last
           T feature maps (and the stride-16/8 taps for skiptwice), merge + decoder on them.
           Per-call latency p50/p95 and fps, after warm-up.
  train32  training on cached encoder features, batch 32: features of a pool of frames are
  train8   precomputed once; each step gathers B random windows of T frames (+ the target
           frame), merge + decoder forward/backward, loss (tests/fixtures/torch_loss.py),
           Adam step. Sequences/s after warm-up; peak RSS (ru_maxrss).
Prints ONE JSON line to stdout with all numbers.

    /usr/bin/python3 bench/torch_reference.py --encoder resnet18 --variant base \
        --threads 2 --seconds 8

The environment is the caller's and is passed on to the phase subprocesses. PyTorch's best
configuration on the dev machine (docs/SYSTEM.md, "Performance") is
    LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4 \
    OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=Cooperlake \
    /usr/bin/python3 bench/torch_reference.py ...
(tcmalloc: apt package libgoogle-perftools4). The script works with or without it and
reports in the JSON whether tcmalloc was actually loaded and the OPENBLAS_* values.
PyTorch's own BLAS calls (the ConvTranspose2d im2col path: the whole decoder) go through
libblas.so.3: with Debian's reference BLAS (libblas3) instead of OpenBLAS
(libopenblas0-pthread) training is ~10x slower. The 1-minute load average at the start is in
the JSON (it still includes a run that just ended: ~1-1.5 then): with 2 cores and 2 threads,
other load (a parallel build) makes OpenMP threads wait on a descheduled peer and the
numbers collapse 5-20x, so measure on an otherwise idle machine.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "fixtures"))

PHASES = ("stream", "train32", "train8")


def _rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _tcmalloc_loaded():
    try:
        with open("/proc/self/maps") as f:
            return "libtcmalloc" in f.read()
    except OSError:
        return False


def _pct(xs, q):
    xs = sorted(xs)
    i = min(len(xs) - 1, max(0, int(round(q / 100.0 * (len(xs) - 1)))))
    return xs[i]


def phase_stream(args, torch, tm):
    m = tm.Predictor(args.encoder, args.variant, args.T).eval()
    g = torch.Generator().manual_seed(0)
    pool = torch.rand(16, 3, args.size, args.size, generator=g) * 2 - 1
    hist = []  # last T (f8, f16, f32), oldest first
    skip = args.variant == "skiptwice"

    def call(i):
        taps = m.encoder(pool[i % len(pool)].unsqueeze(0))
        hist.append(taps if skip else (None, None, taps[2]))
        if len(hist) > args.T:
            hist.pop(0)
        if len(hist) < args.T:
            return None
        f32 = torch.cat([h[2] for h in hist], dim=1)
        f16 = torch.cat([h[1] for h in hist], dim=1) if skip else None
        f8 = torch.cat([h[0] for h in hist], dim=1) if skip else None
        return m.decode(f32, f16, f8)

    lat = []
    with torch.inference_mode():
        i = 0
        t_end = time.perf_counter() + args.warmup
        while i < args.T + 3 or time.perf_counter() < t_end:  # fill history + warm-up
            call(i)
            i += 1
        t_start = time.perf_counter()
        while True:
            t0 = time.perf_counter()
            y = call(i)
            t1 = time.perf_counter()
            lat.append(t1 - t0)
            i += 1
            if t1 - t_start >= args.seconds and len(lat) >= 10:
                break
        total = time.perf_counter() - t_start
    assert tuple(y.shape) == (1, 3, args.size, args.size)
    return {"frames": len(lat), "fps": len(lat) / total,
            "p50_ms": 1e3 * _pct(lat, 50), "p95_ms": 1e3 * _pct(lat, 95),
            "mean_ms": 1e3 * total / len(lat), "peak_rss_mb": _rss_mb()}


def phase_train(args, torch, tm, batch):
    import torch_loss
    m = tm.Predictor(args.encoder, args.variant, args.T)
    mean, std = tm.NORM[args.encoder]
    skip = args.variant == "skiptwice"
    g = torch.Generator().manual_seed(0)
    P = args.pool
    frames = torch.rand(P, 3, args.size, args.size, generator=g) * 2 - 1
    t0 = time.perf_counter()
    with torch.no_grad():  # the feature cache: encoder once per pool frame
        taps = [m.encoder(frames[i:i + 8]) for i in range(0, P, 8)]
        f32 = torch.cat([t[2] for t in taps])
        f16 = torch.cat([t[1] for t in taps]) if skip else None
        f8 = torch.cat([t[0] for t in taps]) if skip else None
    del taps
    cache_s = time.perf_counter() - t0
    m.train()
    opt = torch.optim.Adam([p for _, p in m.trainable()], lr=3e-4, betas=(0.9, 0.999), eps=1e-8)
    ar = torch.arange(args.T)

    def gather(f, idx):
        win = f[(idx[:, None] + ar).reshape(-1)]  # (B*T, C, h, w), frame b*T + t
        return tm.flatten_time(win, len(idx), args.T)

    def step():
        idx = torch.randint(0, P - args.T, (batch,), generator=g)
        x32 = gather(f32, idx)
        x16 = gather(f16, idx) if skip else None
        x8 = gather(f8, idx) if skip else None
        pred = m.decode(x32, x16, x8)
        loss = torch_loss.loss(pred, frames[idx + args.T], scale=std, shift=mean)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return float(loss)

    for _ in range(args.warmup_steps):
        step()
    n, t_start = 0, time.perf_counter()
    while True:
        step()
        n += 1
        el = time.perf_counter() - t_start
        if el >= args.seconds and n >= 3:
            break
    return {"batch": batch, "steps": n, "seq_per_s": n * batch / el, "step_ms": 1e3 * el / n,
            "cache_s": cache_s, "pool_frames": P, "peak_rss_mb": _rss_mb()}


def run_phase(args):
    import torch
    import torch_models as tm
    torch.set_num_threads(args.threads)
    if args.phase == "stream":
        r = phase_stream(args, torch, tm)
    else:
        r = phase_train(args, torch, tm, int(args.phase[len("train"):]))
    r.update(torch=torch.__version__, torch_threads=torch.get_num_threads(),
             tcmalloc=_tcmalloc_loaded())
    print(json.dumps(r))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--encoder", choices=("resnet18", "mobilenet_v2"), default="resnet18")
    ap.add_argument("--variant", choices=("base", "skiptwice"), default="base")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=8.0, help="measured time per phase")
    ap.add_argument("--size", type=int, default=224, help="H = W, a multiple of 32")
    ap.add_argument("--T", type=int, default=4)
    ap.add_argument("--pool", type=int, default=40, help="frames in the feature cache")
    ap.add_argument("--warmup", type=float, default=1.0, help="streaming warm-up seconds")
    ap.add_argument("--warmup-steps", type=int, default=2, help="training warm-up steps")
    ap.add_argument("--phases", default=",".join(PHASES), help="subset of " + ",".join(PHASES))
    ap.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)  # internal: one phase
    args = ap.parse_args()
    if args.size % 32:
        ap.error("--size must be a multiple of 32")
    if args.phase:
        return run_phase(args)

    out = {"bench": "torch_reference", "encoder": args.encoder, "variant": args.variant,
           "threads": args.threads, "size": args.size, "T": args.T,
           "ld_preload": os.environ.get("LD_PRELOAD", ""),
           "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
           "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
           "cpus": os.cpu_count(), "loadavg_start": round(os.getloadavg()[0], 2)}  # includes earlier runs
    base = [sys.executable, os.path.abspath(__file__), "--encoder", args.encoder,
            "--variant", args.variant, "--threads", str(args.threads),
            "--seconds", str(args.seconds), "--size", str(args.size), "--T", str(args.T),
            "--pool", str(args.pool), "--warmup", str(args.warmup),
            "--warmup-steps", str(args.warmup_steps)]
    t0 = time.perf_counter()
    for ph in [p for p in args.phases.split(",") if p]:
        if ph not in PHASES:
            ap.error(f"unknown phase {ph!r}")
        p = subprocess.run(base + ["--phase", ph], stdout=subprocess.PIPE, text=True)
        if p.returncode != 0:
            out[ph] = {"error": f"exit {p.returncode}"}
            continue
        r = json.loads(p.stdout.strip().splitlines()[-1])
        for k in ("torch", "torch_threads", "tcmalloc"):
            out[k] = r.pop(k)
        out[ph] = r
    out["wall_s"] = round(time.perf_counter() - t0, 1)
    if "train32" in out and "peak_rss_mb" in out["train32"]:
        out["peak_rss_mb_train32"] = out["train32"]["peak_rss_mb"]
    print(json.dumps(out, separators=(",", ":")))


if __name__ == "__main__":
    main()
