// A LeNet trained by BVLC Caffe (tests/testdata/lenet_iter_10000.caffemodel) must score in Crema
// what it scored in Caffe: 0.9914 on the 10,000 MNIST test images, and its activations on the
// first four test images must match the float64 oracle in tests/testdata/activations.json.
//
// Needs MNIST: CREMA_MNIST_DIR names the folder scripts/fetch-mnist fills (scripts/test sets it).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "crema/io/proto_io.h"
#include "crema/net/net.h"
#include "test_helpers.h"

namespace crema {
namespace {

std::string MnistDir() {
  const char* dir = std::getenv("CREMA_MNIST_DIR");
  return dir == nullptr ? "" : dir;
}

#define REQUIRE_MNIST()                                                                    \
  if (MnistDir().empty()) GTEST_SKIP() << "CREMA_MNIST_DIR is not set (scripts/test sets it)"; \
  ASSERT_TRUE(std::filesystem::exists(MnistDir() + "/mnist_test_lmdb/data.mdb"))             \
      << "CREMA_MNIST_DIR=" << MnistDir() << " holds no mnist_test_lmdb"

std::string Model() { return testing::SourceDir() + "/tests/testdata/lenet_iter_10000.caffemodel"; }

TEST(LenetReferenceTest, CaffeTrainedModelScores09914OnTheTestSet) {
  REQUIRE_MNIST();
  caffe::NetParameter param =
      ReadNetParamsFromTextFile(testing::SourceDir() + "/examples/mnist/lenet_train_test.prototxt");
  for (auto& layer : *param.mutable_layer()) {
    if (layer.type() == "Data") {
      layer.mutable_data_param()->set_source(MnistDir() + "/mnist_test_lmdb");
    }
  }
  param.mutable_state()->set_phase(caffe::TEST);
  Net net(param);
  net.CopyTrainedLayersFromFile(Model());
  double accuracy = 0;
  for (int i = 0; i < 100; ++i) {  // 100 batches of 100 = the whole test set, once
    net.Forward();
    accuracy += net.blob_by_name("accuracy")->cpu_data()[0];
  }
  accuracy /= 100;
  EXPECT_NEAR(accuracy, 0.9914, 0.0002);
}

// The first `n` images of the MNIST test set, scaled by 1/256, as Caffe's LeNet reads them.
std::vector<float> FirstTestImages(int n) {
  std::ifstream in(MnistDir() + "/raw/t10k-images-idx3-ubyte", std::ios::binary);
  EXPECT_TRUE(in.good());
  in.seekg(16);
  std::vector<unsigned char> bytes(static_cast<size_t>(n) * 28 * 28);
  in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  std::vector<float> pixels(bytes.size());
  for (size_t i = 0; i < bytes.size(); ++i) pixels[i] = bytes[i] * 0.00390625f;
  return pixels;
}

TEST(LenetReferenceTest, ActivationsMatchTheOracle) {
  REQUIRE_MNIST();
  std::ifstream json_file(testing::SourceDir() + "/tests/testdata/activations.json");
  const nlohmann::json oracle = nlohmann::json::parse(json_file);
  caffe::NetParameter param =
      ReadNetParamsFromTextFile(testing::SourceDir() + "/tests/testdata/lenet_deploy.prototxt");
  param.mutable_layer(0)->mutable_input_param()->mutable_shape(0)->set_dim(0, 4);
  param.mutable_state()->set_phase(caffe::TEST);
  Net net(param);
  net.CopyTrainedLayersFromFile(Model());
  const std::vector<float> pixels = FirstTestImages(4);
  std::copy(pixels.begin(), pixels.end(), net.blob_by_name("data")->mutable_cpu_data());
  net.Forward();

  for (const auto& [name, expected] : oracle["blobs"].items()) {
    SCOPED_TRACE(name);
    const Blob* blob = net.blob_by_name(name);
    std::vector<int> shape = expected["shape"].get<std::vector<int>>();
    ASSERT_EQ(blob->shape(), shape);
    double sum = 0, abs_sum = 0;
    for (int i = 0; i < blob->count(); ++i) {
      sum += blob->cpu_data()[i];
      abs_sum += std::fabs(blob->cpu_data()[i]);
    }
    const double abs_expected = expected["abs_sum"].get<double>();
    EXPECT_NEAR(abs_sum, abs_expected, 1e-5 * abs_expected);
    EXPECT_NEAR(sum, expected["sum"].get<double>(), 1e-5 * abs_expected);
    const auto first8 = expected["first8"].get<std::vector<double>>();
    for (size_t i = 0; i < first8.size(); ++i) {
      EXPECT_NEAR(blob->cpu_data()[i], first8[i], 1e-4 * std::max(1.0, std::fabs(first8[i])));
    }
  }
  // Predictions: the argmax of the logits.
  const Blob* logits = net.blob_by_name("ip2");
  const auto predicted = oracle["predicted"].get<std::vector<int>>();
  for (int n = 0; n < 4; ++n) {
    const float* row = logits->cpu_data() + n * 10;
    EXPECT_EQ(std::max_element(row, row + 10) - row, predicted[n]);
  }
}

}  // namespace
}  // namespace crema
