// TorchScript export of a static Video Swin: an archive that torch.jit.load runs in Python
// PyTorch and in LibTorch, with the ArchConfig JSON written beside it.
//
// The archive is built in C++: a torch::jit::Module tree with the reference's module names
// (patch_embed.proj, layers.<s>.blocks.<b>.attn.qkv, ..., linear_layers.2), the model's
// parameters and buffers registered on it (so its state_dict has the reference keys), and
// forward methods compiled from TorchScript source generated for this one architecture
// (window plans, shifts and paddings are constants; the shift masks are computed in the
// forward). The exported forward accepts only the architecture's input shape
// [B, 1, frames, resolution, resolution] and raises otherwise.
#ifndef EDGELOOP_SUPERNET_TORCHSCRIPT_EXPORT_H_
#define EDGELOOP_SUPERNET_TORCHSCRIPT_EXPORT_H_

#include <string>

#include <torch/script.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "supernet/video_swin.h"

namespace edgeloop::supernet {

// A TorchScript module computing the same function as `model` (in eval mode); it shares
// the model's tensors.
absl::StatusOr<torch::jit::Module> ToTorchScript(VideoSwinImpl& model);

// Writes the archive to `path` and the ArchConfig JSON to ArchJsonPath(path), atomically.
absl::Status ExportTorchScript(VideoSwinImpl& model, const std::string& path);

// "dir/model.pt" -> "dir/model.json".
std::string ArchJsonPath(const std::string& model_path);

}  // namespace edgeloop::supernet

#endif  // EDGELOOP_SUPERNET_TORCHSCRIPT_EXPORT_H_
