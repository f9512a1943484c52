#include "crema/layers/im2col_layer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "crema/backend/cpu/blas.h"
#include "crema/layers/conv_layer.h"
#include "crema/layers/registry.h"
#include "gradient_checker.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::ExpectError;
using testing::FillUniform;
using testing::LayerFromText;

caffe::LayerParameter Im2colParam(const std::string& fields) {
  return LayerFromText("name: 'im2col' type: 'Im2col' convolution_param { " + fields + " }");
}

struct Case {
  std::string fields;
  int kernel_h, kernel_w, pad_h, pad_w, stride_h, stride_w, dilation_h, dilation_w;
};

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      {"kernel_size: 3", 3, 3, 0, 0, 1, 1, 1, 1},
      {"kernel_size: 3 pad: 1 stride: 2", 3, 3, 1, 1, 2, 2, 1, 1},
      {"kernel_size: 2 stride: 3", 2, 2, 0, 0, 3, 3, 1, 1},
      {"kernel_h: 2 kernel_w: 3 pad_h: 1 pad_w: 0 stride_h: 2 stride_w: 1 dilation: 2", 2, 3,
       1, 0, 2, 1, 2, 2},
      {"kernel_size: 3 kernel_size: 2 pad: 2 pad: 1 dilation: 2 dilation: 1", 3, 2, 2, 1, 1, 1,
       2, 1},
      {"kernel_size: 1", 1, 1, 0, 0, 1, 1, 1, 1},
      {"kernel_size: 4 pad: 3 stride: 2 dilation: 1", 4, 4, 3, 3, 2, 2, 1, 1},
  };
  return cases;
}

TEST(Im2colLayerTest, IsRegistered) {
  EXPECT_STREQ(LayerRegistry::Global().Create(Im2colParam("kernel_size: 2"))->type(), "Im2col");
}

TEST(Im2colLayerTest, ForwardMatchesFormula) {
  const int N = 2, C = 3, H = 6, W = 7;
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.fields);
    Blob x({N, C, H, W}), y;
    FillUniform(&x, -1.f, 1.f, 101);
    Im2colLayer layer(Im2colParam(c.fields));
    layer.SetUp({&x}, {&y});
    const int oh = (H + 2 * c.pad_h - (c.dilation_h * (c.kernel_h - 1) + 1)) / c.stride_h + 1;
    const int ow = (W + 2 * c.pad_w - (c.dilation_w * (c.kernel_w - 1) + 1)) / c.stride_w + 1;
    const int rows = C * c.kernel_h * c.kernel_w;
    ASSERT_EQ(y.shape(), (std::vector<int>{N, rows, oh, ow}));
    layer.Forward({&x}, {&y});
    for (int n = 0; n < N; ++n) {
      for (int ch = 0; ch < C; ++ch) {
        for (int i = 0; i < c.kernel_h; ++i) {
          for (int j = 0; j < c.kernel_w; ++j) {
            const int row = (ch * c.kernel_h + i) * c.kernel_w + j;
            for (int oy = 0; oy < oh; ++oy) {
              for (int ox = 0; ox < ow; ++ox) {
                const int iy = oy * c.stride_h - c.pad_h + i * c.dilation_h;
                const int ix = ox * c.stride_w - c.pad_w + j * c.dilation_w;
                const float expected = iy >= 0 && iy < H && ix >= 0 && ix < W
                                           ? x.cpu_data()[x.offset(n, ch, iy, ix)]
                                           : 0.f;
                ASSERT_EQ(y.cpu_data()[y.offset(n, row, oy, ox)], expected)
                    << "n " << n << " row " << row << " y " << oy << " x " << ox;
              }
            }
          }
        }
      }
    }
  }
}

