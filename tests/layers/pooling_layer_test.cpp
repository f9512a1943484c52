#include "crema/layers/pooling_layer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <numeric>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "gradient_checker.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::LayerFromText;

struct PoolCase {
  bool max;  // MAX, else AVE
  int kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w;
  bool ceil;

  std::string Text() const {
    std::ostringstream os;
    os << "name: 'pool' type: 'Pooling' pooling_param { pool: " << (max ? "MAX" : "AVE");
    if (kernel_h == kernel_w) {
      os << " kernel_size: " << kernel_h;
    } else {
      os << " kernel_h: " << kernel_h << " kernel_w: " << kernel_w;
    }
    if (stride_h == stride_w) {
      os << " stride: " << stride_h;
    } else {
      os << " stride_h: " << stride_h << " stride_w: " << stride_w;
    }
    if (pad_h == pad_w) {
      os << " pad: " << pad_h;
    } else {
      os << " pad_h: " << pad_h << " pad_w: " << pad_w;
    }
    os << " round_mode: " << (ceil ? "CEIL" : "FLOOR") << " }";
    return os.str();
  }
};

// Output size from the written rule, computed in floating point as the rule is stated.
int ExpectedOutSize(int size, int kernel, int stride, int pad, bool ceil, bool any_pad) {
  const double q = static_cast<double>(size + 2 * pad - kernel) / stride;
  int out = static_cast<int>(ceil ? std::ceil(q) : std::floor(q)) + 1;
  if (any_pad && (out - 1) * stride >= size + pad) --out;
  return out;
}

// The definition: per output, scan the window clipped to the image in row-major order.
struct Naive {
  std::vector<float> top;
  std::vector<int> argmax;
};

Naive NaivePool(const PoolCase& p, const Blob& x) {
  const int N = x.shape(0), C = x.shape(1), H = x.shape(2), W = x.shape(3);
  const bool any_pad = p.pad_h != 0 || p.pad_w != 0;
  const int OH = ExpectedOutSize(H, p.kernel_h, p.stride_h, p.pad_h, p.ceil, any_pad);
  const int OW = ExpectedOutSize(W, p.kernel_w, p.stride_w, p.pad_w, p.ceil, any_pad);
  Naive result;
  for (int n = 0; n < N; ++n) {
    for (int c = 0; c < C; ++c) {
      const float* plane = x.cpu_data() + (n * C + c) * H * W;
      for (int oy = 0; oy < OH; ++oy) {
        for (int ox = 0; ox < OW; ++ox) {
          const int y0 = oy * p.stride_h - p.pad_h, x0 = ox * p.stride_w - p.pad_w;
          if (p.max) {
            float best = -FLT_MAX;
            int where = -1;
            for (int y = y0; y < y0 + p.kernel_h; ++y) {
              for (int xx = x0; xx < x0 + p.kernel_w; ++xx) {
                if (y < 0 || y >= H || xx < 0 || xx >= W) continue;
                if (plane[y * W + xx] > best) {
                  best = plane[y * W + xx];
                  where = y * W + xx;
                }
              }
            }
            result.top.push_back(best);
            result.argmax.push_back(where);
          } else {
            // Divisor: the window cut at H + pad (W + pad), padding cells included.
            const int rows = std::min(y0 + p.kernel_h, H + p.pad_h) - y0;
            const int cols = std::min(x0 + p.kernel_w, W + p.pad_w) - x0;
            double sum = 0;
            for (int y = std::max(y0, 0); y < std::min(y0 + p.kernel_h, H); ++y) {
              for (int xx = std::max(x0, 0); xx < std::min(x0 + p.kernel_w, W); ++xx) {
                sum += plane[y * W + xx];
              }
            }
            // A window with no cell inside the image averages to 0.
            result.top.push_back(rows <= 0 || cols <= 0
                                     ? 0.f
                                     : static_cast<float>(sum / (rows * cols)));
          }
        }
      }
    }
  }
  return result;
}

