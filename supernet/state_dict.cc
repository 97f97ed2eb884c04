#include "supernet/state_dict.h"

#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/atomic_file.h"
#include "supernet/torch_pickle.h"

namespace edgeloop::supernet {
namespace {

// Where training checkpoints ({"epoch": ..., "state_dict": {...}, "optimizer": ...}) of the
// reference and of common trainers keep the model's weights, in the order tried.
constexpr const char* kCheckpointWeightKeys[] = {"state_dict", "model", "model_state_dict"};

std::string ShapeText(c10::IntArrayRef sizes) {
  return absl::StrCat("[", absl::StrJoin(sizes, ","), "]");
}

}  // namespace

StateDict StateDictOf(torch::nn::Module& model) {
  StateDict out;
  for (const auto& item : model.named_parameters()) out[item.key()] = item.value();
  for (const auto& item : model.named_buffers()) out[item.key()] = item.value();
  return out;
}

absl::Status CheckStateDict(torch::nn::Module& model, const StateDict& state) {
  std::vector<std::string> missing, unexpected, misshaped, differing;
  auto params = model.named_parameters();
  auto buffers = model.named_buffers();
  for (const auto& item : params) {
    auto it = state.find(item.key());
    if (it == state.end()) {
      missing.push_back(item.key());
    } else if (it->second.sizes() != item.value().sizes()) {
      misshaped.push_back(absl::StrCat(item.key(), " ", ShapeText(it->second.sizes()),
                                       " (expected ", ShapeText(item.value().sizes()), ")"));
    }
  }
  for (const auto& [name, tensor] : state) {
    if (params.find(name) != nullptr) continue;
    const torch::Tensor* buffer = buffers.find(name);
    if (buffer == nullptr) {
      unexpected.push_back(name);
    } else if (tensor.sizes() != buffer->sizes()) {
      misshaped.push_back(absl::StrCat(name, " ", ShapeText(tensor.sizes()), " (expected ",
                                       ShapeText(buffer->sizes()), ")"));
    } else if (!torch::equal(tensor.to(buffer->scalar_type()), *buffer)) {
      differing.push_back(name);
    }
  }
  if (missing.empty() && unexpected.empty() && misshaped.empty() && differing.empty())
    return absl::OkStatus();
  std::vector<std::string> parts;
  if (!missing.empty())
    parts.push_back(absl::StrCat(missing.size(), " missing: ", absl::StrJoin(missing, ", ")));
  if (!unexpected.empty())
    parts.push_back(
        absl::StrCat(unexpected.size(), " unexpected: ", absl::StrJoin(unexpected, ", ")));
  if (!misshaped.empty())
    parts.push_back(
        absl::StrCat(misshaped.size(), " mis-shaped: ", absl::StrJoin(misshaped, ", ")));
  if (!differing.empty())
    parts.push_back(absl::StrCat(differing.size(), " buffers differing from the architecture's: ",
                                 absl::StrJoin(differing, ", ")));
  return absl::InvalidArgumentError(
      absl::StrCat("state dict does not match the architecture: ", absl::StrJoin(parts, "; ")));
}

absl::Status LoadStateDict(torch::nn::Module& model, const StateDict& state) {
  if (absl::Status s = CheckStateDict(model, state); !s.ok()) return s;
  try {
    torch::NoGradGuard no_grad;
    for (auto& item : model.named_parameters()) item.value().copy_(state.at(item.key()));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("loading the state dict: ", e.what()));
  }
  return absl::OkStatus();
}

absl::StatusOr<StateDict> ParseStateDict(const std::string& bytes, const std::string& origin) {
  absl::StatusOr<PickledFile> file = ReadTorchSave(bytes, origin);
  if (!file.ok()) return file.status();
  const PyValue* dict = &file->root();
  if (dict->kind != PyValue::Kind::kDict) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ": expected a dict of tensors (torch.save(model.state_dict())), got ",
                     dict->Describe()));
  }
  // A training checkpoint keeps the weights under a conventional key.
  const auto all_tensors = [](const PyValue& d) {
    for (const auto& entry : d.dict)
      if (entry.second->kind != PyValue::Kind::kTensor) return false;
    return !d.dict.empty();
  };
  if (!all_tensors(*dict)) {
    for (const char* key : kCheckpointWeightKeys) {
      const PyValue* inner = dict->Find(key);
      if (inner != nullptr && all_tensors(*inner)) {
        dict = inner;
        break;
      }
    }
  }
  StateDict out;
  std::vector<std::string> bad;
  for (const auto& [key, value] : dict->dict) {
    if (key->kind != PyValue::Kind::kString) {
      bad.push_back(absl::StrCat("a key that is ", key->Describe()));
    } else if (value->kind != PyValue::Kind::kTensor) {
      bad.push_back(absl::StrCat(key->text, " (", value->Describe(), ")"));
    } else {
      out[key->text] = value->tensor;
    }
  }
  if (!bad.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ": entries that are not tensors: ", absl::StrJoin(bad, ", "),
                     "; a checkpoint must hold its weights under one of: ",
                     absl::StrJoin(kCheckpointWeightKeys, ", ")));
  }
  if (out.empty()) return absl::InvalidArgumentError(absl::StrCat(origin, ": holds no tensors"));
  // nn.DataParallel / DistributedDataParallel prefix every name with "module.".
  const std::string prefix = "module.";
  bool prefixed = true;
  for (const auto& entry : out) prefixed &= entry.first.rfind(prefix, 0) == 0;
  if (prefixed) {
    StateDict stripped;
    for (auto& [name, tensor] : out) stripped[name.substr(prefix.size())] = tensor;
    out = std::move(stripped);
  }
  return out;
}

absl::StatusOr<StateDict> ReadStateDictFile(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadFile(path);
  if (!bytes.ok()) return bytes.status();
  return ParseStateDict(*bytes, path);
}

absl::StatusOr<std::string> SerializeStateDict(const StateDict& state) {
  try {
    c10::Dict<std::string, torch::Tensor> dict;
    for (const auto& [name, tensor] : state) dict.insert(name, tensor.detach().cpu().contiguous());
    std::vector<char> bytes = torch::pickle_save(dict);
    return std::string(bytes.begin(), bytes.end());
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("serialising a state dict: ", e.what()));
  }
}

absl::Status WriteStateDictFile(const std::string& path, const StateDict& state) {
  absl::StatusOr<std::string> bytes = SerializeStateDict(state);
  if (!bytes.ok()) return bytes.status();
  return WriteFileAtomically(path, *bytes);
}

}  // namespace edgeloop::supernet
