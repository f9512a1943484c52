#include "crema/layers/hdf5_output_layer.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "crema/data/hdf5_dataset.h"
#include "crema/layers/hdf5_data_layer.h"
#include "crema/layers/registry.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::ExpectError;
using testing::FillUniform;
using testing::LayerFromText;
using testing::TempDir;

caffe::LayerParameter OutputParam(const std::string& path) {
  return LayerFromText("name: 'out' type: 'HDF5Output' hdf5_output_param { file_name: '" + path +
                       "' }");
}

TEST(HDF5OutputLayerTest, IsRegistered) {
  TempDir dir;
  EXPECT_STREQ(LayerRegistry::Global().Create(OutputParam(dir.file("a.h5")))->type(),
               "HDF5Output");
}

TEST(HDF5OutputLayerTest, OneBatchIsWrittenInCaffesLayout) {
  TempDir dir;
  const std::string path = dir.file("out.h5");
  Blob data({3, 2, 4}), label({3});
  FillUniform(&data, -1.f, 1.f, 121);
  FillUniform(&label, 0.f, 9.f, 122);
  {
    HDF5OutputLayer layer(OutputParam(path));
    layer.SetUp({&data, &label}, {});
    layer.Forward({&data, &label}, {});
  }
  const Hdf5File file = Hdf5File::Open(path);
  // Legacy 4-D shapes: missing trailing axes are 1.
  EXPECT_EQ(file.Shape("data"), (std::vector<int64_t>{3, 2, 4, 1}));
  EXPECT_EQ(file.Shape("label"), (std::vector<int64_t>{3, 1, 1, 1}));
  const std::vector<float> d = file.ReadFloat("data");
  const std::vector<float> l = file.ReadFloat("label");
  ASSERT_EQ(d.size(), 24u);
  ASSERT_EQ(l.size(), 3u);
  for (int i = 0; i < 24; ++i) EXPECT_EQ(d[i], data.cpu_data()[i]) << i;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(l[i], label.cpu_data()[i]) << i;
}

TEST(HDF5OutputLayerTest, BatchesAppendAndHDF5DataReadsThemBack) {
  TempDir dir;
  const std::string path = dir.file("out.h5");
  Blob data({2, 3, 2, 2}), label({2, 1});
  std::vector<float> all_data, all_label;
  {
    HDF5OutputLayer layer(OutputParam(path));
    layer.SetUp({&data, &label}, {});
    for (int batch = 0; batch < 3; ++batch) {
      if (batch == 2) {  // the batch size may change
        data.Reshape({1, 3, 2, 2});
        label.Reshape({1, 1});
      }
      FillUniform(&data, -1.f, 1.f, 123 + batch);
      for (int n = 0; n < label.count(); ++n) {
        label.mutable_cpu_data()[n] = static_cast<float>(batch * 10 + n);
      }
      layer.Forward({&data, &label}, {});
      all_data.insert(all_data.end(), data.cpu_data(), data.cpu_data() + data.count());
      all_label.insert(all_label.end(), label.cpu_data(), label.cpu_data() + label.count());
    }
    // Flushed after every batch: readable while the layer still holds the file.
    const Hdf5File open_file = Hdf5File::Open(path);
    EXPECT_EQ(open_file.Shape("data"), (std::vector<int64_t>{5, 3, 2, 2}));
  }
  testing::WriteFile(dir.file("list.txt"), path + "\n");
  HDF5DataLayer reader(LayerFromText(
      "name: 'in' type: 'HDF5Data' top: 'data' top: 'label' hdf5_data_param { source: '" +
      dir.file("list.txt") + "' batch_size: 5 }"));
  Blob read_data, read_label;
  reader.SetUp({}, {&read_data, &read_label});
  reader.Forward({}, {&read_data, &read_label});
  ASSERT_EQ(read_data.shape(), (std::vector<int>{5, 3, 2, 2}));
  ASSERT_EQ(read_label.shape(), (std::vector<int>{5, 1, 1, 1}));
  for (int i = 0; i < read_data.count(); ++i) EXPECT_EQ(read_data.cpu_data()[i], all_data[i]) << i;
  for (int i = 0; i < read_label.count(); ++i) {
    EXPECT_EQ(read_label.cpu_data()[i], all_label[i]) << i;
  }
}

TEST(HDF5OutputLayerTest, ErrorsNameTheLayer) {
  TempDir dir;
  Blob data({2, 3}), label({2}), other({3}), deep({2, 1, 1, 1, 1});
  {
    HDF5OutputLayer layer(LayerFromText("name: 'out' type: 'HDF5Output'"));
    ExpectError([&] { layer.SetUp({&data, &label}, {}); }, ErrorCode::kInvalidArgument,
                {"Layer 'out' (HDF5Output)", "file_name"});
  }
  {
    HDF5OutputLayer layer(OutputParam(dir.file("missing/dir/out.h5")));
    ExpectError([&] { layer.SetUp({&data, &label}, {}); }, ErrorCode::kIOError,
                {"Layer 'out' (HDF5Output)", "missing/dir/out.h5"});
  }
  {
    HDF5OutputLayer layer(OutputParam(dir.file("a.h5")));
    ExpectError([&] { layer.SetUp({&data, &other}, {}); }, ErrorCode::kInvalidArgument,
                {"Layer 'out' (HDF5Output)", "same first dimension"});
  }
  {
    HDF5OutputLayer layer(OutputParam(dir.file("b.h5")));
    ExpectError([&] { layer.SetUp({&deep, &label}, {}); }, ErrorCode::kInvalidArgument,
                {"Layer 'out' (HDF5Output)", "at most 4 axes"});
  }
  {
    HDF5OutputLayer layer(OutputParam(dir.file("c.h5")));
    layer.SetUp({&data, &label}, {});
    layer.Forward({&data, &label}, {});
    data.Reshape({2, 4});
    ExpectError([&] { layer.Forward({&data, &label}, {}); }, ErrorCode::kInvalidArgument,
                {"Layer 'out' (HDF5Output)", "changed after the first batch"});
  }
}

}  // namespace
}  // namespace crema
