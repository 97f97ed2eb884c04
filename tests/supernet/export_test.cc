// TorchScript export (loaded back in LibTorch and, when Debian's python3-torch is present,
// in Python) and state-dict import, with the Python re-implementation of the reference
// model in tools/bench/swin_forward_compare.py as the independent side.
#include "supernet/torchscript_export.h"

#include <gtest/gtest.h>

#include <torch/script.h>

#include "arch/space.h"
#include "base/atomic_file.h"
#include "base/rng.h"
#include "supernet/state_dict.h"
#include "supernet/supernet.h"
#include "tests/test_util.h"

namespace edgeloop::supernet {
namespace {

using testing::RunCommand;
using testing::SourcePath;
using testing::TempDir;

bool PythonTorchAvailable() {
  static const bool ok = RunCommand("/usr/bin/python3 -c 'import torch'").exit_code == 0;
  return ok;
}

std::string PythonScript() {
  return "/usr/bin/python3 " + SourcePath("tools/bench/swin_forward_compare.py");
}

arch::Space Tiny() { return *arch::Space::FromFile(SourcePath("supernet/spaces/tiny.textproto")); }

torch::Tensor RandomInput(const ArchConfig& arch, int64_t batch) {
  torch::manual_seed(17);
  return torch::randn({batch, 1, arch.frames(), arch.resolution(), arch.resolution()});
}

std::string Quoted(const std::string& s) { return "'" + s + "'"; }

double MaxDiff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

// Exports min, max and sampled subnets of a supernet and runs each archive in LibTorch.
TEST(ExportTest, ArchiveRunsInLibTorchWithEqualOutputs) {
  arch::Space space = Tiny();
  auto net = MakeSupernet(space, 2);
  ASSERT_TRUE(net.ok());
  (*net)->eval();
  Rng rng(8);
  std::vector<ArchConfig> archs = {space.Min(), space.Max(), space.Sample(&rng),
                                   space.Sample(&rng)};
  TempDir dir;
  for (size_t i = 0; i < archs.size(); ++i) {
    auto model = (*net)->extract(archs[i]);
    ASSERT_TRUE(model.ok());
    const std::string path = dir.File("m" + std::to_string(i) + ".pt");
    ASSERT_TRUE(ExportTorchScript(**model, path).ok());
    auto json = ReadFile(ArchJsonPath(path));
    ASSERT_TRUE(json.ok());
    auto back = arch::ArchFromJson(*json);
    ASSERT_TRUE(back.ok());
    EXPECT_TRUE(arch::ArchEqual(*back, archs[i]));

    torch::jit::Module loaded = torch::jit::load(path);
    loaded.eval();
    torch::NoGradGuard no_grad;
    torch::Tensor x = RandomInput(archs[i], 2);
    EXPECT_LT(MaxDiff(loaded.forward({x}).toTensor(), (*model)->forward(x)), 1e-5)
        << arch::ArchToJson(archs[i]);
    // The archive keeps the reference's names.
    bool found = false;
    for (const auto& p : loaded.named_parameters())
      found |= p.name == "layers.0.blocks.0.attn.qkv.weight";
    EXPECT_TRUE(found);
    // And rejects another input shape.
    torch::Tensor wrong = torch::randn({1, 1, archs[i].frames(), 20, 20});
    EXPECT_ANY_THROW(loaded.forward({wrong}));
  }
}

TEST(ExportTest, ArchiveRunsInPythonAndMatchesTheReferenceImplementation) {
  if (!PythonTorchAvailable()) GTEST_SKIP() << "python3 torch not installed";
  arch::Space space = Tiny();
  ArchConfig arch = space.Max();
  arch.set_resolution(48);  // 12x12 tokens: padding to the window, clipped T, shifted H/W
  auto model = MakeVideoSwin(arch, 4);
  ASSERT_TRUE(model.ok());
  (*model)->eval();
  TempDir dir;
  ASSERT_TRUE(ExportTorchScript(**model, dir.File("model.pt")).ok());
  torch::Tensor x = RandomInput(arch, 2);
  ASSERT_TRUE(WriteStateDictFile(dir.File("in.pt"), {{"x", x}}).ok());
  auto r = RunCommand(PythonScript() + " run --arch " + Quoted(arch::ArchToJson(arch)) +
                      " --model " + dir.File("model.pt") + " --input " + dir.File("in.pt") +
                      " --out " + dir.File("out.pt"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto out = ReadStateDictFile(dir.File("out.pt"));
  ASSERT_TRUE(out.ok()) << out.status();
  torch::NoGradGuard no_grad;
  torch::Tensor mine = (*model)->forward(x);
  EXPECT_LT(MaxDiff(out->at("script"), mine), 1e-5);
  EXPECT_LT(MaxDiff(out->at("eager"), mine), 1e-5);
}

// A state dict saved by Python torch.save(model.state_dict()) from the reference
// implementation (an OrderedDict, with and without relative_position_index) imports into
// the static model and computes the same.
TEST(ImportTest, PythonStateDictImportsAndMatches) {
  if (!PythonTorchAvailable()) GTEST_SKIP() << "python3 torch not installed";
  ArchConfig arch = Tiny().Min();
  arch.set_resolution(48);
  TempDir dir;
  for (const char* extra : {"", " --drop-buffers"}) {
    auto r = RunCommand(PythonScript() + " save --arch " + Quoted(arch::ArchToJson(arch)) +
                        " --seed 3 --out " + dir.File("sd.pt") + extra);
    ASSERT_EQ(r.exit_code, 0) << r.out;
    auto state = ReadStateDictFile(dir.File("sd.pt"));
    ASSERT_TRUE(state.ok()) << state.status();
    VideoSwin model(arch);
    ASSERT_TRUE(LoadStateDict(*model, *state).ok());
    model->eval();
    torch::Tensor x = RandomInput(arch, 2);
    ASSERT_TRUE(WriteStateDictFile(dir.File("in.pt"), {{"x", x}}).ok());
    r = RunCommand(PythonScript() + " run --arch " + Quoted(arch::ArchToJson(arch)) +
                   " --state-dict " + dir.File("sd.pt") + " --input " + dir.File("in.pt") +
                   " --out " + dir.File("out.pt"));
    ASSERT_EQ(r.exit_code, 0) << r.out;
    auto out = ReadStateDictFile(dir.File("out.pt"));
    ASSERT_TRUE(out.ok());
    torch::NoGradGuard no_grad;
    EXPECT_LT(MaxDiff(out->at("eager"), model->forward(x)), 1e-5);
  }
}

// Without Python: a state dict written in torch.save's format from C++ round-trips, and
// every kind of mismatch is listed.
TEST(ImportTest, StateDictRoundTripAndMismatchesListed) {
  ArchConfig arch = Tiny().Min();
  auto source = MakeVideoSwin(arch, 6);
  ASSERT_TRUE(source.ok());
  TempDir dir;
  StateDict state = StateDictOf(**source);
  ASSERT_TRUE(WriteStateDictFile(dir.File("sd.pt"), state).ok());
  auto read = ReadStateDictFile(dir.File("sd.pt"));
  ASSERT_TRUE(read.ok()) << read.status();
  VideoSwin copy(arch);
  ASSERT_TRUE(LoadStateDict(*copy, *read).ok());
  for (const auto& p : copy->named_parameters())
    EXPECT_TRUE(torch::equal(p.value(), state.at(p.key()))) << p.key();

  StateDict bad = *read;
  bad.erase("layers.1.blocks.0.mlp.fc1.bias");
  bad["layers.9.blocks.0.norm1.weight"] = torch::zeros({3});
  bad["layers.0.blocks.0.attn.qkv.weight"] = torch::zeros({7, 12});
  bad["layers.0.blocks.0.attn.relative_position_index"] =
      torch::zeros_like(bad["layers.0.blocks.0.attn.relative_position_index"]);
  absl::Status s = LoadStateDict(*copy, bad);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  for (const char* needle :
       {"1 missing: layers.1.blocks.0.mlp.fc1.bias", "1 unexpected: layers.9.blocks.0.norm1.weight",
        "layers.0.blocks.0.attn.qkv.weight [7,12] (expected [36,12])",
        "differing from the architecture's: layers.0.blocks.0.attn.relative_position_index"}) {
    EXPECT_NE(s.message().find(needle), std::string::npos) << s;
  }
  EXPECT_FALSE(ReadStateDictFile(dir.File("missing.pt")).ok());
  ASSERT_TRUE(WriteFileAtomically(dir.File("junk.pt"), "not a zip").ok());
  EXPECT_EQ(ReadStateDictFile(dir.File("junk.pt")).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace edgeloop::supernet
