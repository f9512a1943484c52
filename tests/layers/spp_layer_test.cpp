#include "crema/layers/spp_layer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "crema/layers/registry.h"
#include "gradient_checker.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::ExpectError;
using testing::LayerFromText;

caffe::LayerParameter SppParam(int height, const std::string& pool) {
  return LayerFromText("name: 'spp' type: 'SPP' spp_param { pyramid_height: " +
                       std::to_string(height) + " pool: " + pool + " }");
}

// Distinct values 0.05 apart in a random order, so no max pooling window has a tie and a
// small step never changes its winner.
void FillDistinct(Blob* blob, unsigned seed) {
  std::vector<int> order(static_cast<size_t>(blob->count()));
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937(seed));
  for (int i = 0; i < blob->count(); ++i) {
    blob->mutable_cpu_data()[i] = 0.05f * static_cast<float>(order[i] - blob->count() / 2);
  }
}

// The pyramid written out: level l splits each axis into b = 2^l bins of kernel
// k = ceil(size / b) cells, starting at bin·k − pad with pad = (k·b − size + 1) / 2. MAX takes
// the largest cell of the bin inside the image; AVE divides the sum over the cells inside
// the image by the bin's extent clipped to size + pad.
std::vector<double> Reference(const Blob& x, int levels, bool max) {
  const int N = x.shape(0), C = x.shape(1), H = x.shape(2), W = x.shape(3);
  std::vector<double> out;
  std::vector<std::vector<double>> per_item(N);
  for (int l = 0; l < levels; ++l) {
    const int b = 1 << l;
    const int kh = (H + b - 1) / b, kw = (W + b - 1) / b;
    const int ph = (kh * b - H + 1) / 2, pw = (kw * b - W + 1) / 2;
    for (int n = 0; n < N; ++n) {
      for (int c = 0; c < C; ++c) {
        for (int i = 0; i < b; ++i) {
          for (int j = 0; j < b; ++j) {
            const int h0 = i * kh - ph, w0 = j * kw - pw;
            const int h1 = std::min(h0 + kh, H + ph), w1 = std::min(w0 + kw, W + pw);
            const int divisor = (h1 - h0) * (w1 - w0);
            double best = -1e30, sum = 0;
            for (int y = std::max(h0, 0); y < std::min(h1, H); ++y) {
              for (int xx = std::max(w0, 0); xx < std::min(w1, W); ++xx) {
                const double v = x.cpu_data()[x.offset(n, c, y, xx)];
                best = std::max(best, v);
                sum += v;
              }
            }
            per_item[n].push_back(max ? best : sum / divisor);
          }
        }
      }
    }
  }
  for (const auto& item : per_item) out.insert(out.end(), item.begin(), item.end());
  return out;
}

TEST(SPPLayerTest, IsRegistered) {
  EXPECT_STREQ(LayerRegistry::Global().Create(SppParam(2, "MAX"))->type(), "SPP");
}

TEST(SPPLayerTest, ForwardMatchesPyramid) {
  for (const std::string pool : {"MAX", "AVE"}) {
    for (int levels : {1, 2, 3}) {
      for (const std::vector<int>& shape :
           std::vector<std::vector<int>>{{2, 3, 7, 9}, {1, 2, 8, 8}, {2, 1, 6, 11}}) {
        SCOPED_TRACE(pool + " height " + std::to_string(levels) + " input " +
                     Blob::ShapeString(shape));
        Blob x(shape), y;
        FillDistinct(&x, 111);
        SPPLayer layer(SppParam(levels, pool));
        layer.SetUp({&x}, {&y});
        const int bins = (levels == 1 ? 1 : levels == 2 ? 5 : 21);
        if (levels == 1) {
          ASSERT_EQ(y.shape(), (std::vector<int>{shape[0], shape[1], 1, 1}));
        } else {
          ASSERT_EQ(y.shape(), (std::vector<int>{shape[0], shape[1] * bins}));
        }
        layer.Forward({&x}, {&y});
        const std::vector<double> expected = Reference(x, levels, pool == "MAX");
        ASSERT_EQ(static_cast<int>(expected.size()), y.count());
        for (int i = 0; i < y.count(); ++i) {
          ASSERT_NEAR(y.cpu_data()[i], expected[i], 1e-5) << "element " << i;
        }
      }
    }
  }
}

TEST(SPPLayerTest, Gradient) {
  for (const std::string pool : {"MAX", "AVE"}) {
    for (int levels : {1, 2, 3}) {
      SCOPED_TRACE(pool + " height " + std::to_string(levels));
      Blob x({2, 2, 6, 7}), y;
      FillDistinct(&x, 112);
      SPPLayer layer(SppParam(levels, pool));
      testing::GradientChecker checker(1e-2f, 1e-2f);
      checker.CheckGradient(&layer, {&x}, {&y});
    }
  }
}

TEST(SPPLayerTest, FollowsInputSizeChanges) {
  Blob x({2, 3, 7, 9}), y;
  FillDistinct(&x, 113);
  SPPLayer layer(SppParam(3, "MAX"));
  layer.SetUp({&x}, {&y});
  layer.Forward({&x}, {&y});
  for (const std::vector<int>& shape :
       std::vector<std::vector<int>>{{3, 3, 12, 6}, {3, 3, 12, 6}, {1, 3, 7, 9}}) {
    x.Reshape(shape);
    FillDistinct(&x, 114);
    layer.Forward({&x}, {&y});
    ASSERT_EQ(y.shape(), (std::vector<int>{shape[0], 3 * 21}));
    const std::vector<double> expected = Reference(x, 3, true);
    for (int i = 0; i < y.count(); ++i) ASSERT_NEAR(y.cpu_data()[i], expected[i], 1e-6) << i;
  }
}

TEST(SPPLayerTest, BadParametersNameTheLayer) {
  Blob x({2, 3, 6, 6}), y;
  {
    SPPLayer layer(LayerFromText("name: 'spp' type: 'SPP'"));
    ExpectError([&] { layer.SetUp({&x}, {&y}); }, ErrorCode::kInvalidArgument,
                {"Layer 'spp' (SPP)", "pyramid_height"});
  }
  {
    SPPLayer layer(SppParam(0, "MAX"));
    ExpectError([&] { layer.SetUp({&x}, {&y}); }, ErrorCode::kInvalidArgument,
                {"Layer 'spp' (SPP)", "pyramid_height"});
  }
  {
    Blob small({2, 3, 3, 6});
    SPPLayer layer(SppParam(3, "AVE"));  // 4 bins over 3 rows
    ExpectError([&] { layer.SetUp({&small}, {&y}); }, ErrorCode::kInvalidArgument,
                {"Layer 'spp' (SPP)", "too deep", "level 2"});
  }
  {
    Blob flat({2, 3, 6});
    SPPLayer layer(SppParam(2, "MAX"));
    ExpectError([&] { layer.SetUp({&flat}, {&y}); }, ErrorCode::kInvalidArgument,
                {"Layer 'spp' (SPP)", "4-D"});
  }
  {
    SPPLayer layer(SppParam(2, "STOCHASTIC"));
    ExpectError([&] { layer.SetUp({&x}, {&y}); }, ErrorCode::kUnsupported,
                {"Layer 'spp' (SPP)", "STOCHASTIC"});
  }
}

}  // namespace
}  // namespace crema
