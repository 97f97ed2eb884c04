// Reads files written by Python's torch.save (the zip format of PyTorch >= 1.6) without
// Python: the archive's data.pkl is run through a small pickle machine that knows exactly
// the subset torch.save emits (protocol 2, plus a few harmless protocol 4 opcodes), and
// tensors are rebuilt from the archive's data/<key> storages.
//
// The machine never executes anything. Known globals are interpreted:
//   collections.OrderedDict                 -> a dict (its _metadata attribute is ignored)
//   torch._utils._rebuild_tensor_v2         -> a tensor (storage, offset, size, stride, ...)
//   torch._utils._rebuild_parameter[_with_state] -> the tensor it wraps
//   torch.<Type>Storage                     -> a storage type in a persistent id
// Any other global becomes an opaque object that records its name; objects built from it
// (REDUCE, NEWOBJ, BUILD) stay opaque, so a checkpoint may carry e.g. an argparse.Namespace
// next to its weights, and a caller that needs one of them reports it by name. An opcode
// outside the subset, a truncated or corrupt archive (every record read is checked against
// the CRC-32 of the zip directory, which LibTorch's zip reader skips), a storage of the
// wrong size or a tensor reaching outside its storage is an InvalidArgument naming what was
// wrong.
#ifndef EDGELOOP_SUPERNET_TORCH_PICKLE_H_
#define EDGELOOP_SUPERNET_TORCH_PICKLE_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ATen/Tensor.h>

#include "absl/status/statusor.h"

namespace edgeloop::supernet {

// One Python value of an unpickled file. Containers point at values owned by the same
// PickledFile, so shared references and self-references (which pickles allow) are safe.
struct PyValue {
  enum class Kind {
    kNone,
    kBool,
    kInt,
    kFloat,
    kString,
    kBytes,
    kTuple,
    kList,
    kDict,
    kTensor,
    kStorage,
    kGlobal,
    kObject
  };
  Kind kind = Kind::kNone;
  bool boolean = false;
  int64_t integer = 0;
  double real = 0;
  std::string text;             // kString, kBytes; "module.name" for kGlobal and kObject
  std::vector<PyValue*> items;  // kTuple, kList
  std::vector<std::pair<PyValue*, PyValue*>> dict;  // kDict, in insertion order
  at::Tensor tensor;                                // kTensor; kStorage: the flat storage

  // "a tensor", "a dict", "an os.system object", ... for error messages.
  std::string Describe() const;
  // The value of a string key of a kDict, or nullptr.
  const PyValue* Find(const std::string& key) const;
};

// The values of one file; root() is the pickled top object.
class PickledFile {
 public:
  const PyValue& root() const { return *root_; }

 private:
  friend class Unpickler;
  std::unique_ptr<std::deque<PyValue>> values_ = std::make_unique<std::deque<PyValue>>();
  const PyValue* root_ = nullptr;
};

// Reads the bytes of a torch.save zip archive. `origin` (a path) prefixes error messages.
absl::StatusOr<PickledFile> ReadTorchSave(const std::string& bytes, const std::string& origin);

}  // namespace edgeloop::supernet

#endif  // EDGELOOP_SUPERNET_TORCH_PICKLE_H_
