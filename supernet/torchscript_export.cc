#include "supernet/torchscript_export.h"

#include <cmath>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "arch/arch_config.h"
#include "base/atomic_file.h"
#include "supernet/window_geometry.h"

namespace edgeloop::supernet {
namespace {

using torch::jit::Module;

// A jit module of its own class holding the torch::nn module's direct parameters and
// buffers (not its children), in eval mode.
Module NewModule(const std::string& class_name, torch::nn::Module& source) {
  Module m(c10::QualifiedName(absl::StrCat("__torch__.edgeloop.", class_name)));
  m.register_attribute("training", c10::BoolType::get(), false);
  for (auto& p : source.named_parameters(/*recurse=*/false))
    m.register_parameter(p.key(), p.value(), false);
  for (auto& b : source.named_buffers(/*recurse=*/false)) m.register_buffer(b.key(), b.value());
  return m;
}

// Mirrors a torch::nn module tree (parameters, buffers, children) as jit modules.
Module Mirror(const std::string& class_name, torch::nn::Module& source) {
  Module m = NewModule(class_name, source);
  for (auto& child : source.named_children()) {
    m.register_module(child.key(),
                      Mirror(absl::StrCat(class_name, "_", child.key()), *child.value()));
  }
  return m;
}

std::string Float(double v) { return absl::StrFormat("%.17g", v); }

// Pads [B, D, H, W, C] at the end of D, H, W.
std::string PadDhw(const std::string& var, const Dims3& grid, const Dims3& padded) {
  if (grid == padded) return "";
  return absl::StrFormat("    %s = torch.constant_pad_nd(%s, [0, 0, 0, %d, 0, %d, 0, %d], 0.0)\n",
                         var, var, padded[2] - grid[2], padded[1] - grid[1], padded[0] - grid[0]);
}

std::string BlockSource(const WindowPlan& plan, bool roll, int64_t heads, int64_t width) {
  const Dims3& w = plan.window;
  const Dims3& p = plan.padded;
  const Dims3& g = plan.grid;
  const int64_t n = plan.window_tokens(), head_dim = width / heads;
  std::string s = "def forward(self, x: Tensor, mask: Optional[Tensor]) -> Tensor:\n";
  absl::StrAppendFormat(&s, "    B = x.size(0)\n");
  absl::StrAppendFormat(&s,
                        "    y = torch.layer_norm(x, [%d], self.norm1.weight, self.norm1.bias, "
                        "1e-05, False)\n",
                        width);
  s += PadDhw("y", g, p);
  if (roll)
    absl::StrAppendFormat(&s, "    y = torch.roll(y, [%d, %d, %d], [1, 2, 3])\n", -plan.shift[0],
                          -plan.shift[1], -plan.shift[2]);
  absl::StrAppendFormat(
      &s,
      "    y = y.view(B, %d, %d, %d, %d, %d, %d, %d).permute(0, 1, 3, 5, 2, 4, 6, "
      "7).contiguous().view(-1, %d, %d)\n",
      p[0] / w[0], w[0], p[1] / w[1], w[1], p[2] / w[2], w[2], width, n, width);
  absl::StrAppendFormat(&s,
                        "    qkv = torch.linear(y, self.attn.qkv.weight, self.attn.qkv.bias)"
                        ".reshape(-1, %d, 3, %d, %d).permute(2, 0, 3, 1, 4)\n",
                        n, heads, head_dim);
  absl::StrAppendFormat(&s, "    q = qkv[0] * %s\n", Float(1.0 / std::sqrt(double(head_dim))));
  s += "    attn = torch.matmul(q, qkv[1].transpose(-2, -1))\n";
  absl::StrAppendFormat(&s,
                        "    index = self.attn.relative_position_index[:%d, :%d].reshape(-1)\n"
                        "    bias = torch.index_select(self.attn.relative_position_bias_table, 0, "
                        "index).reshape(%d, %d, %d).permute(2, 0, 1)\n",
                        n, n, n, n, heads);
  s += "    attn = attn + bias.unsqueeze(0)\n";
  if (roll) {
    absl::StrAppendFormat(&s,
                          "    if mask is not None:\n"
                          "        attn = (attn.view(-1, %d, %d, %d, %d) + "
                          "mask.unsqueeze(1).unsqueeze(0)).view(-1, %d, %d, %d)\n",
                          plan.num_windows(), heads, n, n, heads, n, n);
  }
  s += "    attn = torch.softmax(attn, -1)\n";
  absl::StrAppendFormat(
      &s, "    y = torch.matmul(attn, qkv[2]).transpose(1, 2).reshape(-1, %d, %d)\n", n, width);
  s += "    y = torch.linear(y, self.attn.proj.weight, self.attn.proj.bias)\n";
  absl::StrAppendFormat(
      &s,
      "    y = y.view(B, %d, %d, %d, %d, %d, %d, %d).permute(0, 1, 4, 2, 5, 3, 6, "
      "7).contiguous().view(B, %d, %d, %d, %d)\n",
      p[0] / w[0], p[1] / w[1], p[2] / w[2], w[0], w[1], w[2], width, p[0], p[1], p[2], width);
  if (roll)
    absl::StrAppendFormat(&s, "    y = torch.roll(y, [%d, %d, %d], [1, 2, 3])\n", plan.shift[0],
                          plan.shift[1], plan.shift[2]);
  if (g != p)
    absl::StrAppendFormat(&s, "    y = y[:, :%d, :%d, :%d, :].contiguous()\n", g[0], g[1], g[2]);
  s += "    x = x + y\n";
  absl::StrAppendFormat(&s,
                        "    z = torch.layer_norm(x, [%d], self.norm2.weight, self.norm2.bias, "
                        "1e-05, False)\n",
                        width);
  s += "    z = torch.linear(torch.gelu(torch.linear(z, self.mlp.fc1.weight, self.mlp.fc1.bias)), "
       "self.mlp.fc2.weight, self.mlp.fc2.bias)\n";
  s += "    return x + z\n";
  return s;
}

// Region labels along one padded axis, as ShiftedWindowMask (window_geometry.cc).
std::string AxisLabels(const std::string& var, int64_t padded, int64_t window, int64_t shift) {
  std::string s = absl::StrFormat(
      "    %s = torch.zeros([%d], dtype=like.dtype, device=like.device)\n", var, padded);
  if (shift > 0) {
    absl::StrAppendFormat(&s, "    %s[%d:%d] = 1.0\n    %s[%d:] = 2.0\n", var, padded - window,
                          padded - shift, var, padded - shift);
  }
  return s;
}

std::string StageSource(const WindowPlan& plan, int64_t depth, int64_t width, bool downsample) {
  const bool masked = depth > 1 && plan.shifted();
  std::string s;
  if (masked) {
    const Dims3& w = plan.window;
    const Dims3& p = plan.padded;
    s += "def shift_mask(self, like: Tensor) -> Tensor:\n";
    s += AxisLabels("ld", p[0], w[0], plan.shift[0]);
    s += AxisLabels("lh", p[1], w[1], plan.shift[1]);
    s += AxisLabels("lw", p[2], w[2], plan.shift[2]);
    absl::StrAppendFormat(&s,
                          "    img = ld.view(%d, 1, 1) * 9.0 + lh.view(1, %d, 1) * 3.0 + "
                          "lw.view(1, 1, %d)\n",
                          p[0], p[1], p[2]);
    absl::StrAppendFormat(&s,
                          "    win = img.view(%d, %d, %d, %d, %d, %d).permute(0, 2, 4, 1, 3, 5)"
                          ".reshape(-1, %d)\n",
                          p[0] / w[0], w[0], p[1] / w[1], w[1], p[2] / w[2], w[2],
                          plan.window_tokens());
    s += "    diff = win.unsqueeze(1) - win.unsqueeze(2)\n";
    s += "    return torch.zeros_like(diff).masked_fill(diff != 0, -100.0)\n\n";
  }
  s += "def forward(self, x: Tensor) -> Tensor:\n";
  s += masked ? "    mask = self.shift_mask(x)\n" : "";
  for (int64_t b = 0; b < depth; ++b) {
    absl::StrAppendFormat(&s, "    x = getattr(self.blocks, \"%d\").forward(x, %s)\n", b,
                          (masked && b % 2 == 1) ? "mask" : "None");
  }
  if (downsample) {
    const int64_t ph = plan.grid[1] % 2, pw = plan.grid[2] % 2;
    if (ph > 0 || pw > 0)
      absl::StrAppendFormat(&s, "    x = torch.constant_pad_nd(x, [0, 0, 0, %d, 0, %d], 0.0)\n", pw,
                            ph);
    s += "    x = torch.cat([x[:, :, 0::2, 0::2, :], x[:, :, 1::2, 0::2, :], "
         "x[:, :, 0::2, 1::2, :], x[:, :, 1::2, 1::2, :]], -1)\n";
    absl::StrAppendFormat(&s,
                          "    x = torch.layer_norm(x, [%d], self.downsample.norm.weight, "
                          "self.downsample.norm.bias, 1e-05, False)\n",
                          4 * width);
    s += "    x = torch.linear(x, self.downsample.reduction.weight)\n";
  }
  s += "    return x\n";
  return s;
}

std::string TopSource(const ArchConfig& arch, const SubnetDims& dims) {
  const int64_t t = arch.frames(), r = arch.resolution();
  const Dims3& p = dims.patch;
  auto pad_of = [](int64_t size, int64_t patch) { return (patch - size % patch) % patch; };
  std::string s = "def forward(self, x: Tensor) -> Tensor:\n";
  absl::StrAppendFormat(
      &s,
      "    assert x.dim() == 5 and x.size(1) == 1 and x.size(2) == %d and "
      "x.size(3) == %d and x.size(4) == %d, \"input must be [B, 1, %d, %d, %d]\"\n",
      t, r, r, t, r, r);
  if (pad_of(t, p[0]) || pad_of(r, p[1]) || pad_of(r, p[2]))
    absl::StrAppendFormat(&s, "    x = torch.constant_pad_nd(x, [0, %d, 0, %d, 0, %d], 0.0)\n",
                          pad_of(r, p[2]), pad_of(r, p[1]), pad_of(t, p[0]));
  absl::StrAppendFormat(&s,
                        "    x = torch.conv3d(x, self.patch_embed.proj.weight, "
                        "self.patch_embed.proj.bias, [%d, %d, %d])\n",
                        p[0], p[1], p[2]);
  s += "    x = x.permute(0, 2, 3, 4, 1).contiguous()\n";
  for (int st = 0; st < arch::kNumStages; ++st)
    absl::StrAppendFormat(&s, "    x = getattr(self.layers, \"%d\").forward(x)\n", st);
  absl::StrAppendFormat(
      &s,
      "    x = torch.layer_norm(x, [%d], self.norm.weight, self.norm.bias, 1e-05, "
      "False).mean([1, 2, 3])\n",
      dims.final_width());
  s += "    x = torch.dropout(x, 0.5, self.training)\n";
  s += "    x = torch.linear(x, self.head.fc_cls.weight, self.head.fc_cls.bias)\n";
  s += "    x = torch.relu(torch.linear(x, getattr(self.linear_layers, \"0\").weight, "
       "getattr(self.linear_layers, \"0\").bias))\n";
  s += "    return torch.linear(x, getattr(self.linear_layers, \"2\").weight, "
       "getattr(self.linear_layers, \"2\").bias)\n";
  return s;
}

}  // namespace

std::string ArchJsonPath(const std::string& model_path) {
  const size_t slash = model_path.find_last_of('/');
  const size_t dot = model_path.find_last_of('.');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash))
    return model_path + ".json";
  return model_path.substr(0, dot) + ".json";
}

