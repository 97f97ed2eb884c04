#!/usr/bin/env python3
"""Writes the state-dict import fixture of tests/supernet/testdata/ (Debian python3-torch).

A tiny Video Swin with the reference's module names (the eager model of
swin_forward_compare.py) is saved exactly as a user would save it, so that the C++ tests
check the import of real torch.save files without needing Python:

  tiny_swin.pt          torch.save(model.state_dict(), FILE): a collections.OrderedDict
                        with its _metadata attribute, relative_position_index buffers included
  tiny_swin_dp_ckpt.pt  a training checkpoint as common trainers write it:
                        {"epoch", "state_dict": nn.DataParallel(model).state_dict() (every name
                        prefixed "module."), "optimizer", "args": argparse.Namespace, ...},
                        saved with _use_new_zipfile_serialization=True
  tiny_swin.json        the architecture (ArchConfig JSON)
  expected.pt           {"x": a fixed input, "y": the model's output on it}

The head of the reference (400 -> 200 -> 2) alone has 80,602 parameters, so the weights are
stored as float16 (model.half()) to keep each file small (233 KB; float32 would be
400 KB); the expected output is
computed in float32 from exactly those rounded weights. This also exercises the reader's
non-float32 storages.

Usage: /usr/bin/python3 tools/bench/make_state_dict_fixture.py [OUT_DIR]
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from swin_forward_compare import VideoSwin  # noqa: E402

# Small, but with every geometric case: T clipped to the window, 5x5 tokens padded to the
# window and shifted (depth 2), patch merging of odd maps, several heads.
ARCH = {"patch_size": [2, 4, 4], "embed_dim": 3, "depths": [2, 2, 1, 1],
        "num_heads": [1, 2, 3, 4], "window_size": [2, 2, 2], "mlp_ratio": 1,
        "resolution": 20, "frames": 4}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out", nargs="?", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "supernet", "testdata"))
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    torch.manual_seed(args.seed)
    model = VideoSwin(ARCH).eval()
    model.half()  # float16 storage; the buffers (int64) keep their type
    x = torch.randn(2, 1, ARCH["frames"], ARCH["resolution"], ARCH["resolution"])
    with torch.no_grad():
        y = VideoSwin(ARCH).eval()
        y.load_state_dict({k: v.float() if v.is_floating_point() else v
                           for k, v in model.state_dict().items()})
        y = y(x)

    torch.save(model.state_dict(), os.path.join(args.out, "tiny_swin.pt"))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    checkpoint = {
        "epoch": 12,
        "state_dict": torch.nn.DataParallel(model).state_dict(),
        "optimizer": optimizer.state_dict(),
        "best_val_loss": 0.0421,
        "args": argparse.Namespace(lr=0.01, batch_size=4, epochs=30),
    }
    torch.save(checkpoint, os.path.join(args.out, "tiny_swin_dp_ckpt.pt"),
               _use_new_zipfile_serialization=True)
    with open(os.path.join(args.out, "tiny_swin.json"), "w") as f:
        json.dump(ARCH, f)
        f.write("\n")
    torch.save({"x": x, "y": y}, os.path.join(args.out, "expected.pt"))
    for name in ("tiny_swin.pt", "tiny_swin_dp_ckpt.pt", "expected.pt"):
        print(name, os.path.getsize(os.path.join(args.out, name)), "bytes")


if __name__ == "__main__":
    main()
