#include "crema/layers/data_layer.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "crema/core/error.h"
#include "crema/core/rank.h"
#include "crema/core/rng.h"
#include "crema/data/image_codec.h"
#include "crema/data/lmdb_dataset.h"
#include "crema/layers/registry.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::ExpectError;

using testing::LayerFromText;
using testing::TempDir;

constexpr int kC = 2, kH = 3, kW = 4;

std::string Key(int i) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%08d", i);
  return buf;
}

uint8_t PixelOf(int record, int index) {
  return static_cast<uint8_t>((record * 37 + index * 5) & 0xff);
}

caffe::Datum RawDatum(int record, int c = kC, int h = kH, int w = kW) {
  caffe::Datum datum;
  datum.set_channels(c);
  datum.set_height(h);
  datum.set_width(w);
  std::string bytes(static_cast<size_t>(c * h * w), '\0');
  for (size_t p = 0; p < bytes.size(); ++p) {
    bytes[p] = static_cast<char>(PixelOf(record, static_cast<int>(p)));
  }
  datum.set_data(bytes);
  datum.set_label(record);
  return datum;
}

// An LMDB of `n` raw records; record i has label i and pixels PixelOf(i, ·).
void MakeDb(const std::string& path, int n) {
  LmdbWriter writer(path);
  for (int i = 0; i < n; ++i) writer.Put(Key(i), RawDatum(i).SerializeAsString());
  writer.Finish();
}

caffe::LayerParameter DataParam(const std::string& source, int batch_size,
                                const std::string& extra = "",
                                const std::string& phase = "TRAIN") {
  return LayerFromText("name: 'data' type: 'Data' top: 'data' top: 'label' phase: " + phase +
                       " data_param { source: '" + source +
                       "' backend: LMDB batch_size: " + std::to_string(batch_size) + " } " +
                       extra);
}

struct Tops {
  Blob data, label;
  BlobVec vec() { return {&data, &label}; }
};

// The label of every item of one Forward.
std::vector<int> ForwardLabels(DataLayer* layer, Tops* tops) {
  layer->Forward({}, tops->vec());
  std::vector<int> labels;
  for (int i = 0; i < tops->label.count(); ++i) {
    labels.push_back(static_cast<int>(tops->label.cpu_data()[i]));
  }
  return labels;
}

TEST(DataLayerTest, BatchesInKeyOrderWithWrapAround) {
  TempDir dir;
  MakeDb(dir.file("db"), 5);
  DataLayer layer(DataParam(dir.file("db"), 2, "transform_param { scale: 0.5 }"));
  Tops tops;
  layer.SetUp({}, tops.vec());
  EXPECT_EQ(tops.data.shape(), (std::vector<int>{2, kC, kH, kW}));
  EXPECT_EQ(tops.label.shape(), (std::vector<int>{2}));
  const std::vector<std::vector<int>> expected = {{0, 1}, {2, 3}, {4, 0}, {1, 2}, {3, 4}};
  for (const std::vector<int>& batch : expected) {
    ASSERT_EQ(ForwardLabels(&layer, &tops), batch);
    for (int n = 0; n < 2; ++n) {
      for (int p = 0; p < kC * kH * kW; ++p) {
        ASSERT_EQ(tops.data.cpu_data()[n * kC * kH * kW + p],
                  0.5f * static_cast<float>(PixelOf(batch[static_cast<size_t>(n)], p)));
      }
    }
  }
}

TEST(DataLayerTest, IsRegisteredAndWorksWithoutALabelTop) {
  TempDir dir;
  MakeDb(dir.file("db"), 3);
  caffe::LayerParameter param = DataParam(dir.file("db"), 3);
  param.clear_top();
  param.add_top("data");
  std::unique_ptr<Layer> layer = LayerRegistry::Global().Create(param);
  EXPECT_STREQ(layer->type(), "Data");
  Blob data;
  layer->SetUp({}, {&data});
  layer->Forward({}, {&data});
  EXPECT_EQ(data.shape(), (std::vector<int>{3, kC, kH, kW}));
  EXPECT_EQ(data.cpu_data()[kC * kH * kW], static_cast<float>(PixelOf(1, 0)));
}

