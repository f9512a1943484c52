#include "crema/layers/conv_layer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "crema/backend/cpu/dnnl_conv_layer.h"
#include "crema/layers/registry.h"
#include "gradient_checker.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::FillUniform;
using testing::LayerFromText;

enum class Engine { kReference, kDnnl };

const char* EngineName(Engine e) { return e == Engine::kReference ? "reference" : "oneDNN"; }

struct ConvCase {
  int num, channels, height, width;
  int num_output, group;
  int kernel_h, kernel_w, pad_h, pad_w, stride_h, stride_w, dilation_h, dilation_w;
  bool bias;
  // Write rectangular values with the *_h/*_w fields instead of two repeated values.
  bool hw_fields = false;

  int OutHeight() const {
    return (height + 2 * pad_h - (dilation_h * (kernel_h - 1) + 1)) / stride_h + 1;
  }
  int OutWidth() const {
    return (width + 2 * pad_w - (dilation_w * (kernel_w - 1) + 1)) / stride_w + 1;
  }
  bool Valid() const {
    return height + 2 * pad_h >= dilation_h * (kernel_h - 1) + 1 &&
           width + 2 * pad_w >= dilation_w * (kernel_w - 1) + 1;
  }
  std::string ToString() const {
    std::ostringstream os;
    os << "input " << num << "x" << channels << "x" << height << "x" << width << " num_output "
       << num_output << " group " << group << " kernel " << kernel_h << "x" << kernel_w
       << " pad " << pad_h << "x" << pad_w << " stride " << stride_h << "x" << stride_w
       << " dilation " << dilation_h << "x" << dilation_w << " bias " << bias
       << (hw_fields ? " (h/w fields)" : "");
    return os.str();
  }
};

// A quantity as prototxt: one value when square, else the h/w fields or two values.
std::string Field(const char* name, int h, int w, bool hw_fields, bool has_hw_form = true) {
  std::ostringstream os;
  if (h == w) {
    os << " " << name << ": " << h;
  } else if (hw_fields && has_hw_form) {
    os << " " << name << "_h: " << h << " " << name << "_w: " << w;
  } else {
    os << " " << name << ": " << h << " " << name << ": " << w;
  }
  return os.str();
}

caffe::LayerParameter ConvParam(const ConvCase& k, const std::string& extra = "") {
  std::ostringstream os;
  os << "name: 'conv' type: 'Convolution' convolution_param { num_output: " << k.num_output
     << " group: " << k.group << " bias_term: " << (k.bias ? "true" : "false")
     << (k.kernel_h == k.kernel_w || !k.hw_fields
             ? Field("kernel_size", k.kernel_h, k.kernel_w, false)
             : " kernel_h: " + std::to_string(k.kernel_h) +
                   " kernel_w: " + std::to_string(k.kernel_w))
     << Field("pad", k.pad_h, k.pad_w, k.hw_fields)
     << Field("stride", k.stride_h, k.stride_w, k.hw_fields)
     << Field("dilation", k.dilation_h, k.dilation_w, false, /*has_hw_form=*/false)
     << " weight_filler { type: 'gaussian' std: 0.5 }"
     << " bias_filler { type: 'uniform' min: -1 max: 1 } " << extra << " }";
  return LayerFromText(os.str());
}

std::unique_ptr<ConvolutionLayer> MakeConv(Engine engine, const caffe::LayerParameter& param) {
  if (engine == Engine::kReference) return std::make_unique<ConvolutionLayer>(param);
  return std::make_unique<DnnlConvolutionLayer>(param);
}

// The definition, seven loops deep, accumulated in double.
std::vector<float> NaiveConv(const ConvCase& k, const Blob& x, const Blob& weight,
                             const Blob* bias) {
  const int oh_size = k.OutHeight(), ow_size = k.OutWidth();
  const int in_per_group = k.channels / k.group, out_per_group = k.num_output / k.group;
  std::vector<float> y(static_cast<size_t>(k.num) * k.num_output * oh_size * ow_size);
  const float* xd = x.cpu_data();
  const float* wd = weight.cpu_data();
  for (int n = 0; n < k.num; ++n) {
    for (int o = 0; o < k.num_output; ++o) {
      const int g = o / out_per_group;
      for (int oy = 0; oy < oh_size; ++oy) {
        for (int ox = 0; ox < ow_size; ++ox) {
          double sum = bias != nullptr ? bias->cpu_data()[o] : 0.0;
          for (int c = 0; c < in_per_group; ++c) {
            for (int i = 0; i < k.kernel_h; ++i) {
              for (int j = 0; j < k.kernel_w; ++j) {
                const int iy = oy * k.stride_h - k.pad_h + i * k.dilation_h;
                const int ix = ox * k.stride_w - k.pad_w + j * k.dilation_w;
                if (iy < 0 || iy >= k.height || ix < 0 || ix >= k.width) continue;
                const int ic = g * in_per_group + c;
                sum += static_cast<double>(
                           wd[((o * in_per_group + c) * k.kernel_h + i) * k.kernel_w + j]) *
                       xd[((n * k.channels + ic) * k.height + iy) * k.width + ix];
              }
            }
          }
          y[((static_cast<size_t>(n) * k.num_output + o) * oh_size + oy) * ow_size + ox] =
              static_cast<float>(sum);
        }
      }
    }
  }
  return y;
}

