// Import of real torch.save files without Python: the fixture in testdata/ was written by
// tools/bench/make_state_dict_fixture.py with Debian's PyTorch 1.13 (an OrderedDict state
// dict, a DataParallel training checkpoint, and the model's output on a fixed input). Also
// hostile and damaged files: truncated or corrupt archives, unknown globals and opcodes,
// tensors reaching outside their storage.
#include <gtest/gtest.h>

#include <caffe2/serialize/inline_container.h>
#include <torch/script.h>

#include <string>

#include "base/atomic_file.h"
#include "supernet/state_dict.h"
#include "supernet/torch_pickle.h"
#include "tests/test_util.h"

namespace edgeloop::supernet {
namespace {

using testing::RunEdgeloop;
using testing::SourcePath;
using testing::TempDir;

std::string Fixture(const std::string& name) {
  return SourcePath("tests/supernet/testdata/" + name);
}

// Exports `state_dict` through the CLI and checks the archive's output on the fixture's
// input against the output PyTorch computed (`expected_pt`, the fixture's by default).
void ExpectExportMatchesPython(const std::string& state_dict,
                               const std::string& expected_pt = Fixture("expected.pt")) {
  TempDir dir;
  auto r = RunEdgeloop("export --from-state-dict " + state_dict + " --arch " +
                       Fixture("tiny_swin.json") + " --out " + dir.File("m.pt"));
  ASSERT_EQ(r.exit_code, 0) << r.out;
  auto expected = ReadStateDictFile(expected_pt);
  ASSERT_TRUE(expected.ok()) << expected.status();
  torch::jit::Module model = torch::jit::load(dir.File("m.pt"));
  model.eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor y = model.forward({expected->at("x")}).toTensor();
  ASSERT_EQ(y.sizes(), expected->at("y").sizes());
  EXPECT_LT((y - expected->at("y")).abs().max().item<double>(), 1e-5);
}

// An archive as torch.save lays it out, holding `pickle` and the given storages.
std::string Archive(const std::string& pickle,
                    const std::vector<std::pair<std::string, std::string>>& storages = {}) {
  std::string bytes;
  caffe2::serialize::PyTorchStreamWriter writer([&](const void* data, size_t n) {
    bytes.append(static_cast<const char*>(data), n);
    return n;
  });
  writer.writeRecord("data.pkl", pickle.data(), pickle.size());
  for (const auto& [key, data] : storages)
    writer.writeRecord("data/" + key, data.data(), data.size());
  writer.writeEndOfFile();
  return bytes;
}

// Pickle pieces, protocol 2.
const std::string kProto = "\x80\x02";
std::string Unicode(const std::string& s) {
  std::string out = "X";
  for (int i = 0; i < 4; ++i) out += static_cast<char>((s.size() >> (8 * i)) & 0xff);
  return out + s;
}
std::string Int(uint32_t v) {  // BININT
  std::string out = "J";
  for (int i = 0; i < 4; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}
// _rebuild_tensor_v2 of float storage "0" (`numel` elements) with the given size and stride.
std::string FloatTensor(uint32_t numel, const std::vector<uint32_t>& size,
                        const std::vector<uint32_t>& stride) {
  const auto tuple = [](const std::vector<uint32_t>& v) {
    std::string out = "(";
    for (uint32_t x : v) out += Int(x);
    return out + "t";
  };
  return "ctorch._utils\n_rebuild_tensor_v2\n((" + Unicode("storage") + "ctorch\nFloatStorage\n" +
         Unicode("0") + Unicode("cpu") + Int(numel) + "tQ" + Int(0) + tuple(size) + tuple(stride) +
         "\x89)tR";
}

TEST(TorchSaveImportTest, OrderedDictStateDictReadsWithItsDtypes) {
  auto bytes = ReadFile(Fixture("tiny_swin.pt"));
  ASSERT_TRUE(bytes.ok());
  auto file = ReadTorchSave(*bytes, "tiny_swin.pt");
  ASSERT_TRUE(file.ok()) << file.status();
  ASSERT_EQ(file->root().kind, PyValue::Kind::kDict);
  const PyValue* qkv = file->root().Find("layers.0.blocks.0.attn.qkv.weight");
  ASSERT_NE(qkv, nullptr);
  ASSERT_EQ(qkv->kind, PyValue::Kind::kTensor);
  EXPECT_EQ(qkv->tensor.scalar_type(), at::kHalf);
  EXPECT_EQ(qkv->tensor.sizes(), (std::vector<int64_t>{9, 3}));
  const PyValue* index = file->root().Find("layers.0.blocks.1.attn.relative_position_index");
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->tensor.scalar_type(), at::kLong);
}

TEST(TorchSaveImportTest, FixtureExportsAndComputesWhatPyTorchComputed) {
  ExpectExportMatchesPython(Fixture("tiny_swin.pt"));
}

// {"epoch", "state_dict": DataParallel names, "optimizer", "args": argparse.Namespace}.
TEST(TorchSaveImportTest, DataParallelCheckpointExportsAlike) {
  auto plain = ReadStateDictFile(Fixture("tiny_swin.pt"));
  auto wrapped = ReadStateDictFile(Fixture("tiny_swin_dp_ckpt.pt"));
  ASSERT_TRUE(plain.ok()) << plain.status();
  ASSERT_TRUE(wrapped.ok()) << wrapped.status();
  ASSERT_EQ(plain->size(), wrapped->size());
  for (const auto& [name, tensor] : *plain) {
    ASSERT_EQ(wrapped->count(name), 1u) << name;
    EXPECT_TRUE(torch::equal(wrapped->at(name), tensor)) << name;
  }
  ExpectExportMatchesPython(Fixture("tiny_swin_dp_ckpt.pt"));
}

// The committed fixture was written by PyTorch 1.13. This writes it anew with the Python torch
// of the platform under test (torch 2.6 on Debian 13, whose torch.save defaults and whose
// weights_only loading differ) and imports that.
TEST(TorchSaveImportTest, ThisPlatformsPythonTorchSavesWhatWeImport) {
  if (testing::RunCommand("/usr/bin/python3 -c 'import torch' 2>/dev/null").exit_code != 0) {
    GTEST_SKIP() << "python3 torch not installed";
  }
  TempDir dir;
  auto r = testing::RunCommand("/usr/bin/python3 " +
                               SourcePath("tools/bench/make_state_dict_fixture.py") + " " +
                               dir.path() + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.out;
  ExpectExportMatchesPython(dir.File("tiny_swin.pt"), dir.File("expected.pt"));
  ExpectExportMatchesPython(dir.File("tiny_swin_dp_ckpt.pt"), dir.File("expected.pt"));
}

TEST(TorchSaveImportTest, DamagedArchivesExitWithTwo) {
  auto bytes = ReadFile(Fixture("tiny_swin.pt"));
  ASSERT_TRUE(bytes.ok());
  TempDir dir;
  const std::string arch = " --arch " + Fixture("tiny_swin.json") + " --out " + dir.File("m.pt");
  // A copy cut in half (its zip directory lost).
  ASSERT_TRUE(WriteFileAtomically(dir.File("cut.pt"), bytes->substr(0, bytes->size() / 2)).ok());
  auto r = RunEdgeloop("export --from-state-dict " + dir.File("cut.pt") + arch);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("truncated or corrupt PyTorch archive"), std::string::npos) << r.out;
  // Flipped bits inside a stored tensor (the zip CRC catches them).
  std::string flipped = *bytes;
  const size_t at = flipped.find("data/0") + 200;
  flipped[at] = static_cast<char>(flipped[at] ^ 0x5a);
  ASSERT_TRUE(WriteFileAtomically(dir.File("flipped.pt"), flipped).ok());
  EXPECT_NE(ReadStateDictFile(dir.File("flipped.pt"))
                .status()
                .message()
                .find("record data/0 fails its CRC-32 check"),
            std::string::npos);
  r = RunEdgeloop("export --from-state-dict " + dir.File("flipped.pt") + arch);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("corrupt"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(dir.File("m.pt")));
  // Found by state_dict_fuzz: a zip directory whose offsets point outside the file made
  // caffe2's in-memory reader copy from outside the buffer.
  r = RunEdgeloop("export --from-state-dict " +
                  SourcePath("tests/fuzz/corpus/state_dict_fuzz/regression-central-dir-offset") +
                  arch);
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("truncated or corrupt PyTorch archive"), std::string::npos) << r.out;
}

TEST(TorchSaveImportTest, UnknownGlobalsAreNamed) {
  TempDir dir;
  // The top object is os.system("echo hi"): nothing is run, the name is reported.
  ASSERT_TRUE(WriteFileAtomically(dir.File("global.pt"),
                                  Archive(kProto + "cos\nsystem\n" + Unicode("echo hi") + "\x85R."))
                  .ok());
  auto r = RunEdgeloop("export --from-state-dict " + dir.File("global.pt") + " --arch " +
                       Fixture("tiny_swin.json") + " --out " + dir.File("m.pt"));
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("a Python object built by os.system"), std::string::npos) << r.out;
  // An entry of a state dict built by an unknown global.
  auto entry =
      ParseStateDict(Archive(kProto + "}(" + Unicode("w") + FloatTensor(2, {2}, {1}) +
                                 Unicode("hook") + "cbuiltins\neval\n" + Unicode("1") + "\x85Ru.",
                             {{"0", std::string(8, '\0')}}),
                     "entry.pt");
  EXPECT_EQ(entry.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(entry.status().message().find("hook (a Python object built by builtins.eval)"),
            std::string::npos)
      << entry.status();
}

// Strided views of one shared storage (as torch.save writes views) read their own elements.
TEST(TorchSaveImportTest, ViewsOfASharedStorageReadTheirElements) {
  const float values[] = {1, 2, 3, 4};
  auto parsed = ParseStateDict(
      Archive(kProto + "}(" + Unicode("every_other") + FloatTensor(4, {2}, {2}) +
                  Unicode("transposed") + FloatTensor(4, {2, 2}, {1, 2}) + "u.",
              {{"0", std::string(reinterpret_cast<const char*>(values), sizeof values)}}),
      "views.pt");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(torch::equal(parsed->at("every_other"), torch::tensor({1.0f, 3.0f})));
  EXPECT_TRUE(
      torch::equal(parsed->at("transposed"), torch::tensor({1.0f, 3.0f, 2.0f, 4.0f}).view({2, 2})));
}

TEST(TorchSaveImportTest, MalformedPicklesAreInvalidArgument) {
  const std::string storage(16, '\0');  // four floats
  struct Case {
    std::string pickle, needle;
  };
  const std::vector<Case> cases = {
      {kProto + "I1\n.", "unsupported pickle opcode 0x49 'I'"},
      {kProto + "}" + Unicode("w"), "ends before its STOP"},
      {kProto + "h\x07.", "memo index 7 was never stored"},
      {kProto + "s.", "stack underflow"},
      {kProto + "}(" + Unicode("w") + FloatTensor(4, {5}, {1}) + "u.",
       "reaches outside its storage"},
      {kProto + "}(" + Unicode("w") + FloatTensor(4, {2, 2}, {3, 1}) + "u.",
       "reaches outside its storage"},
      {kProto + "}(" + Unicode("w") + FloatTensor(4, {1u << 24, 1u << 24}, {0, 0}) + "u.",
       "too large for its storage of 4 elements"},
      {kProto + "}(" + Unicode("w") + FloatTensor(6, {2}, {1}) + "u.",
       "holds 16 bytes, expected 6 x 4"},
      {kProto + "ctorch._utils\n_rebuild_tensor_v2\n(K\x01tR.", "malformed tensor record"},
      {kProto + "(" + Unicode("storage") + "ctorch\nQuantumStorage\n" + Unicode("0") +
           Unicode("cpu") + "K\x04tQ.",
       "unsupported storage type torch.QuantumStorage"},
      {kProto + "]" + Unicode("w") + "\x85.", "does not leave exactly one object"},
  };
  for (const Case& c : cases) {
    auto parsed = ParseStateDict(Archive(c.pickle, {{"0", storage}}), "bad.pt");
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << c.needle;
    EXPECT_NE(parsed.status().message().find(c.needle), std::string::npos)
        << c.needle << " <- " << parsed.status();
  }
  // A bare pickle is the pre-1.6 format.
  EXPECT_NE(ParseStateDict(kProto + "}.", "old.pt").status().message().find("legacy"),
            std::string::npos);
}

}  // namespace
}  // namespace edgeloop::supernet
