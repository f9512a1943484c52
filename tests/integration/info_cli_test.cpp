// `crema info`: per-layer shapes, parameter counts and FLOPs, totals, and nets whose datasets
// are missing.
#include <gtest/gtest.h>

#include <string>

#include "test_helpers.h"

namespace crema {
namespace {

using testing::Crema;
using testing::TempDir;
using testing::WriteFile;

TEST(InfoCliTest, LeNetCountsItsParametersAndFlops) {
  const auto r = Crema("info -model " + testing::SourceDir() + "/examples/mnist/lenet.prototxt");
  ASSERT_EQ(r.status, 0) << r.output;
  // conv1 20·(1·5·5)+20, conv2 50·(20·5·5)+50, ip1 500·800+500, ip2 10·500+10.
  EXPECT_CONTAINS(r.output, "Learnable parameters: 431,080");
  EXPECT_CONTAINS(r.output, "conv1");
  EXPECT_CONTAINS(r.output, "64x20x24x24");
  EXPECT_CONTAINS(r.output, "25,050");
  // Per item: conv1 2·20·24·24·25 + 20·24·24 = 587,520 FLOPs, etc.; the total is printed.
  EXPECT_CONTAINS(r.output, "Forward FLOPs: ");
  EXPECT_CONTAINS(r.output, "per batch of 64");
}

TEST(InfoCliTest, SharedParametersCountOnce) {
  TempDir dir;
  WriteFile(dir.file("net.prototxt"),
            "layer { name: \"d\" type: \"Input\" top: \"a\" top: \"b\"\n"
            "  input_param { shape { dim: 2 dim: 3 } shape { dim: 2 dim: 3 } } }\n"
            "layer { name: \"f1\" type: \"InnerProduct\" bottom: \"a\" top: \"x\"\n"
            "  param { name: \"w\" } param { name: \"bias\" }\n"
            "  inner_product_param { num_output: 4 } }\n"
            "layer { name: \"f2\" type: \"InnerProduct\" bottom: \"b\" top: \"y\"\n"
            "  param { name: \"w\" } param { name: \"bias\" }\n"
            "  inner_product_param { num_output: 4 } }\n");
  const auto r = Crema("info -model " + dir.file("net.prototxt"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_CONTAINS(r.output, "Learnable parameters: 16 ");  // 4·3 + 4, once
  // Each layer: 2·2·3·4 multiply-add FLOPs + 8 bias additions = 56; two layers.
  EXPECT_CONTAINS(r.output, "Forward FLOPs: 112 FLOP per batch of 2");
}

TEST(InfoCliTest, MissingDatasetBecomesAnInputOfTheDeclaredShape) {
  TempDir dir;
  WriteFile(dir.file("net.prototxt"),
            "layer { name: \"data\" type: \"Data\" top: \"data\" top: \"label\"\n"
            "  transform_param { crop_size: 11 mean_value: 104 mean_value: 117 mean_value: 123 }\n"
            "  data_param { source: \"" + dir.file("no_such_lmdb") + "\" batch_size: 5 } }\n"
            "layer { name: \"conv\" type: \"Convolution\" bottom: \"data\" top: \"conv\"\n"
            "  convolution_param { num_output: 2 kernel_size: 3 } }\n"
            "layer { name: \"ip\" type: \"InnerProduct\" bottom: \"conv\" top: \"ip\"\n"
            "  inner_product_param { num_output: 3 } }\n"
            "layer { name: \"loss\" type: \"SoftmaxWithLoss\" bottom: \"ip\" bottom: \"label\" "
            "top: \"loss\" }\n");
  const auto r = Crema("info -model " + dir.file("net.prototxt"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_CONTAINS(r.output, "not found; using zero-filled input 5 3 11 11");
  EXPECT_CONTAINS(r.output, "5x3x11x11 5");
  EXPECT_CONTAINS(r.output, "5x2x9x9");
  // conv 2·3·9 + 2, ip 3·162 + 3
  EXPECT_CONTAINS(r.output, "Learnable parameters: 545 ");
  const auto timed = Crema("time -iterations 1 -model " + dir.file("net.prototxt"));
  EXPECT_EQ(timed.status, 0) << timed.output;
  EXPECT_CONTAINS(timed.output, "Average Forward-Backward");
}

TEST(InfoCliTest, MissingDatasetWithoutADeclaredShapeNamesTheLayer) {
  TempDir dir;
  WriteFile(dir.file("net.prototxt"),
            "layer { name: \"mnist\" type: \"Data\" top: \"data\" top: \"label\"\n"
            "  data_param { source: \"" + dir.file("gone") + "\" batch_size: 5 } }\n");
  const auto r = Crema("info -model " + dir.file("net.prototxt"));
  EXPECT_EQ(r.status, 1);
  EXPECT_CONTAINS(r.output, "layer 'mnist' (Data): source '" + dir.file("gone") +
                                "' not found, and its parameters do not give the input shape");
}

TEST(InfoCliTest, RefusesMissingModelAndStrayArguments) {
  auto r = Crema("info");
  EXPECT_EQ(r.status, 1);
  EXPECT_CONTAINS(r.output, "info needs -model NET.prototxt");
  r = Crema("info extra -model x");
  EXPECT_EQ(r.status, 1);
  EXPECT_CONTAINS(r.output, "unexpected argument 'extra'");
}

}  // namespace
}  // namespace crema

namespace crema {
namespace {

// A 2014-style model-zoo file: V1 `layers` with enum types and top-level input_dim.
TEST(InfoCliTest, LegacyV1CaffeNetLoadsAndCountsItsParameters) {
  const std::string net =
      testing::SourceDir() + "/tests/testdata/legacy/caffenet_v1_deploy.prototxt";
  const auto r = testing::Crema("info -model " + net);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_CONTAINS(r.output, "Learnable parameters: 60,965,224 ");
  EXPECT_CONTAINS(r.output, "10x96x55x55");
  EXPECT_CONTAINS(r.output, "10x256x6x6");
  EXPECT_CONTAINS(r.output, "upgraded V1 layers to the current format");
}

}  // namespace
}  // namespace crema

namespace crema {
namespace {

TEST(InfoCliTest, AnEmptyNetOrADirectoryIsRefused) {
  testing::TempDir dir;
  testing::WriteFile(dir.file("empty.prototxt"), "# nothing here\n");
  auto r = testing::Crema("info -model " + dir.file("empty.prototxt"));
  EXPECT_EQ(r.status, 1);
  EXPECT_CONTAINS(r.output, dir.file("empty.prototxt") + ": the net has no layers");
  r = testing::Crema("info -model " + dir.path());
  EXPECT_EQ(r.status, 1);
  EXPECT_CONTAINS(r.output, "'" + dir.path() + "' is a directory, not a file");
}

}  // namespace
}  // namespace crema