TEST(DataLayerTest, CropShapesTheTopAndIsCentredInTest) {
  TempDir dir;
  MakeDb(dir.file("db"), 2);
  DataLayer layer(DataParam(dir.file("db"), 2, "transform_param { crop_size: 2 }", "TEST"));
  Tops tops;
  layer.SetUp({}, tops.vec());
  EXPECT_EQ(tops.data.shape(), (std::vector<int>{2, kC, 2, 2}));
  layer.Forward({}, tops.vec());
  // Centre offsets ((3-2)/2, (4-2)/2) = (0, 1).
  for (int n = 0; n < 2; ++n) {
    for (int c = 0; c < kC; ++c) {
      for (int h = 0; h < 2; ++h) {
        for (int w = 0; w < 2; ++w) {
          EXPECT_EQ(tops.data.cpu_data()[((n * kC + c) * 2 + h) * 2 + w],
                    static_cast<float>(PixelOf(n, (c * kH + h) * kW + w + 1)));
        }
      }
    }
  }
}

TEST(DataLayerTest, RandSkipStartsWithinRangeAndFollowsTheSeed) {
  TempDir dir;
  MakeDb(dir.file("db"), 20);
  std::set<int> starts;
  for (uint64_t seed = 1; seed <= 40; ++seed) {
    SetRandomSeed(seed);
    caffe::LayerParameter param = DataParam(dir.file("db"), 2);
    param.mutable_data_param()->set_rand_skip(6);
    DataLayer skipping(param);
    Tops tops;
    skipping.SetUp({}, tops.vec());
    const std::vector<int> labels = ForwardLabels(&skipping, &tops);
    ASSERT_GE(labels[0], 0);
    ASSERT_LT(labels[0], 6);
    EXPECT_EQ(labels[1], labels[0] + 1);
    starts.insert(labels[0]);

    SetRandomSeed(seed);  // the same seed skips the same number
    DataLayer again(param);
    Tops tops2;
    again.SetUp({}, tops2.vec());
    EXPECT_EQ(ForwardLabels(&again, &tops2), labels);
  }
  EXPECT_GE(starts.size(), 4u);
}

TEST(DataLayerTest, SkipBatchesAdvancesBeforeTheFirstForward) {
  TempDir dir;
  MakeDb(dir.file("db"), 5);
  DataLayer layer(DataParam(dir.file("db"), 2));
  Tops tops;
  layer.SetUp({}, tops.vec());
  layer.SkipBatches(3);  // 6 records: 0 1 | 2 3 | 4 0 | → starts at 1
  EXPECT_EQ(ForwardLabels(&layer, &tops), (std::vector<int>{1, 2}));
  ExpectError([&] { layer.SkipBatches(1); }, ErrorCode::kInvalidArgument,
              {"Layer 'data' (Data)", "before the first Forward"});

  DataLayer big(DataParam(dir.file("db"), 3));
  big.SetUp({}, tops.vec());
  big.SkipBatches(int64_t{1} << 40);  // (2^40 · 3) mod 5 = 3, no overflow
  EXPECT_EQ(ForwardLabels(&big, &tops), (std::vector<int>{3, 4, 0}));
  ExpectError([&] { big.SkipBatches(-1); }, ErrorCode::kInvalidArgument, {"negative"});
}

TEST(DataLayerTest, SkipBatchesReproducesAnUninterruptedRun) {
  TempDir dir;
  MakeDb(dir.file("db"), 7);
  caffe::LayerParameter param = DataParam(dir.file("db"), 3,
                                          "transform_param { crop_size: 2 mirror: true }");
  param.mutable_data_param()->set_rand_skip(5);
  std::vector<std::vector<float>> straight;
  {
    SetRandomSeed(21);
    DataLayer layer(param);
    Tops tops;
    layer.SetUp({}, tops.vec());
    for (int i = 0; i < 6; ++i) {
      layer.Forward({}, tops.vec());
      straight.emplace_back(tops.data.cpu_data(), tops.data.cpu_data() + tops.data.count());
    }
  }
  SetRandomSeed(21);
  DataLayer resumed(param);
  Tops tops;
  resumed.SetUp({}, tops.vec());
  resumed.SkipBatches(4);
  for (int i = 4; i < 6; ++i) {
    resumed.Forward({}, tops.vec());
    EXPECT_EQ(std::vector<float>(tops.data.cpu_data(), tops.data.cpu_data() + tops.data.count()),
              straight[static_cast<size_t>(i)])
        << "batch " << i;
  }
}