// Largest |a − b| / max(1, |a|).
float MaxRelativeError(const float* a, const float* b, int n) {
  float worst = 0.f;
  for (int i = 0; i < n; ++i) {
    worst = std::max(worst, std::fabs(a[i] - b[i]) / std::max(1.f, std::fabs(a[i])));
  }
  return worst;
}

void CheckForwardAgainstNaive(Engine engine, const ConvCase& k) {
  SCOPED_TRACE(std::string(EngineName(engine)) + ": " + k.ToString());
  Blob bottom({k.num, k.channels, k.height, k.width});
  Blob top;
  FillUniform(&bottom, -1.f, 1.f, 17);
  auto layer = MakeConv(engine, ConvParam(k));
  layer->SetUp({&bottom}, {&top});
  ASSERT_EQ(top.shape(), (std::vector<int>{k.num, k.num_output, k.OutHeight(), k.OutWidth()}));
  ASSERT_EQ(layer->blobs().size(), k.bias ? 2u : 1u);
  EXPECT_EQ(layer->blobs()[0]->shape(), (std::vector<int>{k.num_output, k.channels / k.group,
                                                          k.kernel_h, k.kernel_w}));
  FillUniform(layer->blobs()[0].get(), -1.f, 1.f, 23);
  if (k.bias) FillUniform(layer->blobs()[1].get(), -1.f, 1.f, 29);
  layer->Forward({&bottom}, {&top});
  const std::vector<float> expected =
      NaiveConv(k, bottom, *layer->blobs()[0], k.bias ? layer->blobs()[1].get() : nullptr);
  ASSERT_EQ(static_cast<int>(expected.size()), top.count());
  EXPECT_LT(MaxRelativeError(expected.data(), top.cpu_data(), top.count()), 1e-5f);
}

// Every combination of the options that change the loops' bounds.
std::vector<ConvCase> Matrix() {
  std::vector<ConvCase> cases;
  for (int group : {1, 2}) {
    for (int stride : {1, 2}) {
      for (int pad : {0, 1, 2}) {
        for (int dilation : {1, 2}) {
          for (int kernel : {1, 3, 5}) {
            for (bool bias : {true, false}) {
              ConvCase k{2, 4, 11, 9, 6, group, kernel, kernel, pad, pad,
                         stride, stride, dilation, dilation, bias};
              if (k.Valid()) cases.push_back(k);
            }
          }
        }
      }
    }
  }
  // Rectangular kernels, pads, strides and dilations, in both spellings.
  cases.push_back({2, 4, 11, 9, 6, 2, 3, 5, 1, 2, 1, 2, 1, 1, true, true});
  cases.push_back({2, 4, 11, 9, 6, 1, 3, 5, 1, 2, 1, 2, 1, 1, false, false});
  cases.push_back({1, 3, 10, 13, 5, 1, 5, 3, 2, 0, 3, 1, 2, 1, true, true});
  cases.push_back({3, 6, 7, 8, 9, 3, 2, 4, 0, 1, 2, 3, 1, 2, true, false});
  // Depthwise, and a 1×1 pointwise layer (the reference's no-im2col path).
  cases.push_back({2, 6, 9, 7, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1, true});
  cases.push_back({2, 5, 6, 7, 8, 1, 1, 1, 0, 0, 1, 1, 1, 1, true});
  // The kernel exactly covers the padded input.
  cases.push_back({2, 2, 3, 4, 3, 1, 5, 6, 1, 1, 1, 1, 1, 1, true});
  // At least 8 input channels per group that 16-channel blocks would pad heavily: oneDNN runs
  // these in the channels-last layout.
  cases.push_back({2, 10, 9, 8, 12, 1, 3, 3, 1, 1, 2, 2, 1, 1, true});
  cases.push_back({2, 18, 11, 9, 6, 2, 3, 3, 2, 2, 1, 1, 2, 2, false});
  cases.push_back({3, 9, 7, 10, 5, 1, 2, 4, 0, 1, 1, 2, 1, 1, true, true});
  return cases;
}

