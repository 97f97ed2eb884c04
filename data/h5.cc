#include "data/h5.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace edgeloop::data::h5 {

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    Reset();
    id_ = other.id_;
    closer_ = other.closer_;
    other.id_ = -1;
  }
  return *this;
}

void Handle::Reset() {
  if (id_ >= 0 && closer_ != nullptr) closer_(id_);
  id_ = -1;
}

bool Handle::Close() {
  const bool ok = id_ < 0 || closer_ == nullptr || closer_(id_) >= 0;
  id_ = -1;
  return ok;
}

void QuietErrors() {
  // HDF5's own exit handler closes what is left open; after a failed final write (a full
  // disk) a file it could not close is half freed, and that handler crashes. Every id here
  // is closed by its Handle, so the handler has nothing to do: do not install it.
  static const bool no_atexit = H5dont_atexit() >= 0;
  (void)no_atexit;
  thread_local bool quiet = false;
  if (!quiet) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    quiet = true;
  }
}

namespace {

herr_t InnermostMessage(unsigned n, const H5E_error2_t* err, void* data) {
  if (n == 0 && err->desc != nullptr) *static_cast<std::string*>(data) = err->desc;
  return 0;
}

}  // namespace

std::string LastError() {
  std::string message;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, InnermostMessage, &message);
  H5Eclear2(H5E_DEFAULT);
  // A failed write's message spans lines of buffer addresses and offsets; its last quoted
  // "error message = '...'" is the system's reason.
  const std::string marker = "error message = '";
  if (const size_t at = message.find(marker); at != std::string::npos) {
    const size_t begin = at + marker.size();
    const size_t end = message.find('\'', begin);
    const std::string head = message.substr(0, message.find(':'));
    message = absl::StrCat(head, ": ", message.substr(begin, end - begin));
  }
  for (char& c : message) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return message;
}

absl::StatusOr<Handle> OpenFile(const std::string& path) {
  QuietErrors();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    return absl::NotFoundError(absl::StrCat(path, ": no such file"));
  if (std::filesystem::is_directory(path, ec))
    return absl::InvalidArgumentError(absl::StrCat(path, ": is a directory, not an HDF5 file"));
  if (access(path.c_str(), R_OK) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": not readable (", std::strerror(errno), ")"));
  }
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    return absl::InvalidArgumentError(absl::StrCat(path, ": not an HDF5 file"));
  }
  hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (id < 0)
    return absl::InvalidArgumentError(absl::StrCat(path, ": cannot open HDF5 file: ", LastError()));
  return Handle(id, H5Fclose);
}

absl::StatusOr<Handle> CreateFile(const std::string& path) {
  QuietErrors();
  // Closing the file closes whatever is still open in it: after a failed write (a full
  // disk) HDF5 could otherwise keep half-closed objects that crash it at exit.
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose);
  if (!fapl.valid() || H5Pset_fclose_degree(fapl.id(), H5F_CLOSE_STRONG) < 0)
    return absl::InternalError(absl::StrCat(path, ": HDF5 file access list: ", LastError()));
  hid_t id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.id());
  if (id < 0)
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": cannot create HDF5 file: ", LastError()));
  return Handle(id, H5Fclose);
}

namespace {

herr_t CollectName(hid_t, const char* name, const H5L_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->push_back(name);
  return 0;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ListChildren(hid_t group) {
  std::vector<std::string> names;
  if (H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, nullptr, CollectName, &names) < 0)
    return absl::InvalidArgumentError(absl::StrCat("cannot list group: ", LastError()));
  return names;
}

bool LinkExists(hid_t loc, const std::string& name) {
  htri_t r = H5Lexists(loc, name.c_str(), H5P_DEFAULT);
  if (r < 0) H5Eclear2(H5E_DEFAULT);
  return r > 0;
}

bool IsGroup(hid_t loc, const std::string& name) {
  if (!LinkExists(loc, name)) return false;
  Handle obj(H5Oopen(loc, name.c_str(), H5P_DEFAULT), H5Oclose);
  if (!obj.valid()) {
    H5Eclear2(H5E_DEFAULT);
    return false;
  }
  return H5Iget_type(obj.id()) == H5I_GROUP;
}

Handle OpenGroup(hid_t loc, const std::string& name) {
  return Handle(H5Gopen2(loc, name.c_str(), H5P_DEFAULT), H5Gclose);
}

Handle CreateGroup(hid_t loc, const std::string& name) {
  Handle plist(H5Pcreate(H5P_GROUP_CREATE), H5Pclose);
  H5Pset_obj_track_times(plist.id(), 0);  // no timestamps: the same data gives the same bytes
  return Handle(H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, plist.id(), H5P_DEFAULT), H5Gclose);
}