struct Shape2 {
  int h, w;
};

// Forward (and for MAX the argmax, both as internal mask and as a top) against NaivePool.
void CheckForward(const PoolCase& p, const Shape2& size, bool few_levels) {
  SCOPED_TRACE(p.Text() + " input " + std::to_string(size.h) + "x" + std::to_string(size.w));
  Blob bottom({2, 3, size.h, size.w});
  std::mt19937 gen(size.h * 31 + size.w);
  float* x = bottom.mutable_cpu_data();
  for (int i = 0; i < bottom.count(); ++i) {
    // Few levels make many ties, which must go to the first maximum in scan order.
    x[i] = few_levels ? static_cast<float>(gen() % 4) - 2.f
                      : std::uniform_real_distribution<float>(-1.f, 1.f)(gen);
  }
  const Naive expected = NaivePool(p, bottom);
  Blob top, mask;
  PoolingLayer layer(LayerFromText(p.Text()));
  BlobVec tops{&top};
  if (p.max) tops.push_back(&mask);
  layer.SetUp({&bottom}, tops);
  layer.Forward({&bottom}, tops);
  ASSERT_EQ(top.count(), static_cast<int>(expected.top.size())) << top.shape_string();
  for (int i = 0; i < top.count(); ++i) {
    ASSERT_NEAR(top.cpu_data()[i], expected.top[i], 1e-6f) << "element " << i;
    if (p.max) {
      ASSERT_EQ(mask.cpu_data()[i], static_cast<float>(expected.argmax[i])) << "element " << i;
    }
  }
}

std::vector<Shape2> Sizes() { return {{7, 6}, {8, 9}, {6, 6}, {9, 7}}; }

TEST(PoolingLayerTest, ForwardMatchesNaive) {
  for (bool max : {true, false}) {
    for (int kernel : {2, 3, 4}) {
      for (int stride : {1, 2, 3}) {
        for (int pad = 0; pad < std::min(kernel, 3); ++pad) {
          for (bool ceil : {true, false}) {
            for (const Shape2& size : Sizes()) {
              CheckForward({max, kernel, kernel, stride, stride, pad, pad, ceil}, size, false);
            }
          }
        }
      }
    }
  }
}

TEST(PoolingLayerTest, RectangularForwardMatchesNaive) {
  for (bool max : {true, false}) {
    for (bool ceil : {true, false}) {
      for (const Shape2& size : Sizes()) {
        CheckForward({max, 3, 2, 2, 1, 1, 0, ceil}, size, false);
        CheckForward({max, 2, 4, 1, 3, 0, 2, ceil}, size, false);
        // pad_w = 0 but pad_h set: the last-window trim applies to both axes.
        CheckForward({max, 3, 2, 2, 3, 1, 0, ceil}, size, false);
      }
    }
  }
}

// The specialised MAX loops (2×2/2, 3×3/2, 3×3/1) against the naive scan, with ties. Output
// rows narrower than 16 take the table loop, wider ones the row loop: sizes cover both.
TEST(PoolingLayerTest, SpecialisedMaxLoopsMatchNaive) {
  const std::vector<Shape2> sizes{{24, 24}, {13, 13}, {12, 11}, {5, 6},  {3, 3},
                                  {2, 2},   {1, 4},   {35, 40}, {20, 33}, {9, 16}};
  for (int variant = 0; variant < 3; ++variant) {
    const int kernel = variant == 0 ? 2 : 3;
    const int stride = variant == 2 ? 1 : 2;
    for (int pad = 0; pad < kernel; ++pad) {
      for (bool ceil : {true, false}) {
        for (const Shape2& size : sizes) {
          if (size.h + 2 * pad < kernel || size.w + 2 * pad < kernel) continue;
          for (bool few_levels : {true, false}) {
            CheckForward({true, kernel, kernel, stride, stride, pad, pad, ceil}, size,
                         few_levels);
          }
        }
      }
    }
  }
}

