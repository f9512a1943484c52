#include "crema/layers/registry.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace crema {
namespace {

// The common layers; other layer families add their own checks.
const std::vector<std::string>& CommonTypes() {
  static const std::vector<std::string> types = {
      "Accuracy", "Concat",  "Dropout", "Eltwise",         "Flatten", "Input", "ReLU",
      "Sigmoid",  "Silence", "Softmax", "SoftmaxWithLoss", "Split",   "TanH"};
  return types;
}

TEST(LayerRegistryTest, EveryCommonTypeCreatesItsLayer) {
  const LayerRegistry& registry = LayerRegistry::Global();
  for (const std::string& type : CommonTypes()) {
    ASSERT_TRUE(registry.Has(type)) << type;
    caffe::LayerParameter param;
    param.set_name("x");
    param.set_type(type);
    std::unique_ptr<Layer> layer = registry.Create(param);
    ASSERT_NE(layer, nullptr) << type;
    EXPECT_EQ(std::string(layer->type()), type);
    EXPECT_EQ(layer->name(), "x");
  }
}

TEST(LayerRegistryTest, TypesAreSortedAndIncludeTheCommonOnes) {
  const std::vector<std::string> types = LayerRegistry::Global().Types();
  EXPECT_TRUE(std::is_sorted(types.begin(), types.end()));
  for (const std::string& type : CommonTypes()) {
    EXPECT_TRUE(std::binary_search(types.begin(), types.end(), type)) << type;
  }
}

TEST(LayerRegistryTest, UnknownTypeIsNotFoundListingKnownTypes) {
  caffe::LayerParameter param;
  param.set_name("mystery");
  param.set_type("NoSuchLayer");
  try {
    LayerRegistry::Global().Create(param);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    const std::string message = e.what();
    EXPECT_NE(message.find("NoSuchLayer"), std::string::npos) << message;
    EXPECT_NE(message.find("mystery"), std::string::npos) << message;
    for (const std::string& type : CommonTypes()) {
      EXPECT_NE(message.find(type), std::string::npos) << type << " missing from: " << message;
    }
  }
}

TEST(LayerRegistryTest, DuplicateRegistrationIsError) {
  LayerRegistry registry;
  RegisterBuiltinLayers(&registry);
  EXPECT_TRUE(registry.Has("Softmax"));
  EXPECT_THROW(registry.Add("Softmax", nullptr), Error);
}

}  // namespace
}  // namespace crema