Handle OpenDataset(hid_t loc, const std::string& name) {
  return Handle(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), H5Dclose);
}

namespace {

// A corrupt or hostile header can claim any shape: the byte count must not overflow, and
// the data cannot be much more than the file stores for it (deflate, the best filter the
// files use, compresses at most ~1,030:1).
absl::Status CheckPlausibleSize(hid_t dataset, const std::vector<hsize_t>& dims, size_t type_size) {
  constexpr uint64_t kMaxBytes = uint64_t{1} << 50;
  uint64_t bytes = type_size;
  bool overflow = type_size == 0 || type_size > (1u << 16);
  for (hsize_t d : dims) {
    if (d != 0 && bytes > kMaxBytes / d) overflow = true;
    if (!overflow) bytes *= d;
  }
  if (overflow) return absl::InvalidArgumentError("dataset shape too large (corrupt header)");
  const uint64_t stored = H5Dget_storage_size(dataset);
  hsize_t file_bytes = 0;
  Handle file(H5Iget_file_id(dataset), H5Fclose);
  if (file.valid() && H5Fget_filesize(file.id(), &file_bytes) >= 0 && stored > file_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("dataset says it stores ", stored,
                                                   " bytes in a file of ", file_bytes,
                                                   " (corrupt header)"));
  }
  if (bytes > 2048 * stored + (uint64_t{1} << 20)) {
    return absl::InvalidArgumentError(absl::StrCat("dataset claims ", bytes,
                                                   " bytes but the file holds ", stored,
                                                   " for it (corrupt header)"));
  }
  return absl::OkStatus();
}