TEST(PoolingLayerTest, FollowsInputSizeChanges) {
  const PoolCase p{true, 3, 3, 2, 2, 1, 1, true};
  PoolingLayer layer(LayerFromText(p.Text()));
  Blob bottom({2, 3, 12, 12}), top;
  layer.SetUp({&bottom}, {&top});
  for (const Shape2& size : {Shape2{12, 12}, Shape2{9, 14}, Shape2{40, 40}, Shape2{9, 14}}) {
    SCOPED_TRACE(std::to_string(size.h) + "x" + std::to_string(size.w));
    bottom.Reshape({2, 3, size.h, size.w});
    testing::FillUniform(&bottom, -1.f, 1.f, size.h * 100 + size.w);
    layer.Forward({&bottom}, {&top});
    const Naive expected = NaivePool(p, bottom);
    ASSERT_EQ(top.count(), static_cast<int>(expected.top.size()));
    for (int i = 0; i < top.count(); ++i) ASSERT_EQ(top.cpu_data()[i], expected.top[i]) << i;
  }
}

TEST(PoolingLayerTest, OutputShapes) {
  struct ShapeCase {
    std::string params;
    int h, w, out_h, out_w;
  };
  const std::vector<ShapeCase> cases{
      {"kernel_size: 3 stride: 2", 6, 6, 3, 3},                      // ceil: overhang
      {"kernel_size: 3 stride: 2 round_mode: FLOOR", 6, 6, 2, 2},
      {"kernel_size: 2 stride: 2", 5, 5, 3, 3},
      {"kernel_size: 2 stride: 2 round_mode: FLOOR", 5, 5, 2, 2},
      {"kernel_size: 3 stride: 2 pad: 1", 7, 7, 4, 4},
      {"kernel_size: 3 stride: 2 pad: 1", 6, 6, 4, 4},
      {"kernel_size: 3 stride: 2 pad: 1 round_mode: FLOOR", 6, 6, 3, 3},
      // ceil gives 3, but the third window would start in the padding: trimmed to 2.
      {"kernel_size: 3 stride: 3 pad: 1", 5, 5, 2, 2},
      // Without any padding there is no trim, even for a window past the image.
      {"kernel_size: 1 stride: 3", 5, 5, 3, 3},
      // pad_h alone enables the trim on the width axis too.
      {"kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 3 pad_h: 1 pad_w: 0", 7, 9, 4, 3},
      {"kernel_h: 3 kernel_w: 2 stride_h: 2 stride_w: 3", 7, 9, 3, 4},
      {"global_pooling: true", 5, 7, 1, 1},
      {"global_pooling: true pool: AVE", 1, 1, 1, 1},
  };
  for (const ShapeCase& c : cases) {
    SCOPED_TRACE(c.params);
    PoolingLayer layer(LayerFromText("name: 'pool' type: 'Pooling' pooling_param { " +
                                     c.params + " }"));
    Blob bottom({2, 3, c.h, c.w}), top;
    layer.SetUp({&bottom}, {&top});
    EXPECT_EQ(top.shape(), (std::vector<int>{2, 3, c.out_h, c.out_w}));
  }
}

TEST(PoolingLayerTest, WindowPastTheImageGivesNoGradient) {
  // kernel 1 stride 3 on width 5: the third column's window starts at 6, past the image.
  PoolingLayer layer(LayerFromText(
      "name: 'pool' type: 'Pooling' pooling_param { kernel_size: 1 stride: 3 }"));
  Blob bottom({1, 1, 5, 5}), top, mask;
  testing::FillUniform(&bottom, -1.f, 1.f, 5);
  layer.SetUp({&bottom}, {&top, &mask});
  layer.Forward({&bottom}, {&top, &mask});
  EXPECT_EQ(top.cpu_data()[2], -FLT_MAX);
  EXPECT_EQ(mask.cpu_data()[2], -1.f);
  EXPECT_EQ(top.cpu_data()[4], bottom.cpu_data()[3 * 5 + 3]);
  std::fill(top.mutable_cpu_diff(), top.mutable_cpu_diff() + top.count(), 1.f);
  layer.Backward({&top, &mask}, {true}, {&bottom});
  EXPECT_EQ(std::accumulate(bottom.cpu_diff(), bottom.cpu_diff() + bottom.count(), 0.f), 4.f);
}

