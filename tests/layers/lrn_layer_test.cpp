#include "crema/layers/lrn_layer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "gradient_checker.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::FillUniform;
using testing::LayerFromText;

struct LrnCase {
  bool across;
  int size;
  float alpha, beta, k;

  std::string Text() const {
    std::ostringstream os;
    os << "name: 'norm' type: 'LRN' lrn_param { local_size: " << size << " alpha: " << alpha
       << " beta: " << beta << " k: " << k
       << " norm_region: " << (across ? "ACROSS_CHANNELS" : "WITHIN_CHANNEL") << " }";
    return os.str();
  }
};

// The formulas, evaluated in double, one output at a time.
std::vector<float> NaiveLrn(const LrnCase& p, const Blob& x) {
  const int N = x.shape(0), C = x.shape(1), H = x.shape(2), W = x.shape(3);
  const int r = (p.size - 1) / 2;
  auto at = [&](int n, int c, int h, int w) {
    return static_cast<double>(x.cpu_data()[((n * C + c) * H + h) * W + w]);
  };
  std::vector<float> y;
  for (int n = 0; n < N; ++n) {
    for (int c = 0; c < C; ++c) {
      for (int h = 0; h < H; ++h) {
        for (int w = 0; w < W; ++w) {
          double scale;
          if (p.across) {
            double sum = 0;
            for (int cc = c - r; cc < c - r + p.size; ++cc) {
              if (cc >= 0 && cc < C) sum += at(n, cc, h, w) * at(n, cc, h, w);
            }
            scale = p.k + p.alpha / p.size * sum;
          } else {
            double sum = 0;
            for (int hh = h - r; hh <= h + r; ++hh) {
              for (int ww = w - r; ww <= w + r; ++ww) {
                if (hh >= 0 && hh < H && ww >= 0 && ww < W) sum += at(n, c, hh, ww) * at(n, c, hh, ww);
              }
            }
            scale = 1 + p.alpha / (p.size * p.size) * sum;
          }
          y.push_back(static_cast<float>(at(n, c, h, w) * std::pow(scale, -p.beta)));
        }
      }
    }
  }
  return y;
}

void CheckForward(const LrnCase& p, const std::vector<int>& shape) {
  SCOPED_TRACE(p.Text() + " input " + Blob::ShapeString(shape));
  Blob bottom(shape), top;
  FillUniform(&bottom, -3.f, 3.f, 5);
  LRNLayer layer(LayerFromText(p.Text()));
  layer.SetUp({&bottom}, {&top});
  ASSERT_EQ(top.shape(), shape);
  layer.Forward({&bottom}, {&top});
  const std::vector<float> expected = NaiveLrn(p, bottom);
  for (int i = 0; i < top.count(); ++i) {
    ASSERT_NEAR(top.cpu_data()[i], expected[i], 2e-6f * std::max(1.f, std::fabs(expected[i])))
        << "element " << i;
  }
}

TEST(LRNLayerTest, AcrossChannelsMatchesNaive) {
  // beta 0.75 takes the square-root path, the others pow.
  for (const LrnCase& p : {LrnCase{true, 5, 1e-1f, 0.75f, 1.f}, LrnCase{true, 5, 2.f, 0.6f, 2.f},
                           LrnCase{true, 3, 1.f, 0.75f, 0.5f}, LrnCase{true, 1, 1.f, 1.f, 1.f},
                           LrnCase{true, 9, 0.5f, 0.75f, 1.f}}) {
    CheckForward(p, {2, 7, 3, 4});
    CheckForward(p, {1, 3, 5, 5});    // fewer channels than the window
    CheckForward(p, {2, 6, 17, 19});  // more positions than one work chunk
  }
}

TEST(LRNLayerTest, WithinChannelMatchesNaive) {
  for (const LrnCase& p : {LrnCase{false, 3, 5e-2f, 0.75f, 1.f}, LrnCase{false, 5, 1.f, 0.6f, 7.f},
                           LrnCase{false, 1, 1.f, 0.75f, 1.f}, LrnCase{false, 7, 2.f, 0.75f, 1.f}}) {
    CheckForward(p, {2, 3, 6, 5});
    CheckForward(p, {1, 2, 2, 9});  // window larger than the height
  }
}

TEST(LRNLayerTest, AcrossChannelsGradient) {
  for (const LrnCase& p : {LrnCase{true, 5, 1.f, 0.75f, 1.f}, LrnCase{true, 3, 2.f, 0.6f, 2.f}}) {
    SCOPED_TRACE(p.Text());
    Blob bottom({2, 7, 3, 3}), top;
    FillUniform(&bottom, -1.f, 1.f, 9);
    LRNLayer layer(LayerFromText(p.Text()));
    testing::GradientChecker checker(1e-2f, 1e-3f);
    checker.CheckGradientExhaustive(&layer, {&bottom}, {&top});
  }
}

TEST(LRNLayerTest, WithinChannelGradient) {
  for (const LrnCase& p : {LrnCase{false, 3, 1.f, 0.75f, 1.f}, LrnCase{false, 5, 2.f, 0.6f, 1.f}}) {
    SCOPED_TRACE(p.Text());
    Blob bottom({2, 2, 5, 4}), top;
    FillUniform(&bottom, -1.f, 1.f, 13);
    LRNLayer layer(LayerFromText(p.Text()));
    testing::GradientChecker checker(1e-2f, 1e-3f);
    checker.CheckGradientExhaustive(&layer, {&bottom}, {&top});
  }
}

void ExpectSetUpError(const std::string& params, const std::vector<int>& shape, bool in_place,
                      const std::string& needle) {
  SCOPED_TRACE(params);
  LRNLayer layer(LayerFromText("name: 'norm' type: 'LRN' lrn_param { " + params + " }"));
  Blob bottom(shape), top;
  try {
    layer.SetUp({&bottom}, {in_place ? &bottom : &top});
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    const std::string what = e.what();
    EXPECT_NE(what.find("Layer 'norm' (LRN)"), std::string::npos) << what;
    EXPECT_NE(what.find(needle), std::string::npos) << what;
  }
}

TEST(LRNLayerTest, BadParametersNameTheLayer) {
  ExpectSetUpError("local_size: 4", {2, 3, 4, 4}, false, "odd");
  ExpectSetUpError("local_size: 0", {2, 3, 4, 4}, false, "odd");
  ExpectSetUpError("local_size: 4 norm_region: WITHIN_CHANNEL", {2, 3, 4, 4}, false, "odd");
  ExpectSetUpError("local_size: 3", {2, 3, 4}, false, "4-D input");
  ExpectSetUpError("local_size: 3", {2, 3, 4, 4}, true, "in place");
}

}  // namespace
}  // namespace crema
