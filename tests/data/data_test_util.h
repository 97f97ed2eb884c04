// Helpers of the data tests: tiny synthetic datasets and hand-made HDF5 files.
#ifndef EDGELOOP_TESTS_DATA_DATA_TEST_UTIL_H_
#define EDGELOOP_TESTS_DATA_DATA_TEST_UTIL_H_

#include <hdf5.h>

#include <initializer_list>
#include <string>
#include <vector>

#include "data/synth.h"
#include "gtest/gtest.h"

namespace edgeloop::data::testing {

inline bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Expects `text` to contain each of `parts`.
inline void ExpectContainsAll(const std::string& text, std::initializer_list<std::string> parts) {
  for (const std::string& part : parts) EXPECT_PRED2(Contains, text, part);
}

// Small and fast: 32x32 frames, few lines.
inline SynthOptions SmallSynth(const std::string& out, Layout layout = Layout::kV10) {
  SynthOptions o;
  o.out = out;
  o.layout = layout;
  o.objects = {"C027", "C028"};
  o.layers = 5;
  o.lines_per_layer = 4;
  o.frame_size = 32;
  o.min_frames = 4;
  o.max_frames = 40;
  o.seed = 11;
  return o;
}

inline std::vector<SynthLine> Generate(const SynthOptions& o) {
  auto truth = WriteSynthetic(o);
  EXPECT_TRUE(truth.ok()) << truth.status();
  return truth.ok() ? *truth : std::vector<SynthLine>{};
}

// Writes a hand-made layer: each dataset is optional, so tests can omit or mistype any of them.
struct LayerSpec {
  std::string group = "/C027/layer0001";
  int64_t frames = 6;
  int size = 8;
  bool write_frame = true;
  hid_t frame_type = H5T_NATIVE_UINT8;  // mistype with e.g. H5T_NATIVE_FLOAT
  bool write_index = true;
  std::vector<int32_t> index = {0, 0, 0, 1, 1, 1};
  bool write_params = true;
  int params_cols = 2;
  std::vector<double> params = {500, 200, 900, 150};
  bool params_as_string = false;
  // > 0: laser_params is declared with this many rows (chunked) and nothing is written, as a
  // corrupt header claims what the file does not hold.
  hsize_t params_claimed_rows = 0;
};

inline void WriteDataset(hid_t loc, const char* name, hid_t type, const std::vector<hsize_t>& dims,
                         const void* data) {
  hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  hid_t set = H5Dcreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  if (data != nullptr) H5Dwrite(set, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
  H5Dclose(set);
  H5Sclose(space);
}

inline void WriteLayers(const std::string& path, const std::vector<LayerSpec>& layers) {
  hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  H5Pset_create_intermediate_group(lcpl, 1);
  for (const LayerSpec& l : layers) {
    hid_t group = H5Gcreate2(file, l.group.c_str(), lcpl, H5P_DEFAULT, H5P_DEFAULT);
    if (l.write_frame) {
      std::vector<double> pixels(static_cast<size_t>(l.frames * l.size * l.size));
      for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<double>(i % 200);
      hsize_t dims[3] = {static_cast<hsize_t>(l.frames), static_cast<hsize_t>(l.size),
                         static_cast<hsize_t>(l.size)};
      hid_t space = H5Screate_simple(3, dims, nullptr);
      hid_t set =
          H5Dcreate2(group, "frame", l.frame_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      H5Dwrite(set, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, pixels.data());
      H5Dclose(set);
      H5Sclose(space);
    }
    if (l.write_index)
      WriteDataset(group, "scan_line_index", H5T_NATIVE_INT32, {l.index.size()}, l.index.data());
    if (l.write_params && l.params_claimed_rows > 0) {
      hsize_t dims[2] = {l.params_claimed_rows, 2}, chunk[2] = {1024, 2};
      hid_t space = H5Screate_simple(2, dims, nullptr);
      hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
      H5Pset_chunk(dcpl, 2, chunk);
      hid_t set = H5Dcreate2(group, "laser_params", H5T_NATIVE_DOUBLE, space, H5P_DEFAULT, dcpl,
                             H5P_DEFAULT);
      H5Dclose(set);
      H5Pclose(dcpl);
      H5Sclose(space);
    } else if (l.write_params && l.params_as_string) {
      hid_t str = H5Tcopy(H5T_C_S1);
      H5Tset_size(str, 8);
      std::vector<char> text(16, 'x');
      WriteDataset(group, "laser_params", str, {2}, text.data());
      H5Tclose(str);
    } else if (l.write_params) {
      WriteDataset(group, "laser_params", H5T_NATIVE_DOUBLE,
                   {l.params.size() / static_cast<size_t>(l.params_cols),
                    static_cast<hsize_t>(l.params_cols)},
                   l.params.data());
    }
    H5Gclose(group);
  }
  H5Pclose(lcpl);
  H5Fclose(file);
}

}  // namespace edgeloop::data::testing

#endif  // EDGELOOP_TESTS_DATA_DATA_TEST_UTIL_H_