TEST(PoolingLayerTest, GlobalPoolingMatchesNaive) {
  for (bool max : {true, false}) {
    Blob bottom({2, 3, 5, 7}), top;
    testing::FillUniform(&bottom, -1.f, 1.f, 11);
    PoolingLayer layer(LayerFromText(std::string("name: 'pool' type: 'Pooling' pooling_param {") +
                                     " global_pooling: true pool: " + (max ? "MAX" : "AVE") +
                                     " }"));
    layer.SetUp({&bottom}, {&top});
    layer.Forward({&bottom}, {&top});
    const Naive expected = NaivePool({max, 5, 7, 1, 1, 0, 0, true}, bottom);
    for (int i = 0; i < top.count(); ++i) EXPECT_NEAR(top.cpu_data()[i], expected.top[i], 1e-6f);
  }
}

// Distinct values, spaced well beyond the checker's step, so no perturbation moves an argmax.
void FillDistinct(Blob* blob, unsigned seed) {
  std::vector<int> order(blob->count());
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937(seed));
  for (int i = 0; i < blob->count(); ++i) {
    blob->mutable_cpu_data()[i] = (order[i] - blob->count() / 2) * 0.05f;
  }
}

TEST(PoolingLayerTest, MaxGradient) {
  const std::vector<std::string> params{
      "kernel_size: 2 stride: 2",            // specialised, ceil overhang on 7×7
      "kernel_size: 3 stride: 2",            // specialised
      "kernel_size: 3 stride: 2 pad: 1",     // specialised with a padded frame
      "kernel_size: 3 stride: 1 pad: 1",     // specialised
      "kernel_h: 3 kernel_w: 2 stride: 2 pad_h: 1 pad_w: 1",  // general
  };
  for (const std::string& p : params) {
    SCOPED_TRACE(p);
    PoolingLayer layer(LayerFromText("name: 'pool' type: 'Pooling' pooling_param { " + p + " }"));
    Blob bottom({2, 2, 7, 7}), top;
    FillDistinct(&bottom, 13);
    testing::GradientChecker checker(1e-2f, 1e-3f);
    checker.CheckGradientExhaustive(&layer, {&bottom}, {&top});
  }
}

TEST(PoolingLayerTest, AveGradient) {
  const std::vector<std::string> params{
      "kernel_size: 3 stride: 2",
      "kernel_size: 3 stride: 2 pad: 1",
      "kernel_h: 2 kernel_w: 3 stride_h: 1 stride_w: 2 pad_h: 1 pad_w: 2",
      "global_pooling: true",
  };
  for (const std::string& p : params) {
    SCOPED_TRACE(p);
    PoolingLayer layer(
        LayerFromText("name: 'pool' type: 'Pooling' pooling_param { pool: AVE " + p + " }"));
    Blob bottom({2, 2, 6, 7}), top;
    testing::FillUniform(&bottom, -1.f, 1.f, 17);
    testing::GradientChecker checker(1e-2f, 1e-3f);
    checker.CheckGradientExhaustive(&layer, {&bottom}, {&top});
  }
}

