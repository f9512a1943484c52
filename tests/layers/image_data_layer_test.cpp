#include "crema/layers/image_data_layer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "crema/core/error.h"
#include "crema/core/rank.h"
#include "crema/core/rng.h"
#include "crema/data/image_codec.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::ExpectError;
using testing::LayerFromText;
using testing::TempDir;
using testing::WriteFile;

uint8_t PixelOf(int image, int index) { return static_cast<uint8_t>((image * 29 + index * 7) & 0xff); }

// A 3-channel h×w image whose pixels identify it.
Image MakeImage(int id, int h = 4, int w = 5) {
  Image image;
  image.channels = 3;
  image.height = h;
  image.width = w;
  for (int p = 0; p < 3 * h * w; ++p) image.pixels.push_back(PixelOf(id, p));
  return image;
}

// Writes img<i>.png for i < n (label i) under dir/images and a list "images/img<i>.png i".
std::string MakeImages(const TempDir& dir, int n) {
  std::filesystem::create_directories(dir.file("images"));
  std::string list;
  for (int i = 0; i < n; ++i) {
    WriteFile(dir.file("images/img" + std::to_string(i) + ".png"), EncodeImage(MakeImage(i), "png"));
    list += "images/img" + std::to_string(i) + ".png " + std::to_string(i) + "\n";
  }
  WriteFile(dir.file("list.txt"), list);
  return dir.file("list.txt");
}

caffe::LayerParameter Param(const TempDir& dir, int batch, const std::string& extra = "",
                            const std::string& phase = "TRAIN") {
  return LayerFromText("name: 'images' type: 'ImageData' top: 'data' top: 'label' phase: " + phase +
                       " image_data_param { source: '" + dir.file("list.txt") + "' root_folder: '" +
                       dir.path() + "/' batch_size: " + std::to_string(batch) + " " + extra + " }");
}

struct Served {
  std::vector<int> labels;
  std::vector<std::vector<float>> data;
};

Served Forward(const caffe::LayerParameter& param, int batches, unsigned seed = 3, int64_t skip = 0) {
  SetRandomSeed(seed);
  ImageDataLayer layer(param);
  Blob data, label;
  layer.SetUp({}, {&data, &label});
  if (skip > 0) layer.SkipBatches(skip);
  Served run;
  for (int b = 0; b < batches; ++b) {
    layer.Forward({}, {&data, &label});
    for (int i = 0; i < label.count(); ++i) run.labels.push_back(static_cast<int>(label.cpu_data()[i]));
    run.data.emplace_back(data.cpu_data(), data.cpu_data() + data.count());
  }
  return run;
}

TEST(ImageDataLayerTest, ReadsTheListInOrderWithExactPixels) {
  TempDir dir;
  MakeImages(dir, 5);
  const Served run = Forward(Param(dir, 2), 3);
  EXPECT_EQ(run.labels, (std::vector<int>{0, 1, 2, 3, 4, 0}));
  // Image 1 is the second item of the first batch; PNG is lossless.
  for (int p = 0; p < 60; ++p) EXPECT_EQ(run.data[0][60 + static_cast<size_t>(p)], PixelOf(1, p)) << p;
}

TEST(ImageDataLayerTest, GrayResizeAndTransform) {
  TempDir dir;
  MakeImages(dir, 3);
  ImageDataLayer layer(Param(dir, 3, "is_color: false new_height: 8 new_width: 6"));
  Blob data, label;
  layer.SetUp({}, {&data, &label});
  EXPECT_EQ(data.shape(), (std::vector<int>{3, 1, 8, 6}));
  caffe::LayerParameter cropped = Param(dir, 2);
  cropped.mutable_transform_param()->set_crop_size(3);
  cropped.mutable_transform_param()->set_scale(0.5f);
  ImageDataLayer crop_layer(cropped);
  crop_layer.SetUp({}, {&data, &label});
  EXPECT_EQ(data.shape(), (std::vector<int>{2, 3, 3, 3}));
}

