#include "crema/data/image_mean.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crema/core/error.h"
#include "crema/data/image_codec.h"
#include "crema/data/lmdb_dataset.h"
#include "dataset_helpers.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::ExpectError;
using testing::TempDir;

caffe::Datum RawDatum(int c, int h, int w, const std::vector<uint8_t>& pixels) {
  caffe::Datum d;
  d.set_channels(c);
  d.set_height(h);
  d.set_width(w);
  d.set_data(std::string(pixels.begin(), pixels.end()));
  return d;
}

void WriteDb(const std::string& path, const std::vector<caffe::Datum>& datums) {
  LmdbWriter writer(path);
  for (size_t i = 0; i < datums.size(); ++i) {
    writer.Put(StrCat("k", i), datums[i].SerializeAsString());
  }
}

TEST(ImageMeanTest, ExactMeanInLegacyBlobFields) {
  TempDir dir;
  // 2 channels of 1x2 pixels: the means are 10, 20, 101/3, 255.
  WriteDb(dir.file("db"), {RawDatum(2, 1, 2, {0, 20, 1, 255}),
                           RawDatum(2, 1, 2, {10, 20, 100, 255}),
                           RawDatum(2, 1, 2, {20, 20, 0, 255})});
  LmdbReader reader(dir.file("db"));
  const ImageMean mean = ComputeImageMean(&reader);
  EXPECT_EQ(mean.count, 3);
  const caffe::BlobProto& blob = mean.blob;
  EXPECT_EQ(blob.num(), 1);
  EXPECT_EQ(blob.channels(), 2);
  EXPECT_EQ(blob.height(), 1);
  EXPECT_EQ(blob.width(), 2);
  EXPECT_FALSE(blob.has_shape());
  EXPECT_EQ(blob.diff_size(), 0);
  EXPECT_EQ(blob.double_data_size(), 0);
  ASSERT_EQ(blob.data_size(), 4);
  EXPECT_EQ(blob.data(0), 10.f);
  EXPECT_EQ(blob.data(1), 20.f);
  EXPECT_EQ(blob.data(2), static_cast<float>(101.0 / 3.0));
  EXPECT_EQ(blob.data(3), 255.f);
  ASSERT_EQ(mean.channel_means.size(), 2u);
  EXPECT_DOUBLE_EQ(mean.channel_means[0], 15.0);
  EXPECT_DOUBLE_EQ(mean.channel_means[1],
                   (static_cast<double>(static_cast<float>(101.0 / 3.0)) + 255.0) / 2);
  EXPECT_EQ(reader.position(), 0);  // left at the first record
}

TEST(ImageMeanTest, FloatAndEncodedRecords) {
  TempDir dir;
  caffe::Datum f;
  f.set_channels(1);
  f.set_height(1);
  f.set_width(3);
  for (float v : {0.5f, -1.f, 3.f}) f.add_float_data(v);
  // A grey PNG decodes to one channel (its own channel count).
  Image image;
  image.channels = 1;
  image.height = 1;
  image.width = 3;
  image.pixels = {2, 4, 6};
  caffe::Datum e;
  e.set_encoded(true);
  e.set_data(EncodeImage(image, "png"));
  WriteDb(dir.file("db"), {f, e});
  LmdbReader reader(dir.file("db"));
  const ImageMean mean = ComputeImageMean(&reader);
  ASSERT_EQ(mean.blob.data_size(), 3);
  EXPECT_EQ(mean.blob.channels(), 1);
  EXPECT_EQ(mean.blob.data(0), 1.25f);
  EXPECT_EQ(mean.blob.data(1), 1.5f);
  EXPECT_EQ(mean.blob.data(2), 4.5f);
}

TEST(ImageMeanTest, SizeMismatchNamesTheRecord) {
  TempDir dir;
  WriteDb(dir.file("db"), {RawDatum(1, 2, 2, {1, 2, 3, 4}), RawDatum(1, 2, 2, {1, 2, 3, 4}),
                           RawDatum(1, 1, 4, {1, 2, 3, 4})});
  LmdbReader reader(dir.file("db"));
  ExpectError([&] { ComputeImageMean(&reader); }, ErrorCode::kInvalidArgument,
              {"record 'k2'", dir.file("db"), "is 1x1x4", "first record ('k0') is 1x2x2"});
}

TEST(ImageMeanTest, EmptyAndCorruptDatabases) {
  TempDir dir;
  { LmdbWriter writer(dir.file("empty")); }
  LmdbReader empty(dir.file("empty"));
  ExpectError([&] { ComputeImageMean(&empty); }, ErrorCode::kInvalidArgument,
              {dir.file("empty"), "holds no records"});

  {
    LmdbWriter writer(dir.file("junk"));
    writer.Put("a", RawDatum(1, 1, 1, {7}).SerializeAsString());
    writer.Put("b", "\xff\xff\xff not a datum");
  }
  LmdbReader junk(dir.file("junk"));
  ExpectError([&] { ComputeImageMean(&junk); }, ErrorCode::kCorruption,
              {dir.file("junk"), "record 'b'"});
}

}  // namespace
}  // namespace crema
