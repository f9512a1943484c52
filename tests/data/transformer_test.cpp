#include "crema/data/transformer.h"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "crema/core/error.h"
#include "crema/io/proto_io.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::ExpectError;

using testing::TempDir;

caffe::Datum RandomRawDatum(int c, int h, int w, unsigned seed) {
  std::mt19937 gen(seed);
  caffe::Datum datum;
  datum.set_channels(c);
  datum.set_height(h);
  datum.set_width(w);
  std::string bytes(static_cast<size_t>(c * h * w), '\0');
  for (char& b : bytes) b = static_cast<char>(gen() & 0xff);
  datum.set_data(bytes);
  return datum;
}

float Pixel(const caffe::Datum& d, int c, int h, int w) {
  const int index = (c * d.height() + h) * d.width() + w;
  if (d.data().empty()) return d.float_data(index);
  return static_cast<float>(static_cast<uint8_t>(d.data()[static_cast<size_t>(index)]));
}

// The formula, written out: out[c][h][w] = (p[c][h_off + h][w_off + w'] − mean) · scale.
// `mean` is either a C×H×W image, C values, 1 value or empty.
std::vector<float> Reference(const caffe::Datum& d, int crop_h, int crop_w, int h_off,
                             int w_off, bool mirror, const std::vector<float>& mean,
                             float scale) {
  const int C = d.channels(), H = d.height(), W = d.width();
  std::vector<float> out;
  for (int c = 0; c < C; ++c) {
    for (int h = 0; h < crop_h; ++h) {
      for (int w = 0; w < crop_w; ++w) {
        const int sw = mirror ? crop_w - 1 - w : w;
        const int sh = h;
        float m = 0;
        if (mean.size() == static_cast<size_t>(C * H * W)) {
          m = mean[static_cast<size_t>((c * H + h_off + sh) * W + w_off + sw)];
        } else if (mean.size() == static_cast<size_t>(C)) {
          m = mean[static_cast<size_t>(c)];
        } else if (mean.size() == 1) {
          m = mean[0];
        }
        out.push_back((Pixel(d, c, h_off + sh, w_off + sw) - m) * scale);
      }
    }
  }
  return out;
}

DatumPixels Pixels(const caffe::Datum& d) {
  static thread_local Image scratch;
  return DatumImage(d, "k", ColorMode::kUnchanged, &scratch);
}

std::vector<float> Apply(const DataTransformer* t, const caffe::Datum& d, uint64_t key = 0) {
  const std::vector<int> shape = t->InferBlobShape(DatumShape(d));
  std::vector<float> out(static_cast<size_t>(shape[1] * shape[2] * shape[3]), -999.f);
  t->Transform(Pixels(d), key, out.data());
  return out;
}

caffe::TransformationParameter Param(const std::string& text) {
  caffe::TransformationParameter p;
  ParseTextProto(text, "test", &p);
  return p;
}

TEST(DataTransformerTest, IdentityByDefault) {
  const caffe::Datum d = RandomRawDatum(3, 5, 6, 1);
  DataTransformer t(caffe::TransformationParameter(), caffe::TRAIN);
  EXPECT_EQ(t.InferBlobShape(DatumShape(d)), (std::vector<int>{1, 3, 5, 6}));
  EXPECT_EQ(Apply(&t, d), Reference(d, 5, 6, 0, 0, false, {}, 1.f));
}

TEST(DataTransformerTest, ScaleAndPerChannelMeanValues) {
  const caffe::Datum d = RandomRawDatum(3, 4, 5, 2);
  for (caffe::Phase phase : {caffe::TRAIN, caffe::TEST}) {
    DataTransformer t(Param("scale: 0.00390625 mean_value: 104 mean_value: 117 "
                            "mean_value: 123"),
                      phase);
    const std::vector<float> out = Apply(&t, d);
    const std::vector<float> ref = Reference(d, 4, 5, 0, 0, false, {104, 117, 123}, 0.00390625f);
    ASSERT_EQ(out.size(), ref.size());
    for (size_t i = 0; i < out.size(); ++i) EXPECT_FLOAT_EQ(out[i], ref[i]) << i;
  }
}