TEST(ImageDataLayerTest, ShuffleIsAPermutationPerEpochAndReproducible) {
  TempDir dir;
  MakeImages(dir, 12);
  const Served a = Forward(Param(dir, 4, "shuffle: true"), 9, 7);  // three epochs
  const Served b = Forward(Param(dir, 4, "shuffle: true"), 9, 7);
  EXPECT_EQ(a.labels, b.labels);
  std::vector<std::vector<int>> epochs;
  for (int e = 0; e < 3; ++e) {
    std::vector<int> epoch(a.labels.begin() + 12 * e, a.labels.begin() + 12 * (e + 1));
    EXPECT_EQ(std::set<int>(epoch.begin(), epoch.end()).size(), 12u) << "epoch " << e;
    epochs.push_back(epoch);
  }
  EXPECT_NE(epochs[0], epochs[1]);
  std::vector<int> in_order(12);
  for (int i = 0; i < 12; ++i) in_order[static_cast<size_t>(i)] = i;
  EXPECT_NE(epochs[0], in_order);
  EXPECT_NE(Forward(Param(dir, 4, "shuffle: true"), 3, 8).labels, std::vector<int>(a.labels.begin(), a.labels.begin() + 12));
}

TEST(ImageDataLayerTest, ThreadsAndResumeGiveTheSameBatches) {
  TempDir dir;
  MakeImages(dir, 10);
  const std::string random = "shuffle: true } transform_param { crop_size: 3 mirror: true";
  const Served one = Forward(Param(dir, 3, random), 8);
  caffe::LayerParameter threaded = Param(dir, 3, random);
  threaded.mutable_crema_data_param()->set_threads(3);
  const Served three = Forward(threaded, 8);
  EXPECT_EQ(one.labels, three.labels);
  EXPECT_EQ(one.data, three.data);
  const Served resumed = Forward(Param(dir, 3, random), 3, 3, /*skip=*/5);
  for (int b = 0; b < 3; ++b) EXPECT_EQ(resumed.data[static_cast<size_t>(b)], one.data[static_cast<size_t>(5 + b)]) << b;
}

TEST(ImageDataLayerTest, BadImagesAreSkippedNotFatal) {
  TempDir dir;
  MakeImages(dir, 4);
  WriteFile(dir.file("images/junk.png"), "not a png");
  WriteFile(dir.file("images/big.png"), EncodeImage(MakeImage(9, 6, 6), "png"));
  WriteFile(dir.file("list.txt"),
            "images/img0.png 0\nimages/missing.png 7\nimages/junk.png 8\nimages/img1.png 1\n"
            "images/big.png 9\nimages/img2.png 2\n");
  const Served run = Forward(Param(dir, 3), 4);
  // Each bad image's slot repeats the usable image before it.
  EXPECT_EQ(run.labels, (std::vector<int>{0, 0, 0, 1, 1, 2, 0, 0, 0, 1, 1, 2}));
  // A batch with no usable image at all is an error.
  WriteFile(dir.file("list.txt"),
            "images/img0.png 0\nimages/missing.png 7\nimages/junk.png 8\nimages/gone.png 6\n");
  ImageDataLayer layer(Param(dir, 2));
  Blob data, label;
  layer.SetUp({}, {&data, &label});
  layer.Forward({}, {&data, &label});  // img0, missing
  ExpectError([&] { layer.Forward({}, {&data, &label}); }, ErrorCode::kInvalidArgument,
              {"Layer 'images' (ImageData)", "none of the 2 images"});
}