// The data of `batches` Forwards.
std::vector<std::vector<float>> ForwardData(const caffe::LayerParameter& param, int batches,
                                            unsigned seed) {
  SetRandomSeed(seed);
  DataLayer layer(param);
  Tops tops;
  layer.SetUp({}, tops.vec());
  std::vector<std::vector<float>> out;
  for (int i = 0; i < batches; ++i) {
    layer.Forward({}, tops.vec());
    out.emplace_back(tops.data.cpu_data(), tops.data.cpu_data() + tops.data.count());
  }
  return out;
}

TEST(DataLayerTest, ThreadCountDoesNotChangeTheBatches) {
  TempDir dir;
  MakeDb(dir.file("db"), 23);
  const std::string transform = "transform_param { crop_size: 2 mirror: true scale: 0.5 }";
  const auto one = ForwardData(DataParam(dir.file("db"), 4, transform), 12, 5);
  for (const char* knobs : {"crema_data_param { threads: 3 }",
                            "crema_data_param { threads: 4 queue_depth: 2 }"}) {
    EXPECT_EQ(ForwardData(DataParam(dir.file("db"), 4, transform + " " + knobs), 12, 5), one)
        << knobs;
  }
}

TEST(DataLayerTest, EncodedRecordsAreDecoded) {
  TempDir dir;
  {
    LmdbWriter writer(dir.file("db"));
    for (int i = 0; i < 3; ++i) {
      Image image;
      image.channels = 3;
      image.height = 4;
      image.width = 5;
      for (int p = 0; p < 60; ++p) image.pixels.push_back(PixelOf(i, p));
      caffe::Datum datum;
      datum.set_encoded(true);
      datum.set_data(EncodeImage(image, "png"));  // lossless: pixels come back exactly
      datum.set_label(i);
      writer.Put(Key(i), datum.SerializeAsString());
    }
  }
  for (const auto& [extra, channels] : {std::pair<std::string, int>{"", 3},
                                        {"transform_param { force_gray: true }", 1}}) {
    DataLayer layer(DataParam(dir.file("db"), 3, extra));
    Tops tops;
    layer.SetUp({}, tops.vec());
    EXPECT_EQ(tops.data.shape(), (std::vector<int>{3, channels, 4, 5}));
    EXPECT_EQ(ForwardLabels(&layer, &tops), (std::vector<int>{0, 1, 2}));
    if (channels == 3) {
      for (int p = 0; p < 60; ++p) EXPECT_EQ(tops.data.cpu_data()[60 + p], PixelOf(1, p)) << p;
    }
  }
}

// Labels of one epoch of this rank's shard.
std::vector<int> ShardLabels(const std::string& db, int rank, int world, const char* phase,
                             int batch_size, int64_t* shard_size) {
  SetRankInfo({rank, world});
  DataLayer layer(DataParam(db, batch_size, "", phase));
  Tops tops;
  layer.SetUp({}, tops.vec());
  SetRankInfo({0, 1});
  *shard_size = layer.shard_size();
  std::vector<int> labels;
  while (static_cast<int64_t>(labels.size()) < *shard_size) {
    for (int label : ForwardLabels(&layer, &tops)) labels.push_back(label);
  }
  labels.resize(static_cast<size_t>(*shard_size));
  return labels;
}

