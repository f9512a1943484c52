#include "crema/data/datum.h"

#include <gtest/gtest.h>

#include <string>

#include "crema/core/error.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::ExpectError;

caffe::Datum RawDatum(int c, int h, int w) {
  caffe::Datum datum;
  datum.set_channels(c);
  datum.set_height(h);
  datum.set_width(w);
  datum.set_data(std::string(static_cast<size_t>(c * h * w), '\x07'));
  datum.set_label(3);
  return datum;
}

// Runs `fn`, expecting an Error of `code` whose message holds every fragment.
TEST(DatumTest, ParseRoundTrip) {
  const caffe::Datum original = RawDatum(2, 3, 4);
  const std::string bytes = original.SerializeAsString();
  caffe::Datum parsed;
  ParseDatum(bytes, "k", &parsed);
  EXPECT_EQ(parsed.SerializeAsString(), bytes);
  EXPECT_EQ(DatumShape(parsed), (std::vector<int>{2, 3, 4}));
  ValidateDatum(parsed, "k");
  EXPECT_FALSE(DatumHasFloatData(parsed));
}

TEST(DatumTest, GarbageBytesAreCorruptionNamingTheKey) {
  caffe::Datum datum;
  ExpectError([&] { ParseDatum("\xff\xff\xff\xff\xff", "00000042", &datum); },
              ErrorCode::kCorruption, {"record '00000042'", "not a valid Datum"});
}

TEST(DatumTest, WrongRawSizeIsCorruption) {
  caffe::Datum datum = RawDatum(2, 3, 4);
  datum.mutable_data()->resize(23);
  ExpectError([&] { ValidateDatum(datum, "key7"); }, ErrorCode::kCorruption,
              {"record 'key7'", "23 bytes", "2x3x4", "needs 24"});
}

TEST(DatumTest, FloatDataMustMatchTheShape) {
  caffe::Datum datum = RawDatum(1, 2, 2);
  datum.clear_data();
  for (int i = 0; i < 4; ++i) datum.add_float_data(0.5f * i);
  ValidateDatum(datum, "f");
  EXPECT_TRUE(DatumHasFloatData(datum));
  datum.add_float_data(1.f);
  ExpectError([&] { ValidateDatum(datum, "f"); }, ErrorCode::kCorruption,
              {"record 'f'", "5 float_data", "needs 4"});
  datum.clear_float_data();
  ExpectError([&] { ValidateDatum(datum, "f"); }, ErrorCode::kCorruption, {"0 float_data"});
}

TEST(DatumTest, BadShapeIsCorruption) {
  caffe::Datum datum = RawDatum(1, 2, 2);
  datum.set_channels(0);
  ExpectError([&] { ValidateDatum(datum, "z"); }, ErrorCode::kCorruption,
              {"record 'z'", "channels 0"});
}

TEST(DatumTest, EncodedDatumsNeedBytes) {
  caffe::Datum datum;
  datum.set_encoded(true);
  ExpectError([&] { ValidateDatum(datum, "img"); }, ErrorCode::kCorruption,
              {"record 'img'", "no bytes"});
  datum.set_data("\x89PNG....");
  ValidateDatum(datum, "img");  // decoding is checked when the image is used
}

}  // namespace
}  // namespace crema