TEST(ImageDataLayerTest, SetUpErrorsNameTheLayerAndFile) {
  TempDir dir;
  MakeImages(dir, 2);
  Blob data, label;
  {
    ImageDataLayer layer(Param(dir, 2, "new_height: 5"));
    ExpectError([&] { layer.SetUp({}, {&data, &label}); }, ErrorCode::kInvalidArgument,
                {"Layer 'images' (ImageData)", "new_height", "new_width"});
  }
  WriteFile(dir.file("list.txt"), "images/img0.png 0\nimages/img1.png\n");
  {
    ImageDataLayer layer(Param(dir, 2));
    ExpectError([&] { layer.SetUp({}, {&data, &label}); }, ErrorCode::kInvalidArgument,
                {"Layer 'images' (ImageData)", dir.file("list.txt") + ":2"});
  }
  WriteFile(dir.file("list.txt"), "images/none.png 0\n");
  {
    ImageDataLayer layer(Param(dir, 2));
    ExpectError([&] { layer.SetUp({}, {&data, &label}); }, ErrorCode::kInvalidArgument,
                {"none of the 1 images", "the first, '" + dir.file("images/none.png") +
                                             "', cannot be read"});
  }
  std::filesystem::remove(dir.file("list.txt"));
  {
    ImageDataLayer layer(Param(dir, 2));
    ExpectError([&] { layer.SetUp({}, {&data, &label}); }, ErrorCode::kIOError,
                {"Layer 'images' (ImageData)", dir.file("list.txt")});
  }
}

TEST(ImageDataLayerTest, ShardsSplitTheList) {
  TempDir dir;
  MakeImages(dir, 11);
  for (int world = 1; world <= 5; ++world) {
    std::set<int> train, test;
    for (int rank = 0; rank < world; ++rank) {
      SetRankInfo({rank, world});
      ImageDataLayer layer(Param(dir, 1));
      ImageDataLayer test_layer(Param(dir, 1, "", "TEST"));
      Blob data, label;
      layer.SetUp({}, {&data, &label});
      EXPECT_EQ(layer.shard_size(), 11 / world);
      for (int i = 0; i < layer.shard_size(); ++i) {
        layer.Forward({}, {&data, &label});
        EXPECT_TRUE(train.insert(static_cast<int>(label.cpu_data()[0])).second);
      }
      test_layer.SetUp({}, {&data, &label});
      for (int i = 0; i < test_layer.shard_size(); ++i) {
        test_layer.Forward({}, {&data, &label});
        EXPECT_TRUE(test.insert(static_cast<int>(label.cpu_data()[0])).second);
      }
      SetRankInfo({0, 1});
    }
    EXPECT_EQ(train.size(), static_cast<size_t>(11 / world * world));
    EXPECT_EQ(test.size(), 11u);
  }
}

TEST(ImageDataLayerTest, NamesSamplesByTheirListPathAndBadOnesByNothing) {
  TempDir dir;
  MakeImages(dir, 2);
  WriteFile(dir.file("list.txt"), "images/img0.png 0\nimages/missing.png 7\nimages/img1.png 1\n");
  ImageDataLayer layer(Param(dir, 2, "", "TEST"));
  Blob data, label;
  layer.SetUp({}, {&data, &label});
  EXPECT_EQ(layer.samples_per_pass(), 3);
  layer.set_keep_batch_ids(true);
  layer.Forward({}, {&data, &label});
  // The list's paths, without root_folder; the missing image's slot holds img0, so it has no
  // name of its own.
  EXPECT_EQ(layer.batch_ids(), (std::vector<std::string>{"images/img0.png", ""}));
  layer.Forward({}, {&data, &label});
  EXPECT_EQ(layer.batch_ids(), (std::vector<std::string>{"images/img1.png", "images/img0.png"}));
}

TEST(ImageDataLayerTest, TestRanksWithoutABatchOwnNoSamples) {
  TempDir dir;
  MakeImages(dir, 5);
  // 5 images in batches of 2 are 3 batches; of 4 ranks, rank 0 gets none.
  std::vector<int64_t> owned;
  for (int rank = 0; rank < 4; ++rank) {
    SetRankInfo({rank, 4});
    ImageDataLayer layer(Param(dir, 2, "", "TEST"));
    Blob data, label;
    layer.SetUp({}, {&data, &label});
    SetRankInfo({0, 1});
    owned.push_back(layer.samples_per_pass());
  }
  EXPECT_EQ(owned, (std::vector<int64_t>{0, 2, 2, 1}));
}

}  // namespace
}  // namespace crema