// HDF5 refuses chunks larger than a fixed dimension when it makes a dataset; a header that
// has them anyway (found by hdf5_reader_fuzz) makes HDF5 1.10's chunk reader read freed
// memory, so such a dataset is refused before anything reads it. Likewise a compact
// dataset (data inside its header) must hold exactly its shape's bytes: one holding none made
// HDF5 1.10 copy from a null pointer.
absl::Status CheckLayout(hid_t dataset, const std::vector<hsize_t>& dims,
                         const std::vector<hsize_t>& max_dims, size_t type_size) {
  Handle plist(H5Dget_create_plist(dataset), H5Pclose);
  if (!plist.valid()) return absl::OkStatus();
  const H5D_layout_t layout = H5Pget_layout(plist.id());
  if (layout == H5D_COMPACT) {
    uint64_t bytes = type_size;  // CheckPlausibleSize ran first: no overflow
    for (hsize_t d : dims) bytes *= d;
    const uint64_t stored = H5Dget_storage_size(dataset);
    if (stored != bytes) {
      return absl::InvalidArgumentError(absl::StrCat("compact dataset holds ", stored,
                                                     " bytes, its shape needs ", bytes,
                                                     " (corrupt header)"));
    }
  }
  if (layout != H5D_CHUNKED) return absl::OkStatus();
  std::vector<hsize_t> chunk(max_dims.size() + 1, 0);
  const int rank = H5Pget_chunk(plist.id(), static_cast<int>(chunk.size()), chunk.data());
  if (rank != static_cast<int>(max_dims.size()))
    return absl::InvalidArgumentError("chunk rank differs from the dataset's (corrupt header)");
  for (size_t i = 0; i < max_dims.size(); ++i) {
    if (chunk[i] == 0 || (max_dims[i] != H5S_UNLIMITED && chunk[i] > max_dims[i])) {
      return absl::InvalidArgumentError(absl::StrCat("chunk dimension ", i, " (", chunk[i],
                                                     ") does not fit the dataset's (", max_dims[i],
                                                     "; corrupt header)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<DatasetInfo> Describe(hid_t dataset) {
  DatasetInfo info;
  Handle space(H5Dget_space(dataset), H5Sclose);
  Handle type(H5Dget_type(dataset), H5Tclose);
  if (!space.valid() || !type.valid())
    return absl::InvalidArgumentError(absl::StrCat("cannot read dataset shape: ", LastError()));
  int rank = H5Sget_simple_extent_ndims(space.id());
  if (rank < 0) return absl::InvalidArgumentError("dataset has no simple shape");
  std::vector<hsize_t> dims(static_cast<size_t>(rank)), max_dims(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space.id(), dims.data(), max_dims.data());
  for (hsize_t d : dims) info.dims.push_back(static_cast<int64_t>(d));
  info.type_class = H5Tget_class(type.id());
  info.type_size = H5Tget_size(type.id());
  if ((info.type_class == H5T_INTEGER || info.type_class == H5T_FLOAT) &&
      H5Tget_precision(type.id()) + H5Tget_offset(type.id()) > 8 * info.type_size) {
    // Found by hdf5_reader_fuzz: HDF5 1.10's conversion read past such a number's bytes.
    return absl::InvalidArgumentError(
        absl::StrCat("a ", info.type_size, "-byte number type with ", H5Tget_precision(type.id()),
                     " bits of precision at bit ", H5Tget_offset(type.id()), " (corrupt header)"));
  }
  if (auto s = CheckPlausibleSize(dataset, dims, info.type_size); !s.ok()) return s;
  if (auto s = CheckLayout(dataset, dims, max_dims, info.type_size); !s.ok()) return s;
  return info;
}

absl::Status WriteDataset(hid_t loc, const std::string& name, hid_t file_type, hid_t mem_type,
                          const std::vector<int64_t>& dims, const void* data,
                          const std::vector<int64_t>& chunk_dims, int gzip_level) {
  std::vector<hsize_t> hdims(dims.begin(), dims.end());
  Handle space(H5Screate_simple(static_cast<int>(hdims.size()), hdims.data(), nullptr), H5Sclose);
  Handle plist(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
  H5Pset_obj_track_times(plist.id(), 0);
  if (!chunk_dims.empty()) {
    std::vector<hsize_t> chunks(chunk_dims.begin(), chunk_dims.end());
    H5Pset_chunk(plist.id(), static_cast<int>(chunks.size()), chunks.data());
    if (gzip_level > 0) H5Pset_deflate(plist.id(), static_cast<unsigned>(gzip_level));
  }
  Handle dset(
      H5Dcreate2(loc, name.c_str(), file_type, space.id(), H5P_DEFAULT, plist.id(), H5P_DEFAULT),
      H5Dclose);
  if (!dset.valid())
    return absl::InternalError(absl::StrCat("cannot create dataset ", name, ": ", LastError()));
  if (H5Dwrite(dset.id(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
    return absl::InternalError(absl::StrCat("cannot write dataset ", name, ": ", LastError()));
  return absl::OkStatus();
}

absl::Status WriteStringAttribute(hid_t loc, const std::string& name, const std::string& value) {
  Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.id(), value.size() + 1);
  H5Tset_strpad(type.id(), H5T_STR_NULLTERM);
  Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  Handle attr(H5Acreate2(loc, name.c_str(), type.id(), space.id(), H5P_DEFAULT, H5P_DEFAULT),
              H5Aclose);
  if (!attr.valid() || H5Awrite(attr.id(), type.id(), value.c_str()) < 0)
    return absl::InternalError(absl::StrCat("cannot write attribute ", name, ": ", LastError()));
  return absl::OkStatus();
}

}  // namespace edgeloop::data::h5