TEST(PoolingLayerTest, MaskTopGivesTheSameGradient) {
  const std::string text =
      "name: 'pool' type: 'Pooling' pooling_param { kernel_size: 3 stride: 2 }";
  PoolingLayer with_mask(LayerFromText(text)), without(LayerFromText(text));
  Blob bottom({2, 3, 9, 8}), top_a, mask, top_b;
  testing::FillUniform(&bottom, -1.f, 1.f, 19);
  with_mask.SetUp({&bottom}, {&top_a, &mask});
  without.SetUp({&bottom}, {&top_b});
  with_mask.Forward({&bottom}, {&top_a, &mask});
  without.Forward({&bottom}, {&top_b});
  testing::FillUniform(&top_a, -1.f, 1.f, 23);  // reuse as a source of random diffs
  std::copy(top_a.cpu_data(), top_a.cpu_data() + top_a.count(), top_b.mutable_cpu_diff());
  std::copy(top_a.cpu_data(), top_a.cpu_data() + top_a.count(), top_a.mutable_cpu_diff());
  without.Backward({&top_b}, {true}, {&bottom});
  const std::vector<float> expected(bottom.cpu_diff(), bottom.cpu_diff() + bottom.count());
  with_mask.Backward({&top_a, &mask}, {true}, {&bottom});
  for (int i = 0; i < bottom.count(); ++i) EXPECT_EQ(bottom.cpu_diff()[i], expected[i]) << i;
}

void ExpectSetUpError(const std::string& params, const std::vector<int>& shape, int tops,
                      ErrorCode code, const std::string& needle) {
  SCOPED_TRACE(params);
  PoolingLayer layer(LayerFromText("name: 'pool' type: 'Pooling' pooling_param { " + params + " }"));
  Blob bottom(shape), top0, top1;
  BlobVec top{&top0};
  if (tops > 1) top.push_back(&top1);
  try {
    layer.SetUp({&bottom}, top);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    const std::string what = e.what();
    EXPECT_NE(what.find("Layer 'pool' (Pooling)"), std::string::npos) << what;
    EXPECT_NE(what.find(needle), std::string::npos) << what;
  }
}

TEST(PoolingLayerTest, BadParametersNameTheLayer) {
  const std::vector<int> shape{2, 3, 6, 6};
  const ErrorCode invalid = ErrorCode::kInvalidArgument;
  ExpectSetUpError("pool: STOCHASTIC kernel_size: 2", shape, 1, ErrorCode::kUnsupported,
                   "STOCHASTIC");
  ExpectSetUpError("global_pooling: true kernel_size: 2", shape, 1, invalid, "global_pooling");
  ExpectSetUpError("global_pooling: true stride: 2", shape, 1, invalid, "stride 1");
  ExpectSetUpError("global_pooling: true pad: 1", shape, 1, invalid, "pad 0");
  ExpectSetUpError("kernel_size: 2 pad: 2", shape, 1, invalid, "smaller than the kernel");
  ExpectSetUpError("kernel_h: 3 kernel_w: 3 pad_h: 1 pad_w: 3", shape, 1, invalid,
                   "smaller than the kernel");
  ExpectSetUpError("kernel_size: 2 kernel_h: 2 kernel_w: 2", shape, 1, invalid, "not both");
  ExpectSetUpError("kernel_h: 2", shape, 1, invalid, "kernel_h and kernel_w together");
  ExpectSetUpError("stride: 2", shape, 1, invalid, "needs kernel_size");
  ExpectSetUpError("kernel_size: 2 pad: 1 pad_h: 1 pad_w: 1", shape, 1, invalid, "not both");
  ExpectSetUpError("kernel_size: 2 pad_h: 1", shape, 1, invalid, "together");
  ExpectSetUpError("kernel_size: 2 stride: 0", shape, 1, invalid, "stride must be positive");
  ExpectSetUpError("kernel_size: 0", shape, 1, invalid, "kernel size must be positive");
  ExpectSetUpError("kernel_size: 8", shape, 1, invalid, "does not fit");
  ExpectSetUpError("kernel_size: 2", {2, 3, 6}, 1, invalid, "4-D input");
  ExpectSetUpError("pool: AVE kernel_size: 2", shape, 2, invalid, "at most 1 top blob");
}

}  // namespace
}  // namespace crema