TEST(DataTransformerTest, OneMeanValueAppliesToEveryChannel) {
  const caffe::Datum d = RandomRawDatum(3, 4, 4, 3);
  DataTransformer t(Param("mean_value: 127.5 scale: 2"), caffe::TEST);
  const std::vector<float> out = Apply(&t, d);
  const std::vector<float> ref = Reference(d, 4, 4, 0, 0, false, {127.5f}, 2.f);
  for (size_t i = 0; i < out.size(); ++i) EXPECT_FLOAT_EQ(out[i], ref[i]) << i;
}

TEST(DataTransformerTest, FloatDataDatums) {
  caffe::Datum d;
  d.set_channels(2);
  d.set_height(3);
  d.set_width(3);
  for (int i = 0; i < 18; ++i) d.add_float_data(0.25f * static_cast<float>(i) - 1.f);
  DataTransformer t(Param("mean_value: 0.5 mean_value: -1 scale: 3 crop_size: 2"), caffe::TEST);
  EXPECT_EQ(t.InferBlobShape(DatumShape(d)), (std::vector<int>{1, 2, 2, 2}));
  const std::vector<float> out = Apply(&t, d);
  const std::vector<float> ref = Reference(d, 2, 2, 0, 0, false, {0.5f, -1.f}, 3.f);
  for (size_t i = 0; i < out.size(); ++i) EXPECT_FLOAT_EQ(out[i], ref[i]) << i;
}

// Writes a mean.binaryproto the way compute_image_mean does: legacy dims, no `shape`.
std::vector<float> WriteMeanFile(const std::string& path, int c, int h, int w) {
  caffe::BlobProto proto;
  proto.set_num(1);
  proto.set_channels(c);
  proto.set_height(h);
  proto.set_width(w);
  std::vector<float> mean;
  std::mt19937 gen(5);
  std::uniform_real_distribution<float> dist(0, 255);
  for (int i = 0; i < c * h * w; ++i) {
    mean.push_back(dist(gen));
    proto.add_data(mean.back());
  }
  WriteBinaryProto(path, proto);
  return mean;
}

TEST(DataTransformerTest, MeanFileIsIndexedAtTheCroppedPosition) {
  TempDir dir;
  const std::string mean_path = dir.file("mean.binaryproto");
  const std::vector<float> mean = WriteMeanFile(mean_path, 3, 7, 9);
  const caffe::Datum d = RandomRawDatum(3, 7, 9, 4);
  {
    DataTransformer t(Param("mean_file: '" + mean_path + "' scale: 0.5"), caffe::TEST);
    const std::vector<float> out = Apply(&t, d);
    const std::vector<float> ref = Reference(d, 7, 9, 0, 0, false, mean, 0.5f);
    for (size_t i = 0; i < out.size(); ++i) EXPECT_FLOAT_EQ(out[i], ref[i]) << i;
  }
  {
    // Centred crop in TEST: offsets ((7-4)/2, (9-4)/2) = (1, 2).
    DataTransformer t(Param("mean_file: '" + mean_path + "' crop_size: 4"), caffe::TEST);
    EXPECT_EQ(t.InferBlobShape(DatumShape(d)), (std::vector<int>{1, 3, 4, 4}));
    const std::vector<float> out = Apply(&t, d);
    const std::vector<float> ref = Reference(d, 4, 4, 1, 2, false, mean, 1.f);
    for (size_t i = 0; i < out.size(); ++i) EXPECT_FLOAT_EQ(out[i], ref[i]) << i;
  }
}

TEST(DataTransformerTest, MeanFileShapeMustMatchTheData) {
  TempDir dir;
  const std::string mean_path = dir.file("mean.binaryproto");
  WriteMeanFile(mean_path, 3, 4, 4);
  const caffe::Datum d = RandomRawDatum(1, 28, 28, 1);
  DataTransformer t(Param("mean_file: '" + mean_path + "'"), caffe::TEST);
  ExpectError([&] { t.InferBlobShape(DatumShape(d)); }, ErrorCode::kInvalidArgument,
              {mean_path, "3 4 4 (48)", "1 28 28 (784)"});
  std::vector<float> out(784);
  ExpectError([&] { t.Transform(Pixels(d), 0, out.data()); }, ErrorCode::kInvalidArgument, {mean_path});
}

