#include "crema/net/feature_extractor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "crema/core/error.h"
#include "crema/core/rank.h"
#include "crema/core/rng.h"
#include "crema/data/lmdb_dataset.h"
#include "crema/net/net.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::ExpectError;
using testing::NetFromText;
using testing::TempDir;

constexpr int kRecords = 23;
constexpr int kPixels = 2 * 3 * 3;  // C×H×W of a record
constexpr float kScale = 1.f / 64;

std::string Key(int i) {
  char key[16];
  std::snprintf(key, sizeof(key), "%08d", i);
  return key;
}

uint8_t PixelOf(int record, int p) { return static_cast<uint8_t>((record * 31 + p * 7) % 251); }

// An LMDB of kRecords raw 2×3×3 Datums under keys %08d; record i has label i % 4.
void MakeDb(const std::string& path) {
  LmdbWriter writer(path);
  for (int i = 0; i < kRecords; ++i) {
    caffe::Datum datum;
    datum.set_channels(2);
    datum.set_height(3);
    datum.set_width(3);
    std::string bytes(kPixels, '\0');
    for (int p = 0; p < kPixels; ++p) bytes[static_cast<size_t>(p)] = static_cast<char>(PixelOf(i, p));
    datum.set_data(bytes);
    datum.set_label(i % 4);
    writer.Put(Key(i), datum.SerializeAsString());
  }
  writer.Finish();
}

// Data (batch 5) → InnerProduct "ip" (4 outputs) → Accuracy and SoftmaxWithLoss.
std::string NetText(const std::string& db, const std::string& data_extra = "") {
  return R"(name: "fx" state { phase: TEST }
layer { name: "data" type: "Data" top: "data" top: "label"
  transform_param { scale: 0.015625 }
  data_param { source: ")" + db + R"(" batch_size: 5 backend: LMDB } )" + data_extra + R"( }
layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip"
  inner_product_param { num_output: 4 weight_filler { type: "gaussian" std: 0.5 }
                        bias_filler { type: "uniform" min: -1 max: 1 } } }
layer { name: "accuracy" type: "Accuracy" bottom: "ip" bottom: "label" top: "accuracy" }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
)";
}

// Keeps records in memory.
class RecordingWriter : public FeatureWriter {
 public:
  explicit RecordingWriter(std::vector<FeatureColumn> columns)
      : FeatureWriter("/nonexistent/recording", std::move(columns)) {}
  std::vector<std::pair<std::string, std::vector<std::vector<float>>>> records;

 protected:
  void AppendRecord(std::string_view id, const std::vector<const float*>& values) override {
    std::vector<std::vector<float>> row;
    for (size_t c = 0; c < columns().size(); ++c) {
      row.emplace_back(values[c], values[c] + columns()[c].size);
    }
    records.emplace_back(std::string(id), std::move(row));
  }
  void Finish() override {}
};

// Sets this process's rank for the lifetime of the object; restores rank 0 of 1 after.
class ScopedRank {
 public:
  ScopedRank(int rank, int world_size) { SetRankInfo({rank, world_size}); }
  ~ScopedRank() { SetRankInfo({0, 1}); }
  ScopedRank(const ScopedRank&) = delete;
  ScopedRank& operator=(const ScopedRank&) = delete;
};

using Records = std::map<std::string, std::vector<std::vector<float>>>;

// Extracts ip and label as rank `rank` of `world`; every net gets the same weights.
Records Extract(const std::string& text, int rank, int world, int64_t* samples = nullptr) {
  ScopedRank scoped(rank, world);
  SetRandomSeed(11);
  Net net(NetFromText(text));
  FeatureExtractor extractor(&net, {"ip"}, "label");
  RecordingWriter writer(extractor.columns());
  EXPECT_EQ(extractor.Run(&writer), extractor.samples());
  if (samples != nullptr) *samples = extractor.samples();
  Records records;
  for (auto& [id, row] : writer.records) {
    EXPECT_TRUE(records.emplace(id, row).second) << "duplicate " << id;
  }
  EXPECT_EQ(writer.records.size(), records.size());
  return records;
}

TEST(FeatureExtractorTest, OneRecordPerSampleWithTheBlobRowsAndTheLabel) {
  TempDir dir;
  MakeDb(dir.file("db"));
  SetRandomSeed(11);
  Net net(NetFromText(NetText(dir.file("db"))));
  FeatureExtractor extractor(&net, {"ip"}, "label");
  EXPECT_EQ(extractor.batch_size(), 5);
  EXPECT_EQ(extractor.samples(), kRecords);
  EXPECT_EQ(extractor.batches(), 5);  // ⌈23 / 5⌉; the last batch's two wrapped items are dropped
  ASSERT_EQ(extractor.columns().size(), 2u);
  EXPECT_EQ(extractor.columns()[0].name, "ip");
  EXPECT_EQ(extractor.columns()[0].size, 4);
  EXPECT_EQ(extractor.columns()[1].name, "label");
  EXPECT_EQ(extractor.columns()[1].size, 1);
  RecordingWriter writer(extractor.columns());
  EXPECT_EQ(extractor.Run(&writer), kRecords);
  ASSERT_EQ(writer.records.size(), static_cast<size_t>(kRecords));

  // ip = W·x + b by hand, with the net's weights.
  const Blob& weight = *net.layer_by_name("ip")->blobs()[0];
  const Blob& bias = *net.layer_by_name("ip")->blobs()[1];
  for (int i = 0; i < kRecords; ++i) {
    const auto& [id, row] = writer.records[static_cast<size_t>(i)];
    EXPECT_EQ(id, Key(i));
    for (int o = 0; o < 4; ++o) {
      double expected = bias.cpu_data()[o];
      for (int p = 0; p < kPixels; ++p) {
        expected += static_cast<double>(weight.cpu_data()[o * kPixels + p]) * PixelOf(i, p) * kScale;
      }
      EXPECT_NEAR(row[0][static_cast<size_t>(o)], expected, 1e-5 * (1 + std::abs(expected)))
          << "record " << i << " output " << o;
    }
    EXPECT_EQ(row[1], std::vector<float>{static_cast<float>(i % 4)});
  }
}

