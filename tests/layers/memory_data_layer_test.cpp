#include "crema/layers/memory_data_layer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crema/core/error.h"
#include "crema/layers/registry.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::LayerFromText;

caffe::LayerParameter MemoryParam(int batch, int c, int h, int w) {
  return LayerFromText("name: 'mem' type: 'MemoryData' top: 'data' top: 'label' "
                       "memory_data_param { batch_size: " + std::to_string(batch) +
                       " channels: " + std::to_string(c) + " height: " + std::to_string(h) +
                       " width: " + std::to_string(w) + " }");
}

// Every MemoryData misuse is an InvalidArgument.
template <typename Fn>
void ExpectError(Fn&& fn, std::initializer_list<std::string> fragments) {
  testing::ExpectError(fn, ErrorCode::kInvalidArgument, fragments);
}

TEST(MemoryDataLayerTest, ServesBatchesInOrderAndWrapsAround) {
  const int batch = 2, c = 3, h = 2, w = 2, n = 6, item = c * h * w;
  std::vector<float> data(static_cast<size_t>(n * item));
  std::vector<float> labels(static_cast<size_t>(n));
  for (size_t i = 0; i < data.size(); ++i) data[i] = 0.5f * static_cast<float>(i);
  for (int i = 0; i < n; ++i) labels[static_cast<size_t>(i)] = static_cast<float>(100 + i);

  std::unique_ptr<Layer> base = LayerRegistry::Global().Create(MemoryParam(batch, c, h, w));
  auto* layer = dynamic_cast<MemoryDataLayer*>(base.get());
  ASSERT_NE(layer, nullptr);
  Blob top_data, top_label;
  layer->SetUp({}, {&top_data, &top_label});
  EXPECT_EQ(top_data.shape(), (std::vector<int>{batch, c, h, w}));
  EXPECT_EQ(top_label.shape(), (std::vector<int>{batch}));
  layer->Reset(data.data(), labels.data(), n);
  for (int step = 0; step < 7; ++step) {
    layer->Forward({}, {&top_data, &top_label});
    const int first = (step * batch) % n;
    for (int b = 0; b < batch; ++b) {
      EXPECT_EQ(top_label.cpu_data()[b], labels[static_cast<size_t>(first + b)]);
      for (int k = 0; k < item; ++k) {
        ASSERT_EQ(top_data.cpu_data()[b * item + k],
                  data[static_cast<size_t>((first + b) * item + k)]);
      }
    }
  }
  // Reset starts again from the first item.
  layer->Reset(data.data() + 2 * item, labels.data() + 2, 4);
  layer->Forward({}, {&top_data, &top_label});
  EXPECT_EQ(top_label.cpu_data()[0], 102.f);
}

TEST(MemoryDataLayerTest, ResetNeedsAMultipleOfTheBatchSize) {
  MemoryDataLayer layer(MemoryParam(4, 1, 1, 1));
  Blob d, l;
  layer.SetUp({}, {&d, &l});
  std::vector<float> data(6), labels(6);
  ExpectError([&] { layer.Reset(data.data(), labels.data(), 6); },
              {"Layer 'mem' (MemoryData)", "multiple of batch_size 4", "got 6"});
  ExpectError([&] { layer.Reset(data.data(), labels.data(), 0); }, {"got 0"});
  ExpectError([&] { layer.Reset(nullptr, labels.data(), 4); }, {"null"});
}

TEST(MemoryDataLayerTest, ForwardWithoutResetIsAnError) {
  MemoryDataLayer layer(MemoryParam(1, 1, 2, 2));
  Blob d, l;
  layer.SetUp({}, {&d, &l});
  ExpectError([&] { layer.Forward({}, {&d, &l}); }, {"Layer 'mem' (MemoryData)", "Reset"});
}

TEST(MemoryDataLayerTest, DimensionsMustBePositive) {
  Blob d, l;
  for (const auto& param : {MemoryParam(0, 1, 1, 1), MemoryParam(1, 0, 1, 1),
                            MemoryParam(1, 1, 0, 1), MemoryParam(1, 1, 1, 0)}) {
    MemoryDataLayer layer(param);
    ExpectError([&] { layer.SetUp({}, {&d, &l}); }, {"Layer 'mem' (MemoryData)", "> 0"});
  }
  MemoryDataLayer one_top(MemoryParam(1, 1, 1, 1));
  ExpectError([&] { one_top.SetUp({}, {&d}); }, {"Layer 'mem' (MemoryData)", "2 top"});
}

TEST(MemoryDataLayerTest, AcceptsAndIgnoresTheCaffeOnSparkFields) {
  MemoryDataLayer layer(LayerFromText(
      "name: 'mem' type: 'MemoryData' top: 'data' top: 'label' memory_data_param { "
      "batch_size: 2 channels: 1 height: 1 width: 3 source: 'hdfs:///x' "
      "share_in_parallel: false image_encoded: true dataframe_format: 'json' "
      "dataframe_column_select: 'label' }"));
  Blob d, l;
  layer.SetUp({}, {&d, &l});
  std::vector<float> data = {1, 2, 3, 4, 5, 6}, labels = {7, 8};
  layer.Reset(data.data(), labels.data(), 2);
  layer.Forward({}, {&d, &l});
  EXPECT_EQ(d.cpu_data()[5], 6.f);
  EXPECT_EQ(l.cpu_data()[1], 8.f);
}

}  // namespace
}  // namespace crema