TEST(DataTransformerTest, MeanFileErrors) {
  TempDir dir;
  ExpectError([&] { DataTransformer(Param("mean_file: '" + dir.file("none") + "'"),
                                    caffe::TEST); },
              ErrorCode::kIOError, {dir.file("none")});
  testing::WriteFile(dir.file("junk"), "\xff\xff\xff\xff\xff\xff");
  ExpectError([&] { DataTransformer(Param("mean_file: '" + dir.file("junk") + "'"),
                                    caffe::TEST); },
              ErrorCode::kCorruption, {dir.file("junk")});
  WriteMeanFile(dir.file("mean"), 1, 2, 2);
  ExpectError([&] { DataTransformer(Param("mean_file: '" + dir.file("mean") +
                                          "' mean_value: 3"), caffe::TEST); },
              ErrorCode::kInvalidArgument, {"mean_file", "mean_value"});
}

TEST(DataTransformerTest, MeanValueCountMustBeOneOrChannels) {
  const caffe::Datum d = RandomRawDatum(3, 2, 2, 1);
  DataTransformer t(Param("mean_value: 1 mean_value: 2"), caffe::TEST);
  ExpectError([&] { t.InferBlobShape(DatumShape(d)); }, ErrorCode::kInvalidArgument,
              {"2 mean_value", "3 channels"});
}

TEST(DataTransformerTest, CropLargerThanTheImageIsAnError) {
  const caffe::Datum d = RandomRawDatum(1, 5, 8, 1);
  DataTransformer t(Param("crop_size: 6"), caffe::TRAIN);
  ExpectError([&] { t.InferBlobShape(DatumShape(d)); }, ErrorCode::kInvalidArgument,
              {"crop_size 6", "5x8"});
  std::vector<float> out(100);
  EXPECT_THROW(t.Transform(Pixels(d), 0, out.data()), Error);
}

TEST(DataTransformerTest, TrainCropIsRandomAndInRange) {
  const caffe::Datum d = RandomRawDatum(2, 6, 7, 9);
  const int crop = 3;
  DataTransformer t(Param("crop_size: 3"), caffe::TRAIN);
  std::set<std::pair<int, int>> seen;
  for (int trial = 0; trial < 200; ++trial) {
    const std::vector<float> out = Apply(&t, d, static_cast<uint64_t>(trial));
    // The output must be exactly one window of the image.
    int matches = 0;
    for (int h = 0; h + crop <= 6; ++h) {
      for (int w = 0; w + crop <= 7; ++w) {
        if (out == Reference(d, crop, crop, h, w, false, {}, 1.f)) {
          ++matches;
          seen.insert({h, w});
        }
      }
    }
    ASSERT_EQ(matches, 1) << "trial " << trial;
  }
  // 4 × 5 = 20 offsets; 200 draws should visit most of them, including both corners.
  EXPECT_GE(seen.size(), 15u);
  EXPECT_TRUE(seen.count({0, 0}));
  EXPECT_TRUE(seen.count({3, 4}));
}

TEST(DataTransformerTest, MirrorFlipsHalfTheTimeInEitherPhase) {
  const caffe::Datum d = RandomRawDatum(2, 4, 5, 11);
  for (caffe::Phase phase : {caffe::TRAIN, caffe::TEST}) {
    DataTransformer t(Param("mirror: true mean_value: 10 scale: 0.5"), phase);
    const std::vector<float> plain = Reference(d, 4, 5, 0, 0, false, {10.f}, 0.5f);
    const std::vector<float> flipped = Reference(d, 4, 5, 0, 0, true, {10.f}, 0.5f);
    ASSERT_NE(plain, flipped);
    int num_flipped = 0;
    const int trials = 400;
    for (int trial = 0; trial < trials; ++trial) {
      const std::vector<float> out = Apply(&t, d, static_cast<uint64_t>(trial));
      if (out == flipped) {
        ++num_flipped;
      } else {
        ASSERT_EQ(out, plain) << "trial " << trial;
      }
    }
    // Binomial(400, 1/2): mean 200, sd 10.
    EXPECT_GT(num_flipped, 140);
    EXPECT_LT(num_flipped, 260);
  }
}

