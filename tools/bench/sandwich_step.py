#!/usr/bin/env python3
"""Python PyTorch side of the sandwich-step comparison (tools/bench/sandwich_bench.sh).

Replays the sandwich steps an `edgeloop train --log-every 1` run logged (log.jsonl: per step
the members' architectures as canonical keys, the resolution, the distillation weight and
the C++ step time `step_s`) with Python PyTorch on the same members, input shape and loss:
each member forward + MSE loss (+ distill_weight x MSE to the largest member's detached
prediction) + backward, gradient clipping at --clip-norm, one AdamW step (weight decay on
>= 2-D tensors only). Prints the median step time of both sides and the ratio.

Python cannot share weights between subnets without re-implementing the supernet, so each
member is the eager static model of swin_forward_compare.py (the reference model, same
modules) with its own weights: the same arithmetic per step, without edgeloop's slicing.
The optimiser steps only the members of the step (the others have no gradients).

Run with Debian's python3-torch: /usr/bin/python3 tools/bench/sandwich_step.py --log RUN/log.jsonl
"""
import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import swin_forward_compare as swin  # noqa: E402  (sets OPENBLAS_NUM_THREADS before torch)

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def arch_from_key(key):
    """Inverse of edgeloop's CanonicalKey: p2.4.4-e12-d1.1.1.1-h3.3.3.3-w4.4.4-m1-r32-f8."""
    fields = {part[0]: part[1:] for part in key.split("-")}
    ints = lambda text: [int(v) for v in text.split(".")]  # noqa: E731
    return {"patch_size": ints(fields["p"]), "embed_dim": int(fields["e"]),
            "depths": ints(fields["d"]), "num_heads": ints(fields["h"]),
            "window_size": ints(fields["w"]), "mlp_ratio": float(fields["m"]),
            "resolution": int(fields["r"]), "frames": int(fields["f"])}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--log", required=True, help="log.jsonl of an edgeloop train --log-every 1 run")
    ap.add_argument("--batch", type=int, required=True, help="the run's --batch-size")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip", type=int, default=2, help="first steps left out of both medians")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=0.05)
    ap.add_argument("--clip-norm", type=float, default=1.0)
    ap.add_argument("--head-dropout", action="store_true", help="the run used --head-dropout")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    steps = [json.loads(line) for line in open(args.log) if '"subnets"' in line]
    if len(steps) <= args.skip:
        sys.exit(f"sandwich_step.py: {args.log} logs {len(steps)} steps; run with --log-every 1")
    models = {}
    for record in steps:
        for key in record["subnets"].values():
            if key not in models:
                model = swin.VideoSwin(arch_from_key(key))
                model.train(args.head_dropout)
                models[key] = model
    decay, no_decay = [], []
    for model in models.values():
        for p in model.parameters():
            (decay if p.dim() >= 2 else no_decay).append(p)
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=args.lr)

    python_s, edgeloop_s = [], []
    for i, record in enumerate(steps):
        keys = list(record["subnets"].values())
        members = [models[key] for key in keys]
        # Each member at the resolution its key names (one per step, or its own with
        # --member-resolutions).
        inputs = {}
        for key in keys:
            a = arch_from_key(key)
            if a["resolution"] not in inputs:
                inputs[a["resolution"]] = torch.rand(args.batch, 1, a["frames"], a["resolution"],
                                                     a["resolution"])
        y = torch.rand(args.batch, 2)
        kd = record.get("distill_weight", 1.0)
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        teacher = None
        for j, (key, model) in enumerate(zip(keys, members)):
            pred = model(inputs[arch_from_key(key)["resolution"]])
            loss = F.mse_loss(pred, y)
            if j == 0:
                teacher = pred.detach()
            elif kd > 0:
                loss = loss + kd * F.mse_loss(pred, teacher)
            loss.backward()
        params = [p for m in members for p in m.parameters() if p.grad is not None]
        if args.clip_norm > 0:
            torch.nn.utils.clip_grad_norm_(params, args.clip_norm)
        optimizer.step()
        elapsed = time.perf_counter() - start
        if i >= args.skip:
            python_s.append(elapsed)
            edgeloop_s.append(record["step_s"])
    py, cc = statistics.median(python_s), statistics.median(edgeloop_s)
    print(f"sandwich step ({len(python_s)} steps, batch {args.batch}, {args.threads} threads, "
          f"members {len(steps[0]['subnets'])}): edgeloop median {cc * 1000:.1f} ms, "
          f"Python PyTorch {torch.__version__} median {py * 1000:.1f} ms, "
          f"ratio python/edgeloop {py / cc:.2f}")


if __name__ == "__main__":
    main()
