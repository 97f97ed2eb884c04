// State dicts: name -> tensor maps with the reference's names, checked against a model,
// loaded into it, and read/written in the file format of Python's
// `torch.save(model.state_dict(), FILE)` (a zip archive holding a pickled dict).
//
// Buffers (relative_position_index) may be present or absent in a state dict; when present
// they must equal the model's. A check reports every missing, unexpected and mis-shaped
// tensor in one InvalidArgument message.
#ifndef EDGELOOP_SUPERNET_STATE_DICT_H_
#define EDGELOOP_SUPERNET_STATE_DICT_H_

#include <map>
#include <string>

#include <torch/torch.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace edgeloop::supernet {

using StateDict = std::map<std::string, torch::Tensor>;

// The model's parameters and buffers by name.
StateDict StateDictOf(torch::nn::Module& model);

// OK when `state` holds exactly the model's parameters (buffers optional) with their shapes.
absl::Status CheckStateDict(torch::nn::Module& model, const StateDict& state);

// CheckStateDict, then copies the parameters into the model.
absl::Status LoadStateDict(torch::nn::Module& model, const StateDict& state);

// Reads a file written by Python's torch.save(model.state_dict(), FILE) (an OrderedDict,
// read with supernet/torch_pickle.h), a plain dict of tensors, or a training checkpoint
// holding the weights under "state_dict", "model" or "model_state_dict"; a "module." prefix
// on every name (nn.DataParallel) is removed. Entries that are not tensors, and any file
// that is not such an archive, are an InvalidArgument naming them.
absl::StatusOr<StateDict> ReadStateDictFile(const std::string& path);

// Writes `state` (contiguous CPU copies) atomically in torch.save's format.
absl::Status WriteStateDictFile(const std::string& path, const StateDict& state);

// Serialises `state` as torch.save would, for embedding in another file.
absl::StatusOr<std::string> SerializeStateDict(const StateDict& state);
absl::StatusOr<StateDict> ParseStateDict(const std::string& bytes, const std::string& origin);

}  // namespace edgeloop::supernet

#endif  // EDGELOOP_SUPERNET_STATE_DICT_H_
