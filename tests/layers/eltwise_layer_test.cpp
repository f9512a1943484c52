#include "crema/layers/eltwise_layer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gradient_checker.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::FillUniform;
using testing::GradientChecker;
using testing::LayerFromText;

caffe::LayerParameter EltwiseParam(const std::string& fields) {
  return LayerFromText("name: 'elt' type: 'Eltwise' eltwise_param { " + fields + " }");
}

struct Blobs {
  std::vector<std::unique_ptr<Blob>> storage;
  BlobVec vec;
  Blobs(int n, const std::vector<int>& shape, unsigned seed) {
    for (int k = 0; k < n; ++k) {
      storage.push_back(std::make_unique<Blob>(shape));
      FillUniform(storage.back().get(), -1.f, 1.f, seed + k);
      vec.push_back(storage.back().get());
    }
  }
};

// Distinct values everywhere (a random permutation of a grid), so MAX has no ties and finite
// differences never swap the winner.
void FillDistinct(const BlobVec& blobs, unsigned seed) {
  const int count = blobs[0]->count();
  std::vector<float> values(count * blobs.size());
  for (size_t i = 0; i < values.size(); ++i) values[i] = -1.f + 0.1f * static_cast<float>(i);
  std::shuffle(values.begin(), values.end(), std::mt19937(seed));
  for (size_t b = 0; b < blobs.size(); ++b) {
    std::copy(values.begin() + b * count, values.begin() + (b + 1) * count,
              blobs[b]->mutable_cpu_data());
  }
}

TEST(EltwiseLayerTest, ForwardMatchesLoop) {
  struct Case {
    std::string fields;
    std::vector<float> coeff;  // SUM only
  };
  const Case cases[] = {{"operation: PROD", {}},
                        {"operation: SUM", {1, 1, 1}},
                        {"operation: SUM coeff: 1 coeff: -2 coeff: 0.5", {1, -2, 0.5f}},
                        {"operation: MAX", {}},
                        {"", {1, 1, 1}}};
  for (int n : {2, 3}) {
    for (const Case& c : cases) {
      if (!c.coeff.empty() && c.fields.find("coeff") != std::string::npos && n != 3) continue;
      Blobs bottoms(n, {2, 3, 4, 5}, 121);
      Blob y;
      EltwiseLayer layer(EltwiseParam(c.fields));
      layer.SetUp(bottoms.vec, {&y});
      layer.Forward(bottoms.vec, {&y});
      ASSERT_EQ(y.shape(), bottoms.vec[0]->shape());
      for (int i = 0; i < y.count(); ++i) {
        float expected;
        if (c.fields.find("PROD") != std::string::npos) {
          expected = 1;
          for (Blob* b : bottoms.vec) expected *= b->cpu_data()[i];
        } else if (c.fields.find("MAX") != std::string::npos) {
          expected = bottoms.vec[0]->cpu_data()[i];
          for (Blob* b : bottoms.vec) expected = std::max(expected, b->cpu_data()[i]);
        } else {
          expected = 0;
          for (int k = 0; k < n; ++k) expected += c.coeff[k] * bottoms.vec[k]->cpu_data()[i];
        }
        ASSERT_NEAR(y.cpu_data()[i], expected, 1e-6) << c.fields << " with " << n << " bottoms";
      }
    }
  }
}

TEST(EltwiseLayerTest, BackwardMatchesFormulas) {
  for (const char* fields : {"operation: PROD", "operation: PROD stable_prod_grad: false",
                             "operation: SUM coeff: 2 coeff: -1 coeff: 0.5", "operation: MAX"}) {
    Blobs bottoms(3, {4, 6}, 122);
    FillDistinct(bottoms.vec, 123);
    Blob y;
    EltwiseLayer layer(EltwiseParam(fields));
    layer.SetUp(bottoms.vec, {&y});
    layer.Forward(bottoms.vec, {&y});
    std::vector<float> dy(y.count());
    for (int i = 0; i < y.count(); ++i) dy[i] = 0.5f + 0.01f * static_cast<float>(i);
    std::copy(dy.begin(), dy.end(), y.mutable_cpu_diff());
    layer.Backward({&y}, {true, true, true}, bottoms.vec);
    const std::string op = fields;
    const float coeff[] = {2.f, -1.f, 0.5f};
    for (int k = 0; k < 3; ++k) {
      for (int i = 0; i < y.count(); ++i) {
        float expected = 0;
        if (op.find("PROD") != std::string::npos) {
          float others = 1;
          for (int o = 0; o < 3; ++o) {
            if (o != k) others *= bottoms.vec[o]->cpu_data()[i];
          }
          expected = dy[i] * others;
        } else if (op.find("SUM") != std::string::npos) {
          expected = coeff[k] * dy[i];
        } else {
          int arg = 0;
          for (int o = 1; o < 3; ++o) {
            if (bottoms.vec[o]->cpu_data()[i] > bottoms.vec[arg]->cpu_data()[i]) arg = o;
          }
          expected = arg == k ? dy[i] : 0.f;
        }
        ASSERT_NEAR(bottoms.vec[k]->cpu_diff()[i], expected,
                    1e-5 * std::max(1.f, std::fabs(expected)))
            << op << " bottom " << k << " element " << i;
      }
    }
  }
}

