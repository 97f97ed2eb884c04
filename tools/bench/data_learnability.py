#!/usr/bin/python3
"""Learnability of the synthetic RAISE-LPBF-Laser data (issue 3's note).

Generates a training object and a held-out test object with `edgeloop data synth`, applies the
reference preprocessing (41x41 crop on the brightest pixel of the mean frame, 16-frame window,
random for training / centred for evaluation, zero-padding, normalisation 0.45/0.225) in numpy at
a reduced resolution, then compares on the test object:
  - predicting the training mean (speed, power),
  - a small 3D CNN trained for a fixed CPU time budget on the video windows,
  - the same CNN fed one frame repeated 16 times (no temporal information),
reporting RMSE in mm/s and W. Needs Debian's python3-torch and python3-h5py.

  tools/bench/data_learnability.py --edgeloop build/tools/edgeloop [--budget 120]
"""
import argparse
import os
import subprocess
import tempfile
import time

import h5py
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

CROP, FRAMES = 41, 16
MEAN, STD = 0.45, 0.225
SCALE = np.array([900.0, 215.0], dtype=np.float32)


def load(path, resolution):
    """Per scan line: all frames cropped around the brightest pixel of the mean frame."""
    clips, labels = [], []
    with h5py.File(path, "r") as f:
        for obj in sorted(f.keys()):
            for layer in sorted(f[obj].keys()):
                g = f[obj][layer]
                frames = g["frame"][...]
                index = g["scan_line_index"][...]
                params = g["laser_params"][...]
                for line in np.unique(index):
                    x = frames[index == line].astype(np.float32)
                    mean = x.mean(axis=0)
                    r, c = np.unravel_index(np.argmax(mean), mean.shape)
                    padded = np.pad(x, ((0, 0), (CROP, CROP), (CROP, CROP)))
                    top, left = r + CROP - CROP // 2, c + CROP - CROP // 2
                    crop = padded[:, top:top + CROP, left:left + CROP]
                    t = torch.from_numpy(crop)[:, None]
                    t = F.interpolate(t, size=(resolution, resolution), mode="bilinear",
                                      align_corners=False)[:, 0]
                    clips.append(((t / 255.0 - MEAN) / STD).numpy())
                    labels.append(params[line, :2] / SCALE)
    return clips, np.array(labels, dtype=np.float32)


def window(clip, offset):
    out = np.zeros((FRAMES,) + clip.shape[1:], dtype=np.float32)
    part = clip[offset:offset + FRAMES]
    out[:len(part)] = part
    return out


def batch(clips, idx, train, rng, static):
    xs = []
    for i in idx:
        clip = clips[i]
        slack = len(clip) - FRAMES
        off = 0 if slack <= 0 else (rng.integers(0, slack + 1) if train else slack // 2)
        w = window(clip, off)
        if static:  # one frame repeated: the model cannot see motion
            w = np.repeat(w[:1], FRAMES, axis=0)
        xs.append(w)
    return torch.from_numpy(np.stack(xs))[:, None]


class Small3dCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv3d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool3d((1, 2, 2)),
            nn.Conv3d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool3d(2),
            nn.Conv3d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool3d(2),
            nn.Conv3d(32, 32, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool3d(1))
        self.head = nn.Linear(32, 2)

    def forward(self, x):
        return self.head(self.features(x).flatten(1)) + 1.0  # targets are centred near 1


def rmse(pred, y):
    return np.sqrt((((pred - y) * SCALE) ** 2).mean(axis=0))


def train_and_eval(train, test, budget, static, seed):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    clips, y = train
    model = Small3dCnn()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    start, steps = time.time(), 0
    while time.time() - start < budget:
        # cosine decay over the time budget, so the final weights are not those of a noisy step
        for group in opt.param_groups:
            group["lr"] = 1e-3 * 0.5 * (1 + np.cos(np.pi * min(1.0, (time.time() - start) / budget)))
        idx = rng.choice(len(clips), size=16, replace=False)
        x = batch(clips, idx, True, rng, static)
        loss = F.mse_loss(model(x), torch.from_numpy(y[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        steps += 1
    model.eval()
    tclips, ty = test
    preds = []
    with torch.no_grad():
        for s in range(0, len(tclips), 64):
            idx = range(s, min(s + 64, len(tclips)))
            preds.append(model(batch(tclips, idx, False, rng, static)).numpy())
    return rmse(np.concatenate(preds), ty), steps


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--edgeloop", default="build/tools/edgeloop")
    ap.add_argument("--budget", type=float, default=120, help="CPU seconds of training per model")
    ap.add_argument("--resolution", type=int, default=24)
    ap.add_argument("--train-layers", type=int, default=48)
    ap.add_argument("--test-layers", type=int, default=12)
    ap.add_argument("--lines-per-layer", type=int, default=25)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for name, obj, layers, seed in (("train", "C027", args.train_layers, args.seed),
                                        ("test", "C029", args.test_layers, args.seed + 1000)):
            paths[name] = os.path.join(tmp, name + ".hdf5")
            subprocess.run([args.edgeloop, "data", "synth", "--out", paths[name], "--objects", obj,
                            "--layers", str(layers), "--lines-per-layer", str(args.lines_per_layer),
                            "--seed", str(seed)], check=True, stderr=subprocess.DEVNULL)
        train = load(paths["train"], args.resolution)
        test = load(paths["test"], args.resolution)
    print(f"train lines {len(train[0])} (object C027), test lines {len(test[0])} (object C029), "
          f"resolution {args.resolution}, budget {args.budget:.0f} s per model")
    mean_rmse = rmse(np.broadcast_to(train[1].mean(axis=0), test[1].shape), test[1])
    print(f"predict training mean:       speed RMSE {mean_rmse[0]:7.1f} mm/s   power RMSE {mean_rmse[1]:6.1f} W")
    for static in (False, True):
        r, steps = train_and_eval(train, test, args.budget, static, args.seed)
        name = "3D CNN, one frame x16:" if static else "3D CNN, 16-frame video:"
        print(f"{name:28s} speed RMSE {r[0]:7.1f} mm/s   power RMSE {r[1]:6.1f} W   ({steps} steps of 16)")


if __name__ == "__main__":
    main()