TEST(DataLayerTest, ShardsAreDisjointEqualInTrainAndCoverTheTestSetOnce) {
  TempDir dir;
  const int n = 23;
  MakeDb(dir.file("db"), n);
  for (int world = 1; world <= 5; ++world) {
    std::set<int> train_seen;
    std::multiset<int> test_seen;
    for (int rank = 0; rank < world; ++rank) {
      int64_t size = 0;
      const auto train = ShardLabels(dir.file("db"), rank, world, "TRAIN", 2, &size);
      EXPECT_EQ(size, n / world) << "world " << world << " rank " << rank;
      for (int label : train) EXPECT_TRUE(train_seen.insert(label).second) << "label " << label;
      const auto test = ShardLabels(dir.file("db"), rank, world, "TEST", 3, &size);
      test_seen.insert(test.begin(), test.end());
    }
    EXPECT_EQ(train_seen.size(), static_cast<size_t>(n / world * world));
    EXPECT_EQ(test_seen.size(), static_cast<size_t>(n));
    EXPECT_EQ(std::set<int>(test_seen.begin(), test_seen.end()).size(), static_cast<size_t>(n));
  }
  // shard: false reads everything on every rank.
  SetRankInfo({1, 4});
  DataLayer whole(DataParam(dir.file("db"), 2, "crema_data_param { shard: false }"));
  Tops tops;
  whole.SetUp({}, tops.vec());
  SetRankInfo({0, 1});
  EXPECT_EQ(whole.shard_size(), n);
  // Fewer records than ranks cannot train.
  SetRankInfo({0, 30});
  DataLayer starved(DataParam(dir.file("db"), 2));
  ExpectError([&] { starved.SetUp({}, tops.vec()); }, ErrorCode::kInvalidArgument,
              {"Layer 'data' (Data)", "23 items", "30 ranks"});
  SetRankInfo({0, 1});
}

TEST(DataLayerTest, FloatDataDatums) {
  TempDir dir;
  {
    LmdbWriter writer(dir.file("db"));
    for (int i = 0; i < 3; ++i) {
      caffe::Datum datum;
      datum.set_channels(1);
      datum.set_height(2);
      datum.set_width(2);
      for (int p = 0; p < 4; ++p) datum.add_float_data(static_cast<float>(i) + 0.25f * p);
      datum.set_label(10 + i);
      writer.Put(Key(i), datum.SerializeAsString());
    }
  }
  DataLayer layer(DataParam(dir.file("db"), 3, "transform_param { mean_value: 1 scale: 2 }"));
  Tops tops;
  layer.SetUp({}, tops.vec());
  EXPECT_EQ(tops.data.shape(), (std::vector<int>{3, 1, 2, 2}));
  EXPECT_EQ(ForwardLabels(&layer, &tops), (std::vector<int>{10, 11, 12}));
  for (int i = 0; i < 3; ++i) {
    for (int p = 0; p < 4; ++p) {
      EXPECT_FLOAT_EQ(tops.data.cpu_data()[i * 4 + p], (static_cast<float>(i) + 0.25f * p - 1) * 2);
    }
  }
}

TEST(DataLayerTest, RecordOfAnotherShapeIsAnErrorNamingItsKey) {
  TempDir dir;
  {
    LmdbWriter writer(dir.file("db"));
    for (int i = 0; i < 6; ++i) {
      const caffe::Datum datum = i == 3 ? RawDatum(i, kC, kH, kW + 1) : RawDatum(i);
      writer.Put(Key(i), datum.SerializeAsString());
    }
  }
  DataLayer layer(DataParam(dir.file("db"), 2, "", "TEST"));
  Tops tops;
  layer.SetUp({}, tops.vec());
  EXPECT_EQ(ForwardLabels(&layer, &tops), (std::vector<int>{0, 1}));
  ExpectError([&] { layer.Forward({}, tops.vec()); }, ErrorCode::kInvalidArgument,
              {"Layer 'data' (Data)", dir.file("db"), "record '00000003'", "2 3 5 (30)",
               "2 3 4 (24)"});
}

TEST(DataLayerTest, CorruptRecordSurfacesAtForward) {
  TempDir dir;
  {
    LmdbWriter writer(dir.file("db"));
    writer.Put(Key(0), RawDatum(0).SerializeAsString());
    writer.Put(Key(1), RawDatum(1).SerializeAsString());
    writer.Put(Key(2), "\xff\xff\xff\xff not a datum");
  }
  DataLayer layer(DataParam(dir.file("db"), 2, "", "TEST"));
  Tops tops;
  layer.SetUp({}, tops.vec());
  EXPECT_EQ(ForwardLabels(&layer, &tops), (std::vector<int>{0, 1}));
  ExpectError([&] { layer.Forward({}, tops.vec()); }, ErrorCode::kCorruption,
              {"Layer 'data' (Data)", "record '00000002'", "not a valid Datum"});
}