TEST(ConvolutionLayerTest, ReferenceMatchesNaiveConvolution) {
  for (const ConvCase& k : Matrix()) CheckForwardAgainstNaive(Engine::kReference, k);
}

TEST(ConvolutionLayerTest, DnnlMatchesNaiveConvolution) {
  for (const ConvCase& k : Matrix()) CheckForwardAgainstNaive(Engine::kDnnl, k);
}

TEST(ConvolutionLayerTest, ChannelAxisFlattensLeadingAxes) {
  for (Engine engine : {Engine::kReference, Engine::kDnnl}) {
    SCOPED_TRACE(EngineName(engine));
    const ConvCase k{6, 4, 7, 6, 4, 2, 3, 3, 1, 1, 2, 2, 1, 1, true};
    Blob bottom({2, 3, 4, 7, 6});  // the 6 images of k as 2×3
    Blob flat({6, 4, 7, 6});
    FillUniform(&bottom, -1.f, 1.f, 3);
    std::copy(bottom.cpu_data(), bottom.cpu_data() + bottom.count(), flat.mutable_cpu_data());
    Blob top;
    auto layer = MakeConv(engine, ConvParam(k, "axis: 2"));
    layer->SetUp({&bottom}, {&top});
    EXPECT_EQ(top.shape(), (std::vector<int>{2, 3, 4, 4, 3}));
    layer->Forward({&bottom}, {&top});
    const std::vector<float> expected =
        NaiveConv(k, flat, *layer->blobs()[0], layer->blobs()[1].get());
    EXPECT_LT(MaxRelativeError(expected.data(), top.cpu_data(), top.count()), 1e-5f);
  }
}

TEST(ConvolutionLayerTest, SeveralBottomsShareWeights) {
  for (Engine engine : {Engine::kReference, Engine::kDnnl}) {
    SCOPED_TRACE(EngineName(engine));
    const ConvCase k{2, 4, 6, 5, 4, 2, 3, 3, 1, 1, 1, 1, 1, 1, true};
    Blob a({2, 4, 6, 5}), b({2, 4, 6, 5}), top_a, top_b;
    FillUniform(&a, -1.f, 1.f, 5);
    FillUniform(&b, -1.f, 1.f, 6);
    auto layer = MakeConv(engine, ConvParam(k));
    layer->SetUp({&a, &b}, {&top_a, &top_b});
    layer->Forward({&a, &b}, {&top_a, &top_b});
    const std::vector<float> expect_a = NaiveConv(k, a, *layer->blobs()[0], layer->blobs()[1].get());
    const std::vector<float> expect_b = NaiveConv(k, b, *layer->blobs()[0], layer->blobs()[1].get());
    EXPECT_LT(MaxRelativeError(expect_a.data(), top_a.cpu_data(), top_a.count()), 1e-5f);
    EXPECT_LT(MaxRelativeError(expect_b.data(), top_b.cpu_data(), top_b.count()), 1e-5f);
  }
}

// Gradient checks on small shapes, for both engines.
std::vector<ConvCase> GradientCases() {
  return {
      {2, 3, 6, 5, 4, 1, 3, 3, 0, 0, 1, 1, 1, 1, true},
      {2, 4, 7, 6, 4, 2, 3, 3, 1, 1, 2, 2, 1, 1, true},
      {1, 2, 8, 7, 3, 1, 3, 2, 2, 1, 1, 2, 2, 1, false, true},
      {2, 3, 4, 4, 2, 1, 1, 1, 0, 0, 1, 1, 1, 1, true},
      {2, 3, 5, 6, 2, 1, 1, 1, 0, 0, 2, 2, 1, 1, true},  // 1×1 with a stride
      {1, 9, 5, 5, 3, 1, 3, 3, 1, 1, 1, 1, 1, 1, true},  // channels-last in oneDNN
  };
}

TEST(ConvolutionLayerTest, ReferenceGradient) {
  for (const ConvCase& k : GradientCases()) {
    SCOPED_TRACE(k.ToString());
    Blob bottom({k.num, k.channels, k.height, k.width}), top;
    FillUniform(&bottom, -1.f, 1.f, 41);
    auto layer = MakeConv(Engine::kReference, ConvParam(k));
    // ½Σtop² sums ~100 squares in float: 1e-3 would sit at its rounding noise.
    testing::GradientChecker checker(1e-2f, 1e-2f);
    checker.CheckGradient(layer.get(), {&bottom}, {&top});
  }
}