TEST(EltwiseLayerTest, StableProductGradientHandlesZeros) {
  Blobs bottoms(2, {3}, 125);
  bottoms.vec[0]->mutable_cpu_data()[1] = 0.f;
  Blob y;
  EltwiseLayer layer(EltwiseParam("operation: PROD"));
  layer.SetUp(bottoms.vec, {&y});
  layer.Forward(bottoms.vec, {&y});
  std::fill(y.mutable_cpu_diff(), y.mutable_cpu_diff() + 3, 1.f);
  layer.Backward({&y}, {true, true}, bottoms.vec);
  // d(a·b)/da at a = 0 is b, which only the stable form gets right.
  EXPECT_FLOAT_EQ(bottoms.vec[0]->cpu_diff()[1], bottoms.vec[1]->cpu_data()[1]);

  EltwiseLayer unstable(EltwiseParam("operation: PROD stable_prod_grad: false"));
  unstable.SetUp(bottoms.vec, {&y});
  unstable.Forward(bottoms.vec, {&y});
  std::fill(y.mutable_cpu_diff(), y.mutable_cpu_diff() + 3, 1.f);
  unstable.Backward({&y}, {true, true}, bottoms.vec);
  EXPECT_FALSE(std::isfinite(bottoms.vec[0]->cpu_diff()[1]));  // 0/0, as the formula says
  EXPECT_FLOAT_EQ(bottoms.vec[0]->cpu_diff()[0], bottoms.vec[1]->cpu_data()[0]);
}

TEST(EltwiseLayerTest, MaxTies) {
  Blobs bottoms(3, {2}, 126);
  // Element 0: bottoms 0 and 1 tie, bottom 1 wins. Element 1: bottoms 1 and 2 tie, 1 wins.
  const float v0[] = {2.f, 0.f}, v1[] = {2.f, 3.f}, v2[] = {1.f, 3.f};
  std::copy(v0, v0 + 2, bottoms.vec[0]->mutable_cpu_data());
  std::copy(v1, v1 + 2, bottoms.vec[1]->mutable_cpu_data());
  std::copy(v2, v2 + 2, bottoms.vec[2]->mutable_cpu_data());
  Blob y;
  EltwiseLayer layer(EltwiseParam("operation: MAX"));
  layer.SetUp(bottoms.vec, {&y});
  layer.Forward(bottoms.vec, {&y});
  std::fill(y.mutable_cpu_diff(), y.mutable_cpu_diff() + 2, 1.f);
  layer.Backward({&y}, {true, true, true}, bottoms.vec);
  EXPECT_EQ(bottoms.vec[0]->cpu_diff()[0], 0.f);
  EXPECT_EQ(bottoms.vec[1]->cpu_diff()[0], 1.f);
  EXPECT_EQ(bottoms.vec[1]->cpu_diff()[1], 1.f);
  EXPECT_EQ(bottoms.vec[2]->cpu_diff()[1], 0.f);
}

TEST(EltwiseLayerTest, Gradient) {
  for (const char* fields : {"operation: PROD", "operation: PROD stable_prod_grad: false",
                             "operation: SUM", "operation: SUM coeff: 1 coeff: -0.5 coeff: 2",
                             "operation: MAX"}) {
    Blobs bottoms(3, {2, 3, 4}, 127);
    if (std::string(fields).find("MAX") != std::string::npos) FillDistinct(bottoms.vec, 128);
    if (std::string(fields).find("PROD") != std::string::npos) {
      for (size_t k = 0; k < bottoms.vec.size(); ++k) {
        FillUniform(bottoms.vec[k], 0.5f, 1.5f, 129 + static_cast<unsigned>(k));  // away from 0
      }
    }
    Blob y;
    EltwiseLayer layer(EltwiseParam(fields));
    GradientChecker checker(1e-3f, 1e-2f);
    checker.CheckGradient(&layer, bottoms.vec, {&y});
  }
}

std::string SetUpError(const std::string& fields, int n, bool second_shape_differs = false,
                       bool in_place = false) {
  Blobs bottoms(n, {2, 3}, 130);
  if (second_shape_differs) bottoms.vec[1]->Reshape({3, 2});
  Blob y;
  EltwiseLayer layer(EltwiseParam(fields));
  try {
    layer.SetUp(bottoms.vec, {in_place ? bottoms.vec[0] : &y});
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(EltwiseLayerTest, Errors) {
  const std::string count = SetUpError("coeff: 1 coeff: 2", 3);
  EXPECT_NE(count.find("Layer 'elt' (Eltwise)"), std::string::npos) << count;
  EXPECT_NE(count.find("2 eltwise_param.coeff values for 3 bottoms"), std::string::npos) << count;
  const std::string prod = SetUpError("operation: PROD coeff: 1 coeff: 2", 2);
  EXPECT_NE(prod.find("only for operation SUM"), std::string::npos) << prod;
  EXPECT_EQ(SetUpError("operation: MAX coeff: 1 coeff: 2", 2), "");  // Caffe ignores these
  const std::string shape = SetUpError("", 2, /*second_shape_differs=*/true);
  EXPECT_NE(shape.find("3 2 (6)"), std::string::npos) << shape;
  EXPECT_NE(shape.find("2 3 (6)"), std::string::npos) << shape;
  const std::string inplace = SetUpError("", 2, false, /*in_place=*/true);
  EXPECT_NE(inplace.find("in place"), std::string::npos) << inplace;
  const std::string one = SetUpError("", 1);
  EXPECT_NE(one.find("at least 2 bottom"), std::string::npos) << one;
}

}  // namespace
}  // namespace crema