TEST(FeatureExtractorTest, RanksTogetherWriteEverySampleOnceWithTheSameValues) {
  TempDir dir;
  MakeDb(dir.file("db"));
  const std::string text = NetText(dir.file("db"));
  const Records single = Extract(text, 0, 1);
  ASSERT_EQ(single.size(), static_cast<size_t>(kRecords));
  // 3 ranks share the 5 batches unevenly; with 7 ranks two of them get none.
  for (const int world : {2, 3, 7}) {
    Records all;
    int64_t total = 0;
    for (int rank = 0; rank < world; ++rank) {
      int64_t samples = 0;
      for (auto& [id, row] : Extract(text, rank, world, &samples)) {
        EXPECT_TRUE(all.emplace(id, row).second) << id << " written by two ranks of " << world;
      }
      total += samples;
    }
    EXPECT_EQ(total, kRecords) << world;
    EXPECT_EQ(all, single) << world;
  }
}

TEST(FeatureExtractorTest, RandomSkipsAreDisabled) {
  TempDir dir;
  MakeDb(dir.file("db"));
  caffe::NetParameter param = NetFromText(NetText(dir.file("db")));
  param.mutable_layer(0)->mutable_data_param()->set_rand_skip(10);
  EXPECT_EQ(FeatureExtractor::DisableRandomSkips(&param), std::vector<std::string>{"data"});
  EXPECT_FALSE(param.layer(0).data_param().has_rand_skip());
  EXPECT_TRUE(FeatureExtractor::DisableRandomSkips(&param).empty());
}

TEST(FeatureExtractorTest, BlobsThatAreNotOneRowPerSampleAreRefused) {
  TempDir dir;
  MakeDb(dir.file("db"));
  Net net(NetFromText(NetText(dir.file("db"))));
  for (const char* blob : {"accuracy", "loss"}) {
    ExpectError([&] { FeatureExtractor(&net, {"ip", blob}, ""); }, ErrorCode::kInvalidArgument,
                {"blob '" + std::string(blob) +
                     "' holds one value per batch, not one per sample, so it cannot be "
                     "extracted as a feature"});
  }
  ExpectError([&] { FeatureExtractor(&net, {"ip"}, "loss"); }, ErrorCode::kInvalidArgument,
              {"blob 'loss' holds one value per batch"});
  ExpectError([&] { FeatureExtractor(&net, {"fc7"}, ""); }, ErrorCode::kInvalidArgument,
              {"net 'fx' has no blob 'fc7'", "its blobs: data, label", "ip", "accuracy"});
  ExpectError([&] { FeatureExtractor(&net, {"ip", "ip"}, ""); }, ErrorCode::kInvalidArgument,
              {"blob 'ip' is asked for twice"});
  ExpectError([&] { FeatureExtractor(&net, {"label"}, "label"); }, ErrorCode::kInvalidArgument,
              {"blob 'label' is asked for twice", "-label"});
  ExpectError([&] { FeatureExtractor(&net, {}, "label"); }, ErrorCode::kInvalidArgument,
              {"at least one blob"});
}

TEST(FeatureExtractorTest, NetsWithoutADatasetAreRefused) {
  for (const std::string& input :
       {std::string("layer { name: 'in' type: 'Input' top: 'data' "
                    "input_param { shape { dim: 5 dim: 3 } } }"),
        std::string("layer { name: 'mem' type: 'MemoryData' top: 'data' top: 'label' "
                    "memory_data_param { batch_size: 5 channels: 3 height: 1 width: 1 } }")}) {
    Net net(NetFromText("name: 'm' " + input +
                        " layer { name: 'ip' type: 'InnerProduct' bottom: 'data' top: 'ip' "
                        "inner_product_param { num_output: 2 } }"));
    ExpectError([&] { FeatureExtractor(&net, {"ip"}, ""); }, ErrorCode::kInvalidArgument,
                {"features needs a data layer that reads a dataset (Data, ImageData or "
                 "HDF5Data), but net 'm' has none",
                 net.layers()[0]->Describe()});
    // Only data layers can name samples.
    ExpectError([&] { net.layers()[0]->set_keep_batch_ids(true); }, ErrorCode::kUnsupported,
                {net.layers()[0]->Describe(), "cannot name its samples"});
    EXPECT_EQ(net.layers()[0]->samples_per_pass(), -1);
  }
}

TEST(FeatureExtractorTest, AnUnshardedLayerInAJobIsRefused) {
  TempDir dir;
  MakeDb(dir.file("db"));
  ScopedRank scoped(1, 2);
  Net net(NetFromText(NetText(dir.file("db"), "crema_data_param { shard: false }")));
  ExpectError([&] { FeatureExtractor(&net, {"ip"}, ""); }, ErrorCode::kInvalidArgument,
              {"Layer 'data' (Data)", "shard: false", "each of the 2 ranks"});
}

}  // namespace
}  // namespace crema