TEST(ConvolutionLayerTest, DnnlGradient) {
  for (const ConvCase& k : GradientCases()) {
    SCOPED_TRACE(k.ToString());
    Blob bottom({k.num, k.channels, k.height, k.width}), top;
    FillUniform(&bottom, -1.f, 1.f, 41);
    auto layer = MakeConv(Engine::kDnnl, ConvParam(k));
    // ½Σtop² sums ~100 squares in float: 1e-3 would sit at its rounding noise.
    testing::GradientChecker checker(1e-2f, 1e-2f);
    checker.CheckGradient(layer.get(), {&bottom}, {&top});
  }
}

TEST(ConvolutionLayerTest, GradientPerOutputElement) {
  const ConvCase k{1, 2, 5, 4, 2, 2, 3, 2, 1, 0, 2, 1, 1, 1, true};
  for (Engine engine : {Engine::kReference, Engine::kDnnl}) {
    SCOPED_TRACE(EngineName(engine));
    Blob bottom({k.num, k.channels, k.height, k.width}), top;
    FillUniform(&bottom, -1.f, 1.f, 43);
    auto layer = MakeConv(engine, ConvParam(k));
    testing::GradientChecker checker(1e-2f, 1e-3f);
    checker.CheckGradientExhaustive(layer.get(), {&bottom}, {&top});
  }
}

TEST(ConvolutionLayerTest, GradientWithTwoBottoms) {
  // A 3×3 kernel, and a strided 1×1 one that runs as one GEMM for the batch.
  for (const ConvCase& k : {ConvCase{1, 2, 5, 5, 3, 1, 3, 3, 1, 1, 2, 2, 1, 1, true},
                            ConvCase{2, 3, 5, 4, 2, 1, 1, 1, 0, 0, 2, 1, 1, 1, true}}) {
    for (Engine engine : {Engine::kReference, Engine::kDnnl}) {
      SCOPED_TRACE(std::string(EngineName(engine)) + ": " + k.ToString());
      Blob a({k.num, k.channels, k.height, k.width}), b({k.num, k.channels, k.height, k.width});
      Blob top_a, top_b;
      FillUniform(&a, -1.f, 1.f, 47);
      FillUniform(&b, -1.f, 1.f, 53);
      auto layer = MakeConv(engine, ConvParam(k));
      testing::GradientChecker checker(1e-2f, 1e-2f);
      checker.CheckGradient(layer.get(), {&a, &b}, {&top_a, &top_b});
    }
  }
}

// Runs forward and backward with the given top gradient; bottom and parameter diffs start at 0.
void ForwardBackward(Layer* layer, Blob* bottom, Blob* top, const Blob& top_diff) {
  layer->Forward({bottom}, {top});
  std::copy(top_diff.cpu_data(), top_diff.cpu_data() + top_diff.count(), top->mutable_cpu_diff());
  for (auto& blob : layer->blobs()) {
    std::fill(blob->mutable_cpu_diff(), blob->mutable_cpu_diff() + blob->count(), 0.f);
  }
  layer->Backward({top}, {true}, {bottom});
}

TEST(ConvolutionLayerTest, DnnlMatchesReferenceOnLeNetConv2) {
  // LeNet's conv2: 64×20×12×12 → 50 outputs, 5×5.
  const ConvCase k{64, 20, 12, 12, 50, 1, 5, 5, 0, 0, 1, 1, 1, 1, true};
  const caffe::LayerParameter param = ConvParam(k);
  Blob bottom({64, 20, 12, 12}), ref_top, dnnl_top, top_diff({64, 50, 8, 8});
  FillUniform(&bottom, -1.f, 1.f, 61);
  FillUniform(&top_diff, -1.f, 1.f, 67);
  ConvolutionLayer reference(param);
  DnnlConvolutionLayer dnnl(param);
  reference.SetUp({&bottom}, {&ref_top});
  dnnl.SetUp({&bottom}, {&dnnl_top});
  for (size_t i = 0; i < reference.blobs().size(); ++i) {
    FillUniform(reference.blobs()[i].get(), -0.2f, 0.2f, 71 + static_cast<unsigned>(i));
    dnnl.blobs()[i]->ShareData(*reference.blobs()[i]);
  }

  ForwardBackward(&reference, &bottom, &ref_top, top_diff);
  const std::vector<float> ref_dx(bottom.cpu_diff(), bottom.cpu_diff() + bottom.count());
  ForwardBackward(&dnnl, &bottom, &dnnl_top, top_diff);
  EXPECT_LT(MaxRelativeError(ref_top.cpu_data(), dnnl_top.cpu_data(), ref_top.count()), 1e-5f);
  EXPECT_LT(MaxRelativeError(ref_dx.data(), bottom.cpu_diff(), bottom.count()), 1e-5f);
  for (size_t i = 0; i < reference.blobs().size(); ++i) {
    const Blob& r = *reference.blobs()[i];
    const Blob& d = *dnnl.blobs()[i];
    // Sums over 64·8·8 products: compare relative to the largest gradient.
    float largest = 0.f;
    for (int j = 0; j < r.count(); ++j) largest = std::max(largest, std::fabs(r.cpu_diff()[j]));
    for (int j = 0; j < r.count(); ++j) {
      ASSERT_NEAR(r.cpu_diff()[j], d.cpu_diff()[j], 1e-5f * largest) << "blob " << i << " " << j;
    }
  }
}