TEST(DataLayerTest, MissingSourceNamesThePath) {
  TempDir dir;
  DataLayer layer(DataParam(dir.file("missing_lmdb"), 2));
  Tops tops;
  ExpectError([&] { layer.SetUp({}, tops.vec()); }, ErrorCode::kIOError,
              {"Layer 'data' (Data)", dir.file("missing_lmdb")});
}

TEST(DataLayerTest, LevelDbIsRefused) {
  TempDir dir;
  MakeDb(dir.file("db"), 2);
  caffe::LayerParameter param = DataParam(dir.file("db"), 2);
  param.mutable_data_param()->set_backend(caffe::DataParameter::LEVELDB);
  DataLayer layer(param);
  Tops tops;
  ExpectError([&] { layer.SetUp({}, tops.vec()); }, ErrorCode::kUnsupported,
              {"Layer 'data' (Data)", "LevelDB is not supported", "backend: LMDB"});

  // No backend at all: a LevelDB directory is recognised and refused...
  std::filesystem::create_directory(dir.file("leveldb"));
  testing::WriteFile(dir.file("leveldb/CURRENT"), "MANIFEST-000001\n");
  caffe::LayerParameter unset = DataParam(dir.file("leveldb"), 2);
  unset.mutable_data_param()->clear_backend();
  DataLayer leveldb(unset);
  ExpectError([&] { leveldb.SetUp({}, tops.vec()); }, ErrorCode::kUnsupported,
              {dir.file("leveldb"), "LevelDB is not supported", "backend: LMDB"});

  // ...and an LMDB directory is read as LMDB.
  unset.mutable_data_param()->set_source(dir.file("db"));
  DataLayer lmdb(unset);
  lmdb.SetUp({}, tops.vec());
  EXPECT_EQ(ForwardLabels(&lmdb, &tops), (std::vector<int>{0, 1}));
}

TEST(DataLayerTest, BadParametersAndRecordsFailSetUp) {
  TempDir dir;
  MakeDb(dir.file("db"), 2);
  Tops tops;
  {
    DataLayer layer(DataParam(dir.file("db"), 0));
    ExpectError([&] { layer.SetUp({}, tops.vec()); }, ErrorCode::kInvalidArgument,
                {"Layer 'data' (Data)", "batch_size"});
  }
  {
    DataLayer layer(LayerFromText("name: 'data' type: 'Data' top: 'data'"));
    Blob data;
    ExpectError([&] { layer.SetUp({}, {&data}); }, ErrorCode::kInvalidArgument,
                {"Layer 'data' (Data)", "source"});
  }
  {
    DataLayer layer(DataParam(dir.file("db"), 2, "transform_param { crop_size: 5 }"));
    ExpectError([&] { layer.SetUp({}, tops.vec()); }, ErrorCode::kInvalidArgument,
                {"Layer 'data' (Data)", "crop_size 5"});
  }
  {
    DataLayer layer(DataParam(dir.file("db"), 2, "transform_param { mean_value: 1 mean_value: 2 "
                                                 "mean_value: 3 }"));
    ExpectError([&] { layer.SetUp({}, tops.vec()); }, ErrorCode::kInvalidArgument,
                {"Layer 'data' (Data)", "3 mean_value"});
  }
  {
    LmdbWriter writer(dir.file("encoded"));
    caffe::Datum datum;
    datum.set_encoded(true);
    datum.set_data("\x89PNG");
    writer.Put(Key(0), datum.SerializeAsString());
  }
  {
    DataLayer layer(DataParam(dir.file("encoded"), 2));
    ExpectError([&] { layer.SetUp({}, tops.vec()); }, ErrorCode::kCorruption,
                {"Layer 'data' (Data)", "does not decode"});
  }
  { LmdbWriter writer(dir.file("empty")); }
  {
    DataLayer layer(DataParam(dir.file("empty"), 2));
    ExpectError([&] { layer.SetUp({}, tops.vec()); }, ErrorCode::kInvalidArgument,
                {"Layer 'data' (Data)", "holds no records"});
  }
  {
    DataLayer layer(DataParam(dir.file("db"), 2));
    Blob a, b, c;
    ExpectError([&] { layer.SetUp({}, {&a, &b, &c}); }, ErrorCode::kInvalidArgument,
                {"Layer 'data' (Data)"});
  }
}

