#!/usr/bin/env python3
"""Python PyTorch side of edgeloop's supernet checks and forward-latency comparison.

A plain eager re-implementation of the reference Video Swin (Swin3D, written from the
reference architecture description, same module names as the reference code), used to:

  run      load weights (a TorchScript archive from `edgeloop export`, or a state dict file),
           run the eager model and, for an archive, the archive itself on an input read with
           torch.load; save both outputs with torch.save.
  save     initialise the eager model under a seed and torch.save(model.state_dict()), the
           file a user brings to `edgeloop export --from-state-dict`.
  bench    time the eager model (and optionally an exported archive) at a shape on N threads,
           run `edgeloop supernet bench` on the same architecture and print the ratio.

Only Python PyTorch (Debian python3-torch 1.13) is needed.
"""
import argparse
import json
import os
import subprocess
import time

# As in edgeloop (base/blas_threads.h): OpenBLAS on one thread under torch's intra-op threads,
# so both sides use the same threads. Must be set before torch loads OpenBLAS.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def window_sizes(grid, window, shift):
    use_window, use_shift = list(window), list(shift)
    for i in range(3):
        if grid[i] <= window[i]:
            use_window[i] = grid[i]
            use_shift[i] = 0
    return tuple(use_window), tuple(use_shift)


def window_partition(x, ws):
    b, d, h, w, c = x.shape
    x = x.view(b, d // ws[0], ws[0], h // ws[1], ws[1], w // ws[2], ws[2], c)
    return x.permute(0, 1, 3, 5, 2, 4, 6, 7).contiguous().view(-1, ws[0] * ws[1] * ws[2], c)


def window_reverse(windows, ws, b, d, h, w):
    x = windows.view(b, d // ws[0], h // ws[1], w // ws[2], ws[0], ws[1], ws[2], -1)
    return x.permute(0, 1, 4, 2, 5, 3, 6, 7).contiguous().view(b, d, h, w, -1)


def compute_mask(d, h, w, ws, shift):
    img = torch.zeros((1, d, h, w, 1))
    cnt = 0
    for ds in (slice(-ws[0]), slice(-ws[0], -shift[0]), slice(-shift[0], None)):
        for hs in (slice(-ws[1]), slice(-ws[1], -shift[1]), slice(-shift[1], None)):
            for wsl in (slice(-ws[2]), slice(-ws[2], -shift[2]), slice(-shift[2], None)):
                img[:, ds, hs, wsl, :] = cnt
                cnt += 1
    win = window_partition(img, ws).squeeze(-1)
    mask = win.unsqueeze(1) - win.unsqueeze(2)
    return mask.masked_fill(mask != 0, -100.0).masked_fill(mask == 0, 0.0)


class WindowAttention3D(nn.Module):
    def __init__(self, dim, window, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.relative_position_bias_table = nn.Parameter(
            torch.zeros((2 * window[0] - 1) * (2 * window[1] - 1) * (2 * window[2] - 1), heads))
        coords = torch.stack(torch.meshgrid(torch.arange(window[0]), torch.arange(window[1]),
                                            torch.arange(window[2]), indexing="ij"))
        flat = torch.flatten(coords, 1)
        rel = (flat[:, :, None] - flat[:, None, :]).permute(1, 2, 0).contiguous()
        rel[:, :, 0] += window[0] - 1
        rel[:, :, 1] += window[1] - 1
        rel[:, :, 2] += window[2] - 1
        rel[:, :, 0] *= (2 * window[1] - 1) * (2 * window[2] - 1)
        rel[:, :, 1] *= 2 * window[2] - 1
        self.register_buffer("relative_position_index", rel.sum(-1))
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)
        nn.init.trunc_normal_(self.relative_position_bias_table, std=0.02)

    def forward(self, x, mask=None):
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q * self.scale) @ k.transpose(-2, -1)
        bias = self.relative_position_bias_table[
            self.relative_position_index[:n, :n].reshape(-1)].reshape(n, n, -1)
        attn = attn + bias.permute(2, 0, 1).contiguous().unsqueeze(0)
        if mask is not None:
            nw = mask.shape[0]
            attn = attn.view(b // nw, nw, self.heads, n, n) + mask.unsqueeze(1).unsqueeze(0)
            attn = attn.view(-1, self.heads, n, n)
        attn = attn.softmax(-1)
        return self.proj((attn @ v).transpose(1, 2).reshape(b, n, c))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class SwinTransformerBlock3D(nn.Module):
    def __init__(self, dim, heads, window, shift, mlp_ratio):
        super().__init__()
        self.window, self.shift = window, shift
        self.norm1 = nn.LayerNorm(dim)
        self.attn = WindowAttention3D(dim, window, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x, mask):
        b, d, h, w, c = x.shape
        ws, shift = window_sizes((d, h, w), self.window, self.shift)
        shortcut = x
        x = self.norm1(x)
        pd, ph, pw = [(ws[i] - s % ws[i]) % ws[i] for i, s in enumerate((d, h, w))]
        x = F.pad(x, (0, 0, 0, pw, 0, ph, 0, pd))
        _, dp, hp, wp, _ = x.shape
        if any(i > 0 for i in shift):
            x = torch.roll(x, shifts=(-shift[0], -shift[1], -shift[2]), dims=(1, 2, 3))
            attn_mask = mask
        else:
            attn_mask = None
        x = self.attn(window_partition(x, ws), mask=attn_mask)
        x = window_reverse(x.view(-1, *(ws + (c,))), ws, b, dp, hp, wp)
        if any(i > 0 for i in shift):
            x = torch.roll(x, shifts=shift, dims=(1, 2, 3))
        if pd > 0 or ph > 0 or pw > 0:
            x = x[:, :d, :h, :w, :].contiguous()
        x = shortcut + x
        return x + self.mlp(self.norm2(x))


class PatchMerging(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.reduction = nn.Linear(4 * dim, 2 * dim, bias=False)
        self.norm = nn.LayerNorm(4 * dim)

    def forward(self, x):
        _, _, h, w, _ = x.shape
        if h % 2 == 1 or w % 2 == 1:
            x = F.pad(x, (0, 0, 0, w % 2, 0, h % 2))
        x = torch.cat([x[:, :, 0::2, 0::2, :], x[:, :, 1::2, 0::2, :],
                       x[:, :, 0::2, 1::2, :], x[:, :, 1::2, 1::2, :]], -1)
        return self.reduction(self.norm(x))


class BasicLayer(nn.Module):
    def __init__(self, dim, depth, heads, window, mlp_ratio, downsample):
        super().__init__()
        self.window = window
        self.shift = tuple(i // 2 for i in window)
        self.blocks = nn.ModuleList([
            SwinTransformerBlock3D(dim, heads, window, (0, 0, 0) if i % 2 == 0 else self.shift,
                                   mlp_ratio) for i in range(depth)])
        self.downsample = PatchMerging(dim) if downsample else None

    def forward(self, x):
        b, d, h, w, _ = x.shape
        ws, shift = window_sizes((d, h, w), self.window, self.shift)
        dp, hp, wp = [-(-s // ws[i]) * ws[i] for i, s in enumerate((d, h, w))]
        mask = compute_mask(dp, hp, wp, ws, shift)
        for blk in self.blocks:
            x = blk(x, mask)
        return self.downsample(x) if self.downsample is not None else x


class PatchEmbed3D(nn.Module):
    def __init__(self, patch, dim):
        super().__init__()
        self.patch = patch
        self.proj = nn.Conv3d(1, dim, kernel_size=patch, stride=patch)

    def forward(self, x):
        _, _, d, h, w = x.shape
        p = self.patch
        x = F.pad(x, (0, (p[2] - w % p[2]) % p[2], 0, (p[1] - h % p[1]) % p[1],
                      0, (p[0] - d % p[0]) % p[0]))
        return self.proj(x)


class Head(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.dropout = nn.Dropout(0.5)
        self.fc_cls = nn.Linear(dim, 400)


class VideoSwin(nn.Module):
    def __init__(self, arch):
        super().__init__()
        e = arch["embed_dim"]
        window = tuple(arch.get("window_size", (8, 7, 7)))
        self.patch_embed = PatchEmbed3D(tuple(arch["patch_size"]), e)
        self.layers = nn.ModuleList([
            BasicLayer(e * 2 ** i, arch["depths"][i], arch["num_heads"][i], window,
                       arch["mlp_ratio"], i < 3) for i in range(4)])
        self.norm = nn.LayerNorm(e * 8)
        self.head = Head(e * 8)
        self.linear_layers = nn.Sequential(nn.Linear(400, 200), nn.ReLU(), nn.Linear(200, 2))

    def forward(self, x):
        x = self.patch_embed(x).permute(0, 2, 3, 4, 1).contiguous()
        for layer in self.layers:
            x = layer(x)
        x = self.norm(x).mean((1, 2, 3))
        x = self.head.fc_cls(self.head.dropout(x))
        return self.linear_layers(x)


def parse_arch(text):
    return json.loads(open(text).read() if text.endswith(".json") else text)


def timed(fn, x, warmup, runs):
    with torch.inference_mode():
        for _ in range(warmup):
            fn(x)
        ms = []
        for _ in range(runs):
            start = time.perf_counter()
            fn(x)
            ms.append((time.perf_counter() - start) * 1000)
    ms.sort()
    return ms[len(ms) // 2]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    run = sub.add_parser("run")
    run.add_argument("--arch", required=True)
    run.add_argument("--model", help="TorchScript archive from edgeloop export")
    run.add_argument("--state-dict", help="state dict file")
    run.add_argument("--input", required=True, help="torch.load-able dict with key 'x'")
    run.add_argument("--out", required=True)
    save = sub.add_parser("save")
    save.add_argument("--arch", required=True)
    save.add_argument("--seed", type=int, default=0)
    save.add_argument("--out", required=True)
    save.add_argument("--drop-buffers", action="store_true")
    bench = sub.add_parser("bench")
    bench.add_argument("--arch", default="")
    bench.add_argument("--shape", default="1,1,16,224,224")
    bench.add_argument("--threads", type=int, default=2)
    bench.add_argument("--runs", type=int, default=5)
    bench.add_argument("--warmup", type=int, default=1)
    bench.add_argument("--model", help="also time this TorchScript archive in Python")
    bench.add_argument("--edgeloop", help="edgeloop binary to time the C++ forward")
    args = ap.parse_args()

    if args.cmd == "save":
        torch.manual_seed(args.seed)
        model = VideoSwin(parse_arch(args.arch))
        sd = model.state_dict()  # a collections.OrderedDict, saved as users save it
        if args.drop_buffers:
            for k in [k for k in sd if k.endswith("relative_position_index")]:
                del sd[k]
        torch.save(sd, args.out)
        return
    if args.cmd == "run":
        model = VideoSwin(parse_arch(args.arch)).eval()
        # Files this run's own C++ side wrote: LibTorch's pickles carry TorchScript type tags
        # that torch >= 2.6's default weights_only loading refuses.
        x = torch.load(args.input, weights_only=False)["x"]
        out = {"input": x}  # two entries at least: LibTorch 1.13 lacks the SETITEM opcode
        with torch.no_grad():
            if args.model:
                script = torch.jit.load(args.model).eval()
                out["script"] = script(x)
                model.load_state_dict(script.state_dict())
            else:
                model.load_state_dict(torch.load(args.state_dict, weights_only=False), strict=False)
            out["eager"] = model(x)
        torch.save(out, args.out)
        return
    # bench
    torch.set_num_threads(args.threads)
    shape = [int(v) for v in args.shape.split(",")]
    arch = parse_arch(args.arch) if args.arch else {
        "patch_size": [2, 4, 4], "embed_dim": 96, "depths": [2, 2, 6, 2],
        "num_heads": [3, 6, 12, 24], "window_size": [8, 7, 7], "mlp_ratio": 4}
    arch = dict(arch, frames=shape[2], resolution=shape[3])
    torch.manual_seed(0)
    model = VideoSwin(arch).eval()
    x = torch.randn(*shape)
    eager_ms = timed(model, x, args.warmup, args.runs)
    print(json.dumps({"python_eager_median_ms": round(eager_ms, 3), "shape": shape,
                      "threads": torch.get_num_threads(),
                      "openblas_threads": os.environ["OPENBLAS_NUM_THREADS"],
                      "torch": torch.__version__}))
    if args.model:
        script = torch.jit.load(args.model).eval()
        print(json.dumps({"python_torchscript_median_ms": round(timed(script, x, args.warmup, args.runs), 3)}))
    if args.edgeloop:
        out = subprocess.run(
            [args.edgeloop, "supernet", "bench", "--arch", json.dumps(arch), "--batch", str(shape[0]),
             "--runs", str(args.runs), "--warmup", str(args.warmup), "--threads", str(args.threads)],
            check=True, capture_output=True, text=True).stdout
        cpp = json.loads(out.strip().splitlines()[-1])
        print(json.dumps({"edgeloop_median_ms": cpp["median_ms"],
                          "ratio_python_over_edgeloop": round(eager_ms / cpp["median_ms"], 3)}))


if __name__ == "__main__":
    main()