// Forward, input gradient and parameter gradients of both engines on the same data.
void ExpectDnnlMatchesReference(const ConvCase& k) {
  SCOPED_TRACE(k.ToString());
  const caffe::LayerParameter param = ConvParam(k);
  Blob bottom({k.num, k.channels, k.height, k.width}), ref_top, dnnl_top;
  Blob top_diff({k.num, k.num_output, k.OutHeight(), k.OutWidth()});
  FillUniform(&bottom, -1.f, 1.f, 97);
  FillUniform(&top_diff, -1.f, 1.f, 101);
  ConvolutionLayer reference(param);
  DnnlConvolutionLayer dnnl(param);
  reference.SetUp({&bottom}, {&ref_top});
  dnnl.SetUp({&bottom}, {&dnnl_top});
  // oneDNN's own reference kernels would be correct but slow: the point of this engine.
  // Ungrouped 1×1 layers without padding skip oneDNN for one GEMM per image.
  EXPECT_EQ(dnnl.implementation().find("ref"), std::string::npos) << dnnl.implementation();
  const bool pointwise = k.kernel_h == 1 && k.kernel_w == 1 && k.pad_h == 0 && k.pad_w == 0 &&
                         k.group == 1;
  EXPECT_EQ(dnnl.implementation() == "GEMM per image (NCHW, 1x1)", pointwise)
      << dnnl.implementation();
  for (size_t i = 0; i < reference.blobs().size(); ++i) {
    FillUniform(reference.blobs()[i].get(), -0.5f, 0.5f, 103 + static_cast<unsigned>(i));
    dnnl.blobs()[i]->ShareData(*reference.blobs()[i]);
  }
  ForwardBackward(&reference, &bottom, &ref_top, top_diff);
  const std::vector<float> ref_dx(bottom.cpu_diff(), bottom.cpu_diff() + bottom.count());
  ForwardBackward(&dnnl, &bottom, &dnnl_top, top_diff);
  EXPECT_LT(MaxRelativeError(ref_top.cpu_data(), dnnl_top.cpu_data(), ref_top.count()), 1e-5f);
  EXPECT_LT(MaxRelativeError(ref_dx.data(), bottom.cpu_diff(), bottom.count()), 1e-5f);
  for (size_t i = 0; i < reference.blobs().size(); ++i) {
    const Blob& r = *reference.blobs()[i];
    const Blob& d = *dnnl.blobs()[i];
    float largest = 0.f;
    for (int j = 0; j < r.count(); ++j) largest = std::max(largest, std::fabs(r.cpu_diff()[j]));
    for (int j = 0; j < r.count(); ++j) {
      ASSERT_NEAR(r.cpu_diff()[j], d.cpu_diff()[j], 1e-5f * std::max(largest, 1.f))
          << "blob " << i << " element " << j;
    }
  }
}