// Convolution multiplies exactly this matrix with its weights: conv(x) = W · im2col(x).
TEST(Im2colLayerTest, MatchesConvolutionsColumnMatrix) {
  const int N = 2, C = 4, H = 7, W = 6, O = 5;
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.fields);
    Blob x({N, C, H, W}), cols, conv_out;
    FillUniform(&x, -1.f, 1.f, 102);
    Im2colLayer im2col(Im2colParam(c.fields));
    im2col.SetUp({&x}, {&cols});
    im2col.Forward({&x}, {&cols});
    ConvolutionLayer conv(LayerFromText(
        "name: 'conv' type: 'Convolution' convolution_param { engine: CAFFE num_output: " +
        std::to_string(O) + " bias_term: false weight_filler { type: 'gaussian' std: 1 } " +
        c.fields + " }"));
    conv.SetUp({&x}, {&conv_out});
    conv.Forward({&x}, {&conv_out});
    const int k = cols.shape(1), spatial = cols.count(2);
    ASSERT_EQ(conv_out.shape(), (std::vector<int>{N, O, cols.shape(2), cols.shape(3)}));
    std::vector<float> product(static_cast<size_t>(O) * spatial);
    for (int n = 0; n < N; ++n) {
      cpu::Gemm(false, false, O, spatial, k, 1.f, conv.blobs()[0]->cpu_data(),
                cols.cpu_data() + n * k * spatial, 0.f, product.data());
      for (int i = 0; i < O * spatial; ++i) {
        ASSERT_NEAR(conv_out.cpu_data()[n * O * spatial + i], product[i],
                    1e-4f * (1 + std::fabs(product[i])))
            << "n " << n << " element " << i;
      }
    }
  }
}

TEST(Im2colLayerTest, LeadingAxesAreImages) {
  Blob x({2, 3, 2, 5, 4}), y;
  FillUniform(&x, -1.f, 1.f, 103);
  Im2colLayer layer(Im2colParam("axis: 2 kernel_size: 2"));
  layer.SetUp({&x}, {&y});
  ASSERT_EQ(y.shape(), (std::vector<int>{2, 3, 8, 4, 3}));
  layer.Forward({&x}, {&y});
  // Image (1, 2), channel 1, kernel cell (1, 0), output (2, 1) reads input (3, 1).
  const int image = 1 * 3 + 2;
  const float* xi = x.cpu_data() + image * 2 * 5 * 4;
  const float* yi = y.cpu_data() + image * 8 * 4 * 3;
  EXPECT_EQ(yi[((1 * 2 + 1) * 2 + 0) * 12 + 2 * 3 + 1], xi[(1 * 5 + 3) * 4 + 1]);
}

TEST(Im2colLayerTest, Gradient) {
  for (const Case& c : Cases()) {
    SCOPED_TRACE(c.fields);
    Blob x({2, 2, 5, 5}), y;
    FillUniform(&x, -1.f, 1.f, 104);
    Im2colLayer layer(Im2colParam(c.fields));
    testing::GradientChecker checker(1e-2f, 1e-3f);
    checker.CheckGradient(&layer, {&x}, {&y});
  }
}

TEST(Im2colLayerTest, BadParametersNameTheLayer) {
  for (const auto& [fields, fragment] : std::vector<std::pair<std::string, std::string>>{
           {"pad: 1", "kernel_size"},
           {"kernel_size: 0", "kernel size must be positive"},
           {"kernel_size: 2 stride: 0", "stride must be positive"},
           {"kernel_size: 2 kernel_h: 2 kernel_w: 2", "not both"},
           {"kernel_size: 1 kernel_size: 2 kernel_size: 3", "one value or one per"},
           {"kernel_size: 7", "kernel spans 7x7"},
           {"kernel_size: 3 dilation: 3", "kernel spans 7x7"},
           {"kernel_size: 2 axis: 4", "axis 4"}}) {
    SCOPED_TRACE(fields);
    Blob x({2, 3, 6, 6}), y;
    Im2colLayer layer(Im2colParam(fields));
    ExpectError([&] { layer.SetUp({&x}, {&y}); }, ErrorCode::kInvalidArgument,
                {"Layer 'im2col' (Im2col)", fragment});
  }
  Blob x3({2, 3, 4, 4, 4}), y;
  Im2colLayer layer(Im2colParam("kernel_size: 2"));
  ExpectError([&] { layer.SetUp({&x3}, {&y}); }, ErrorCode::kUnsupported,
              {"Layer 'im2col' (Im2col)", "2-D"});
}

}  // namespace
}  // namespace crema
