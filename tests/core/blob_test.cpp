#include "crema/core/blob.h"

#include <gtest/gtest.h>

#include "crema/core/error.h"
#include "crema/proto/caffe.pb.h"

namespace crema {
namespace {

TEST(BlobTest, ReshapeKeepsAllocationWhenShrinking) {
  Blob blob({2, 3, 4, 5});
  EXPECT_EQ(blob.count(), 120);
  EXPECT_EQ(blob.shape_string(), "2 3 4 5 (120)");
  const float* before = blob.cpu_data();
  blob.Reshape({2, 3});
  EXPECT_EQ(blob.count(), 6);
  EXPECT_EQ(blob.cpu_data(), before);
  blob.Reshape({200});
  EXPECT_EQ(blob.count(), 200);
}

TEST(BlobTest, NegativeAxesCountFromTheEnd) {
  Blob blob({2, 3, 4});
  EXPECT_EQ(blob.shape(-1), 4);
  EXPECT_EQ(blob.shape(0), 2);
  EXPECT_EQ(blob.count(1), 12);
  EXPECT_THROW(blob.shape(3), Error);
  EXPECT_THROW(blob.shape(-4), Error);
}

TEST(BlobTest, RejectsNegativeDimensions) {
  Blob blob;
  EXPECT_THROW(blob.Reshape({2, -1}), Error);
}

TEST(BlobTest, ShapeStringOfAShapeBeyondInt64SaysSo) {
  // Legacy dims of a hostile .caffemodel: their product overflows 64 bits (issue 7).
  EXPECT_EQ(Blob::ShapeString({100000, 100000, 100000, 100000}),
            "100000 100000 100000 100000 (more than 2^63)");
  EXPECT_EQ(Blob::ShapeString({2, 3}), "2 3 (6)");
}

TEST(BlobTest, ProtoRoundTripWritesShapeAndPackedData) {
  Blob blob({2, 3});
  for (int i = 0; i < 6; ++i) blob.mutable_cpu_data()[i] = static_cast<float>(i) * 0.5f;
  caffe::BlobProto proto;
  blob.ToProto(&proto);
  EXPECT_EQ(proto.shape().dim_size(), 2);
  EXPECT_FALSE(proto.has_num());
  EXPECT_EQ(proto.data_size(), 6);
  EXPECT_EQ(proto.diff_size(), 0);
  Blob copy;
  copy.FromProto(proto);
  EXPECT_EQ(copy.shape(), blob.shape());
  for (int i = 0; i < 6; ++i) EXPECT_EQ(copy.cpu_data()[i], blob.cpu_data()[i]);
}

TEST(BlobTest, LegacyDimsMatchTrailingAxes) {
  caffe::BlobProto proto;
  proto.set_num(1);
  proto.set_channels(1);
  proto.set_height(10);
  proto.set_width(20);
  for (int i = 0; i < 200; ++i) proto.add_data(1.f);
  Blob weight({10, 20});
  EXPECT_TRUE(weight.ShapeEquals(proto));
  weight.FromProto(proto, /*reshape=*/false);
  EXPECT_EQ(weight.cpu_data()[199], 1.f);
  Blob other({20, 10});
  EXPECT_FALSE(other.ShapeEquals(proto));
  EXPECT_THROW(other.FromProto(proto, false), Error);
}

TEST(BlobTest, DoubleDataIsRead) {
  caffe::BlobProto proto;
  proto.mutable_shape()->add_dim(2);
  proto.add_double_data(1.5);
  proto.add_double_data(-2.5);
  Blob blob;
  blob.FromProto(proto);
  EXPECT_EQ(blob.cpu_data()[0], 1.5f);
  EXPECT_EQ(blob.cpu_data()[1], -2.5f);
}

TEST(BlobTest, WrongValueCountIsCorruption) {
  caffe::BlobProto proto;
  proto.mutable_shape()->add_dim(3);
  proto.add_data(1.f);
  Blob blob;
  try {
    blob.FromProto(proto);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorruption);
    EXPECT_NE(std::string(e.what()).find("1 values instead of 3"), std::string::npos) << e.what();
  }
}

TEST(BlobTest, ShareDataAndUpdate) {
  Blob a({4}), b({4});
  b.ShareData(a);
  a.mutable_cpu_data()[2] = 3.f;
  EXPECT_EQ(b.cpu_data()[2], 3.f);
  b.mutable_cpu_diff()[2] = 1.f;
  b.Update();
  EXPECT_EQ(a.cpu_data()[2], 2.f);
  EXPECT_TRUE(a.SharesDataWith(b));
}

}  // namespace
}  // namespace crema