// Grouped and depthwise layers (MobileNet's 3×3 depthwise at stride 1 and 2, channel
// multipliers, dilation), with channel counts on and off oneDNN's 16-channel blocks.
TEST(ConvolutionLayerTest, DnnlMatchesReferenceForGroupedAndDepthwise) {
  const std::vector<ConvCase> cases = {
      // Depthwise: group = C = num_output.
      {2, 32, 14, 13, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, true},
      {2, 32, 14, 13, 32, 32, 3, 3, 1, 1, 2, 2, 1, 1, false},
      {2, 16, 11, 12, 16, 16, 3, 3, 2, 2, 1, 1, 2, 2, true},
      {2, 16, 11, 12, 16, 16, 3, 3, 2, 2, 2, 2, 2, 2, true},
      {3, 24, 9, 9, 24, 24, 3, 3, 1, 1, 2, 2, 1, 1, true},
      {2, 5, 8, 7, 5, 5, 5, 3, 2, 1, 2, 1, 1, 2, false},
      // Stride 3, padding wider than the kernel, a 1×1 kernel, rows too narrow for the
      // 3×3 interior loop.
      {2, 8, 13, 14, 8, 8, 3, 3, 1, 1, 3, 3, 1, 1, true},
      {1, 8, 6, 7, 8, 8, 3, 3, 3, 3, 1, 1, 1, 1, true},
      {1, 8, 5, 6, 8, 8, 1, 1, 1, 1, 1, 1, 1, 1, false},
      {2, 8, 6, 2, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, true},
      // Big enough for the parallel loops.
      {4, 32, 20, 21, 32, 32, 3, 3, 1, 1, 1, 1, 1, 1, true},
      {4, 32, 24, 23, 32, 32, 3, 3, 1, 1, 2, 2, 1, 1, false},
      // Depthwise with a channel multiplier of 2.
      {2, 16, 9, 10, 32, 16, 3, 3, 1, 1, 2, 2, 1, 1, true},
      // Grouped.
      {2, 32, 10, 9, 64, 2, 3, 3, 1, 1, 2, 2, 1, 1, true},
      {2, 12, 10, 9, 8, 4, 3, 3, 2, 2, 1, 1, 2, 2, false},
      {2, 64, 8, 8, 32, 4, 1, 1, 0, 0, 2, 2, 1, 1, true},
      // 1×1 with a stride (ResNet's projections): GEMM over the subsampled columns.
      {2, 64, 9, 8, 32, 1, 1, 1, 0, 0, 2, 2, 1, 1, true},
      {3, 20, 7, 10, 24, 1, 1, 1, 0, 0, 3, 2, 1, 1, false},
      // ... one GEMM per image on planes of 128 positions and more, or a batch of one.
      {2, 8, 24, 22, 6, 1, 1, 1, 0, 0, 2, 2, 1, 1, true},
      {1, 8, 9, 8, 6, 1, 1, 1, 0, 0, 2, 2, 1, 1, true},
      {2, 6, 12, 11, 5, 1, 1, 1, 0, 0, 1, 1, 1, 1, false},
  };
  for (const ConvCase& k : cases) ExpectDnnlMatchesReference(k);
}

TEST(ConvolutionLayerTest, DnnlDepthwiseWithTwoBottomsAccumulates) {
  const ConvCase k{2, 16, 6, 5, 16, 16, 3, 3, 1, 1, 2, 1, 1, 2, true};
  Blob a({2, 16, 6, 5}), b({2, 16, 6, 5}), top_a, top_b;
  FillUniform(&a, -1.f, 1.f, 109);
  FillUniform(&b, -1.f, 1.f, 113);
  auto layer = MakeConv(Engine::kDnnl, ConvParam(k));
  testing::GradientChecker checker(1e-2f, 1e-2f);
  checker.CheckGradient(layer.get(), {&a, &b}, {&top_a, &top_b});
  // A second Backward adds the same gradients again.
  FillUniform(&top_a, -1.f, 1.f, 127);
  std::copy(top_a.cpu_data(), top_a.cpu_data() + top_a.count(), top_a.mutable_cpu_diff());
  std::copy(top_a.cpu_data(), top_a.cpu_data() + top_a.count(), top_b.mutable_cpu_diff());
  for (auto& blob : layer->blobs()) {
    std::fill(blob->mutable_cpu_diff(), blob->mutable_cpu_diff() + blob->count(), 0.f);
  }
  layer->Backward({&top_a, &top_b}, {false, false}, {&a, &b});
  std::vector<std::vector<float>> once;
  for (auto& blob : layer->blobs()) once.emplace_back(blob->cpu_diff(), blob->cpu_diff() + blob->count());
  layer->Backward({&top_a, &top_b}, {false, false}, {&a, &b});
  for (size_t i = 0; i < once.size(); ++i) {
    for (size_t j = 0; j < once[i].size(); ++j) {
      EXPECT_NEAR(layer->blobs()[i]->cpu_diff()[j], 2.f * once[i][j], 1e-4f * (1 + std::fabs(once[i][j])));
    }
  }
}

