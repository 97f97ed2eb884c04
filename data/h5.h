// Thin RAII layer over the HDF5 C API, private to the data module.
//
// Every HDF5 id is owned by a Handle that closes it. HDF5's automatic error printing is
// silenced per thread (ScopedQuiet); failures come back as absl::Status with the innermost
// HDF5 message appended. The reader and the generator are written against these helpers so
// that no raw hid_t leaks and every error names its file and object.
#ifndef EDGELOOP_DATA_H5_H_
#define EDGELOOP_DATA_H5_H_

#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace edgeloop::data::h5 {

class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  Handle(Handle&& other) noexcept : id_(other.id_), closer_(other.closer_) { other.id_ = -1; }
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { Reset(); }

  hid_t id() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void Reset();
  // Closes the id and reports whether HDF5 could (closing a file writes what it buffered).
  bool Close();

 private:
  hid_t id_ = -1;
  Closer closer_ = nullptr;
};

// Turns HDF5's error printing off for the calling thread (HDF5 keeps it per thread).
void QuietErrors();

// The innermost message of the calling thread's HDF5 error stack ("" when empty), on one
// line: for a failed write, the system's reason ("File too large", "No space left...").
std::string LastError();

// Opens an existing file read-only: NotFound if absent, InvalidArgument if not HDF5.
absl::StatusOr<Handle> OpenFile(const std::string& path);
// Creates (truncates) a file for writing.
absl::StatusOr<Handle> CreateFile(const std::string& path);

// Names of the links directly under `group`, in HDF5's name order.
absl::StatusOr<std::vector<std::string>> ListChildren(hid_t group);
bool LinkExists(hid_t loc, const std::string& name);
// True when `name` under `loc` is a group (false for datasets and missing links).
bool IsGroup(hid_t loc, const std::string& name);

Handle OpenGroup(hid_t loc, const std::string& name);
Handle CreateGroup(hid_t loc, const std::string& name);
Handle OpenDataset(hid_t loc, const std::string& name);

// Shape and element class of an open dataset.
struct DatasetInfo {
  std::vector<int64_t> dims;
  H5T_class_t type_class = H5T_NO_CLASS;
  size_t type_size = 0;
};
absl::StatusOr<DatasetInfo> Describe(hid_t dataset);

// Groups and datasets are created without modification times, so that writing the same data
// twice gives byte-identical files.
// Writes a whole dataset. `chunk_dims` empty = contiguous; gzip_level > 0 compresses
// (requires chunks).
absl::Status WriteDataset(hid_t loc, const std::string& name, hid_t file_type, hid_t mem_type,
                          const std::vector<int64_t>& dims, const void* data,
                          const std::vector<int64_t>& chunk_dims = {}, int gzip_level = 0);
absl::Status WriteStringAttribute(hid_t loc, const std::string& name, const std::string& value);

}  // namespace edgeloop::data::h5

#endif  // EDGELOOP_DATA_H5_H_