absl::StatusOr<torch::jit::Module> ToTorchScript(VideoSwinImpl& model) {
  try {
    const ArchConfig& arch = model.arch();
    const SubnetDims dims = DimsOf(arch);
    Module top = Mirror("VideoSwin", model);
    Dims3 grid = {(arch.frames() + dims.patch[0] - 1) / dims.patch[0],
                  (arch.resolution() + dims.patch[1] - 1) / dims.patch[1],
                  (arch.resolution() + dims.patch[2] - 1) / dims.patch[2]};
    Module layers = top.attr("layers").toModule();
    for (int st = 0; st < arch::kNumStages; ++st) {
      const StageDims& sd = dims.stages[st];
      const WindowPlan plan = PlanWindows(grid, dims.window);
      Module stage = layers.attr(std::to_string(st)).toModule();
      Module blocks = stage.attr("blocks").toModule();
      for (int64_t b = 0; b < sd.depth; ++b) {
        blocks.attr(std::to_string(b))
            .toModule()
            .define(BlockSource(plan, b % 2 == 1 && plan.shifted(), sd.heads, sd.width));
      }
      stage.define(StageSource(plan, sd.depth, sd.width, st < arch::kNumStages - 1));
      grid = {grid[0], (grid[1] + 1) / 2, (grid[2] + 1) / 2};
    }
    top.define(TopSource(arch, dims));
    top.eval();
    return top;
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("building the TorchScript module: ", e.what()));
  }
}

absl::Status ExportTorchScript(VideoSwinImpl& model, const std::string& path) {
  absl::StatusOr<Module> script = ToTorchScript(model);
  if (!script.ok()) return script.status();
  std::ostringstream bytes;
  try {
    script->save(bytes);
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("serialising TorchScript: ", e.what()));
  }
  if (absl::Status s = WriteFileAtomically(path, bytes.str()); !s.ok()) return s;
  return WriteFileAtomically(ArchJsonPath(path), arch::ArchToJson(model.arch()) + "\n");
}

}  // namespace edgeloop::supernet