TEST(DataTransformerTest, MirrorWithCropFlipsTheWindow) {
  const caffe::Datum d = RandomRawDatum(1, 5, 5, 12);
  DataTransformer t(Param("mirror: true crop_size: 3"), caffe::TEST);
  const std::vector<float> plain = Reference(d, 3, 3, 1, 1, false, {}, 1.f);
  const std::vector<float> flipped = Reference(d, 3, 3, 1, 1, true, {}, 1.f);
  bool saw_plain = false, saw_flipped = false;
  for (int trial = 0; trial < 64; ++trial) {
    const std::vector<float> out = Apply(&t, d, static_cast<uint64_t>(trial));
    saw_plain |= out == plain;
    saw_flipped |= out == flipped;
    ASSERT_TRUE(out == plain || out == flipped);
  }
  EXPECT_TRUE(saw_plain);
  EXPECT_TRUE(saw_flipped);
}

TEST(DataTransformerTest, RandomChoicesDependOnlyOnTheKey) {
  // Note [Keyed randomness]: the same key gives the same crop and flip in any transformer, in
  // any order; different keys give different ones.
  const caffe::Datum d = RandomRawDatum(1, 9, 9, 13);
  const auto param = Param("mirror: true crop_size: 4");
  const DataTransformer a(param, caffe::TRAIN), b(param, caffe::TRAIN);
  std::vector<std::vector<float>> forward;
  for (uint64_t key = 0; key < 20; ++key) forward.push_back(Apply(&a, d, RandomKey(42, key)));
  std::set<std::vector<float>> distinct;
  for (uint64_t key = 20; key-- > 0;) {
    EXPECT_EQ(Apply(&b, d, RandomKey(42, key)), forward[key]);
    distinct.insert(forward[key]);
  }
  EXPECT_GT(distinct.size(), 5u);
  EXPECT_NE(RandomKey(42, 1), RandomKey(43, 1));
}

TEST(DataTransformerTest, ForceColorAndForceGrayChooseTheDecodeMode) {
  EXPECT_EQ(DataTransformer(Param(""), caffe::TEST).color_mode(), ColorMode::kUnchanged);
  EXPECT_EQ(DataTransformer(Param("force_color: true"), caffe::TEST).color_mode(), ColorMode::kColor);
  EXPECT_EQ(DataTransformer(Param("force_gray: true"), caffe::TEST).color_mode(), ColorMode::kGray);
  ExpectError([] { DataTransformer(Param("force_color: true force_gray: true"), caffe::TEST); },
              ErrorCode::kInvalidArgument, {"force_color", "force_gray"});
}

TEST(DataTransformerTest, EncodedDatumsAreDecodedThenTransformed) {
  // A 2x3 colour PNG, as convert_imageset --encoded stores it.
  Image image;
  image.channels = 3;
  image.height = 2;
  image.width = 3;
  for (int i = 0; i < 18; ++i) image.pixels.push_back(static_cast<uint8_t>(10 * i));
  caffe::Datum d;
  d.set_encoded(true);
  d.set_data(EncodeImage(image, "png"));
  const DataTransformer t(Param("scale: 0.5"), caffe::TEST);
  Image scratch;
  const DatumPixels pixels = DatumImage(d, "img", t.color_mode(), &scratch);
  ASSERT_EQ(pixels.shape(), (std::vector<int>{3, 2, 3}));
  std::vector<float> out(18);
  t.Transform(pixels, 0, out.data());
  for (int i = 0; i < 18; ++i) EXPECT_FLOAT_EQ(out[static_cast<size_t>(i)], 5.f * i);
  // force_gray decodes to one channel.
  const DataTransformer gray(Param("force_gray: true"), caffe::TEST);
  EXPECT_EQ(DatumImage(d, "img", gray.color_mode(), &scratch).channels, 1);
  caffe::Datum junk;
  junk.set_encoded(true);
  junk.set_data("not an image");
  ExpectError([&] { DatumImage(junk, "img7", ColorMode::kUnchanged, &scratch); },
              ErrorCode::kCorruption, {"img7", "does not decode"});
}

}  // namespace
}  // namespace crema