TEST(DataLayerTest, DestroysCleanlyWithAFullPrefetchQueue) {
  TempDir dir;
  MakeDb(dir.file("db"), 7);
  for (int forwards : {0, 1, 3}) {
    caffe::LayerParameter param = DataParam(dir.file("db"), 2);
    param.mutable_data_param()->set_prefetch(2);
    DataLayer layer(param);
    Tops tops;
    layer.SetUp({}, tops.vec());
    for (int i = 0; i < forwards; ++i) layer.Forward({}, tops.vec());
  }  // each destructor stops the thread, which may be waiting for a free batch
}

TEST(DataLayerTest, MirrorAndRandomCropStayWithinTheRecord) {
  TempDir dir;
  MakeDb(dir.file("db"), 1);
  SetRandomSeed(3);
  DataLayer layer(DataParam(dir.file("db"), 8,
                            "transform_param { crop_size: 2 mirror: true }", "TRAIN"));
  Tops tops;
  layer.SetUp({}, tops.vec());
  layer.Forward({}, tops.vec());
  // Every item is a (possibly mirrored) 2×2 window of record 0.
  for (int n = 0; n < 8; ++n) {
    const float* item = tops.data.cpu_data() + n * kC * 4;
    bool found = false;
    for (int h = 0; h + 2 <= kH && !found; ++h) {
      for (int w = 0; w + 2 <= kW && !found; ++w) {
        for (bool mirror : {false, true}) {
          bool same = true;
          for (int c = 0; c < kC; ++c) {
            for (int y = 0; y < 2; ++y) {
              for (int x = 0; x < 2; ++x) {
                const int sx = mirror ? 1 - x : x;
                same &= item[(c * 2 + y) * 2 + x] ==
                        static_cast<float>(PixelOf(0, (c * kH + h + y) * kW + w + sx));
              }
            }
          }
          found |= same;
        }
      }
    }
    EXPECT_TRUE(found) << "item " << n;
  }
}

TEST(DataLayerTest, NamesItsSamplesByKeyOnlyWhenAsked) {
  TempDir dir;
  MakeDb(dir.file("db"), 7);
  DataLayer layer(DataParam(dir.file("db"), 3, "", "TEST"));
  Tops tops;
  layer.SetUp({}, tops.vec());
  EXPECT_EQ(layer.samples_per_pass(), 7);
  layer.Forward({}, tops.vec());
  EXPECT_TRUE(layer.batch_ids().empty());  // not asked for: no names
  layer.set_keep_batch_ids(true);
  EXPECT_EQ(ForwardLabels(&layer, &tops), (std::vector<int>{3, 4, 5}));
  EXPECT_EQ(layer.batch_ids(), (std::vector<std::string>{Key(3), Key(4), Key(5)}));
  // Wrapping around the dataset names the records read again.
  EXPECT_EQ(ForwardLabels(&layer, &tops), (std::vector<int>{6, 0, 1}));
  EXPECT_EQ(layer.batch_ids(), (std::vector<std::string>{Key(6), Key(0), Key(1)}));
}

TEST(DataLayerTest, SamplesPerPassCoverTheTestSetOnceAndIdleRanksOwnNone) {
  TempDir dir;
  MakeDb(dir.file("db"), 7);
  // 7 records in batches of 3 are 3 batches; of 4 ranks, rank 0 gets none.
  std::vector<int64_t> owned;
  for (int rank = 0; rank < 4; ++rank) {
    SetRankInfo({rank, 4});
    DataLayer layer(DataParam(dir.file("db"), 3, "", "TEST"));
    Tops tops;
    layer.SetUp({}, tops.vec());
    SetRankInfo({0, 1});
    owned.push_back(layer.samples_per_pass());
  }
  EXPECT_EQ(owned, (std::vector<int64_t>{0, 3, 3, 1}));
  // TRAIN shares are equal; the remainder is owned by nobody.
  SetRankInfo({1, 2});
  DataLayer train(DataParam(dir.file("db"), 3));
  Tops tops;
  train.SetUp({}, tops.vec());
  SetRankInfo({0, 1});
  EXPECT_EQ(train.samples_per_pass(), 3);
}

}  // namespace
}  // namespace crema