TEST(ConvolutionLayerTest, DnnlDepthwiseGradient) {
  for (const ConvCase& k : std::vector<ConvCase>{
           {1, 16, 5, 6, 16, 16, 3, 3, 1, 1, 2, 2, 1, 1, true},
           {1, 16, 6, 5, 16, 16, 3, 3, 2, 2, 1, 1, 2, 2, false}}) {
    SCOPED_TRACE(k.ToString());
    Blob bottom({k.num, k.channels, k.height, k.width}), top;
    FillUniform(&bottom, -1.f, 1.f, 107);
    auto layer = MakeConv(Engine::kDnnl, ConvParam(k));
    testing::GradientChecker checker(1e-2f, 1e-2f);
    checker.CheckGradient(layer.get(), {&bottom}, {&top});
  }
}

TEST(ConvolutionLayerTest, DnnlFollowsShapeChangesAndSharedWeights) {
  const ConvCase k{4, 4, 9, 9, 8, 2, 3, 3, 1, 1, 2, 2, 1, 1, true};
  DnnlConvolutionLayer layer(ConvParam(k));
  Blob bottom({4, 4, 9, 9}), top;
  layer.SetUp({&bottom}, {&top});
  layer.Forward({&bottom}, {&top});

  // A new batch size and image size rebuild the primitives.
  ConvCase smaller = k;
  smaller.num = 3;
  smaller.height = 7;
  smaller.width = 10;
  bottom.Reshape({3, 4, 7, 10});
  FillUniform(&bottom, -1.f, 1.f, 73);
  // The weights now live elsewhere, as when a test net shares the train net's weights.
  Blob other_weights(layer.blobs()[0]->shape());
  FillUniform(&other_weights, -1.f, 1.f, 79);
  layer.blobs()[0]->ShareData(other_weights);
  layer.Forward({&bottom}, {&top});
  ASSERT_EQ(top.shape(), (std::vector<int>{3, 8, smaller.OutHeight(), smaller.OutWidth()}));
  const std::vector<float> expected =
      NaiveConv(smaller, bottom, other_weights, layer.blobs()[1].get());
  EXPECT_LT(MaxRelativeError(expected.data(), top.cpu_data(), top.count()), 1e-5f);
}

TEST(ConvolutionLayerTest, ParameterGradientsAccumulate) {
  const ConvCase k{2, 2, 5, 5, 3, 1, 3, 3, 1, 1, 1, 1, 1, 1, true};
  for (Engine engine : {Engine::kReference, Engine::kDnnl}) {
    SCOPED_TRACE(EngineName(engine));
    auto layer = MakeConv(engine, ConvParam(k));
    Blob bottom({2, 2, 5, 5}), top, top_diff({2, 3, 5, 5});
    FillUniform(&bottom, -1.f, 1.f, 83);
    FillUniform(&top_diff, -1.f, 1.f, 89);
    layer->SetUp({&bottom}, {&top});
    ForwardBackward(layer.get(), &bottom, &top, top_diff);
    std::vector<std::vector<float>> once;
    for (auto& blob : layer->blobs()) once.emplace_back(blob->cpu_diff(), blob->cpu_diff() + blob->count());
    layer->Backward({&top}, {false}, {&bottom});
    for (size_t i = 0; i < once.size(); ++i) {
      for (size_t j = 0; j < once[i].size(); ++j) {
        EXPECT_NEAR(layer->blobs()[i]->cpu_diff()[j], 2.f * once[i][j], 1e-5f);
      }
    }
  }
}

// Every `engine` gets the fast implementation on the CPU (as in Caffe, where the field only
// matters on the GPU); the registry's reference implementation is the im2col one.
TEST(ConvolutionLayerTest, ImplementationIsChosenAtCreation) {
  const LayerRegistry& registry = LayerRegistry::Global();
  const ConvCase k{1, 2, 5, 5, 3, 1, 3, 3, 0, 0, 1, 1, 1, 1, true};
  for (const char* engine : {"DEFAULT", "CAFFE", "CUDNN"}) {
    SCOPED_TRACE(engine);
    const caffe::LayerParameter param = ConvParam(k, std::string("engine: ") + engine);
    auto fast = registry.Create(param);
    EXPECT_NE(dynamic_cast<DnnlConvolutionLayer*>(fast.get()), nullptr);
    auto reference = registry.Create(param, LayerImplementation::kReference);
    EXPECT_EQ(dynamic_cast<DnnlConvolutionLayer*>(reference.get()), nullptr);
    EXPECT_NE(dynamic_cast<ConvolutionLayer*>(reference.get()), nullptr);
    EXPECT_EQ(std::string(fast->type()), "Convolution");
  }
}

// SetUp must fail with `code`, in a message that names the layer and contains `needle`.
void ExpectSetUpError(const std::string& text, const std::vector<int>& shape, ErrorCode code,
                      const std::string& needle) {
  for (Engine engine : {Engine::kReference, Engine::kDnnl}) {
    SCOPED_TRACE(std::string(EngineName(engine)) + ": " + text);
    auto layer = MakeConv(engine, LayerFromText(text));
    Blob bottom(shape), top;
    try {
      layer->SetUp({&bottom}, {&top});
      ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), code) << e.what();
      const std::string what = e.what();
      EXPECT_NE(what.find("Layer 'conv' (Convolution)"), std::string::npos) << what;
      EXPECT_NE(what.find(needle), std::string::npos) << what;
    }
  }
}

TEST(ConvolutionLayerTest, BadParametersNameTheLayer) {
  const std::string head = "name: 'conv' type: 'Convolution' convolution_param { ";
  const std::vector<int> shape{2, 6, 8, 8};
  const ErrorCode invalid = ErrorCode::kInvalidArgument;
  ExpectSetUpError(head + "num_output: 4 kernel_size: 3 group: 4 }", shape, invalid,
                   "does not divide the 6 input channels");
  ExpectSetUpError(head + "num_output: 5 kernel_size: 3 group: 3 }", shape, invalid,
                   "does not divide num_output 5");
  ExpectSetUpError(head + "num_output: 4 kernel_size: 3 group: 0 }", shape, invalid,
                   "group must be positive");
  ExpectSetUpError(head + "num_output: 4 kernel_size: 3 kernel_h: 3 kernel_w: 3 }", shape,
                   invalid, "not both");
  ExpectSetUpError(head + "num_output: 4 kernel_h: 3 }", shape, invalid, "together");
  ExpectSetUpError(head + "num_output: 4 kernel_size: 3 pad: 1 pad_h: 1 }", shape, invalid,
                   "not both");
  ExpectSetUpError(head + "num_output: 4 kernel_size: 3 stride: 2 stride_w: 2 }", shape,
                   invalid, "not both");
  ExpectSetUpError(head + "num_output: 4 kernel_size: 3 kernel_size: 3 kernel_size: 3 }",
                   shape, invalid, "one value or one per spatial axis");
  ExpectSetUpError(head + "num_output: 4 }", shape, invalid, "kernel_size");
  ExpectSetUpError(head + "num_output: 0 kernel_size: 3 }", shape, invalid, "num_output");
  ExpectSetUpError(head + "num_output: 4 kernel_size: 3 stride: 0 }", shape, invalid,
                   "stride must be positive");
  ExpectSetUpError(head + "num_output: 4 kernel_size: 3 dilation: 0 }", shape, invalid,
                   "dilation must be positive");
  ExpectSetUpError(head + "num_output: 4 kernel_size: 9 }", shape, invalid,
                   "more than the padded input");
  ExpectSetUpError(head + "num_output: 4 kernel_size: 3 axis: 4 }", shape, invalid,
                   "out of range");
  ExpectSetUpError(head + "num_output: 4 kernel_size: 3 }", {2, 6, 8, 8, 8},
                   ErrorCode::kUnsupported, "only 2-D convolution is supported");
  ExpectSetUpError(head + "num_output: 4 kernel_size: 3 }", {2, 6, 8},
                   ErrorCode::kUnsupported, "only 2-D convolution is supported");
}

TEST(ConvolutionLayerTest, InputShapeChangesAreChecked) {
  const ConvCase k{2, 4, 6, 6, 4, 1, 3, 3, 0, 0, 1, 1, 1, 1, true};
  for (Engine engine : {Engine::kReference, Engine::kDnnl}) {
    SCOPED_TRACE(EngineName(engine));
    auto layer = MakeConv(engine, ConvParam(k));
    Blob a({2, 4, 6, 6}), b({2, 4, 6, 6}), top_a, top_b;
    layer->SetUp({&a, &b}, {&top_a, &top_b});
    a.Reshape({2, 5, 6, 6});
    b.Reshape({2, 5, 6, 6});
    EXPECT_THROW(layer->Forward({&a, &b}, {&top_a, &top_b}), Error);  // channels changed
    a.Reshape({2, 4, 6, 6});
    b.Reshape({2, 4, 7, 6});
    try {
      layer->Forward({&a, &b}, {&top_a, &top_b});
      ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("one shape"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace crema
