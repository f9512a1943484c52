#include "crema/layers/deconv_layer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "crema/backend/cpu/dnnl_deconv_layer.h"
#include "crema/layers/conv_layer.h"
#include "crema/layers/registry.h"
#include "gradient_checker.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::FillUniform;
using testing::LayerFromText;

struct DeconvCase {
  int num, channels, height, width;
  int num_output, group;
  int kernel_h, kernel_w, pad_h, pad_w, stride_h, stride_w, dilation_h, dilation_w;
  bool bias;

  int OutHeight() const {
    return stride_h * (height - 1) + dilation_h * (kernel_h - 1) + 1 - 2 * pad_h;
  }
  int OutWidth() const {
    return stride_w * (width - 1) + dilation_w * (kernel_w - 1) + 1 - 2 * pad_w;
  }
  bool Valid() const { return OutHeight() > 0 && OutWidth() > 0; }
  std::string ToString() const {
    std::ostringstream os;
    os << "input " << num << "x" << channels << "x" << height << "x" << width << " num_output "
       << num_output << " group " << group << " kernel " << kernel_h << "x" << kernel_w
       << " pad " << pad_h << "x" << pad_w << " stride " << stride_h << "x" << stride_w
       << " dilation " << dilation_h << "x" << dilation_w << " bias " << bias;
    return os.str();
  }
};

caffe::LayerParameter DeconvParam(const DeconvCase& k, const std::string& extra = "") {
  std::ostringstream os;
  os << "name: 'deconv' type: 'Deconvolution' convolution_param { num_output: " << k.num_output
     << " group: " << k.group << " bias_term: " << (k.bias ? "true" : "false");
  if (k.kernel_h == k.kernel_w) {
    os << " kernel_size: " << k.kernel_h;
  } else {
    os << " kernel_h: " << k.kernel_h << " kernel_w: " << k.kernel_w;
  }
  os << " pad: " << k.pad_h << " pad: " << k.pad_w << " stride: " << k.stride_h
     << " stride: " << k.stride_w << " dilation: " << k.dilation_h << " dilation: "
     << k.dilation_w << " weight_filler { type: 'gaussian' std: 0.5 }"
     << " bias_filler { type: 'uniform' min: -1 max: 1 } " << extra << " }";
  return LayerFromText(os.str());
}

// The definition as a scatter: every input cell adds weight·value onto the output cells its
// kernel taps land on. Accumulated in double.
std::vector<float> ScatterDeconv(const DeconvCase& k, const Blob& x, const Blob& weight,
                                 const Blob* bias) {
  const int oh_size = k.OutHeight(), ow_size = k.OutWidth();
  const int in_per_group = k.channels / k.group, out_per_group = k.num_output / k.group;
  std::vector<double> y(static_cast<size_t>(k.num) * k.num_output * oh_size * ow_size, 0.0);
  const float* xd = x.cpu_data();
  const float* wd = weight.cpu_data();
  for (int n = 0; n < k.num; ++n) {
    for (int c = 0; c < k.channels; ++c) {
      const int g = c / in_per_group;
      for (int iy = 0; iy < k.height; ++iy) {
        for (int ix = 0; ix < k.width; ++ix) {
          const double value = xd[((n * k.channels + c) * k.height + iy) * k.width + ix];
          for (int o = 0; o < out_per_group; ++o) {
            for (int i = 0; i < k.kernel_h; ++i) {
              for (int j = 0; j < k.kernel_w; ++j) {
                const int oy = iy * k.stride_h - k.pad_h + i * k.dilation_h;
                const int ox = ix * k.stride_w - k.pad_w + j * k.dilation_w;
                if (oy < 0 || oy >= oh_size || ox < 0 || ox >= ow_size) continue;
                const int oc = g * out_per_group + o;
                y[((static_cast<size_t>(n) * k.num_output + oc) * oh_size + oy) * ow_size + ox] +=
                    value * wd[((c * out_per_group + o) * k.kernel_h + i) * k.kernel_w + j];
              }
            }
          }
        }
      }
    }
  }
  if (bias != nullptr) {
    for (int n = 0; n < k.num; ++n) {
      for (int o = 0; o < k.num_output; ++o) {
        for (int s = 0; s < oh_size * ow_size; ++s) {
          y[(static_cast<size_t>(n) * k.num_output + o) * oh_size * ow_size + s] +=
              bias->cpu_data()[o];
        }
      }
    }
  }
  return std::vector<float>(y.begin(), y.end());
}

float MaxRelativeError(const float* a, const float* b, int n) {
  float worst = 0.f;
  for (int i = 0; i < n; ++i) {
    worst = std::max(worst, std::fabs(a[i] - b[i]) / std::max(1.f, std::fabs(a[i])));
  }
  return worst;
}

using Maker = std::unique_ptr<Layer> (*)(const caffe::LayerParameter&);

std::unique_ptr<Layer> MakeReference(const caffe::LayerParameter& param) {
  return std::make_unique<DeconvolutionLayer>(param);
}

std::unique_ptr<Layer> MakeDnnl(const caffe::LayerParameter& param) {
  return std::make_unique<DnnlDeconvolutionLayer>(param);
}

void CheckForwardAgainstScatter(Maker make, const DeconvCase& k) {
  SCOPED_TRACE(k.ToString());
  Blob bottom({k.num, k.channels, k.height, k.width});
  Blob top;
  FillUniform(&bottom, -1.f, 1.f, 17);
  auto layer = make(DeconvParam(k));
  layer->SetUp({&bottom}, {&top});
  ASSERT_EQ(top.shape(), (std::vector<int>{k.num, k.num_output, k.OutHeight(), k.OutWidth()}));
  ASSERT_EQ(layer->blobs().size(), k.bias ? 2u : 1u);
  EXPECT_EQ(layer->blobs()[0]->shape(), (std::vector<int>{k.channels, k.num_output / k.group,
                                                          k.kernel_h, k.kernel_w}));
  if (k.bias) {
    EXPECT_EQ(layer->blobs()[1]->shape(), std::vector<int>{k.num_output});
  }
  FillUniform(layer->blobs()[0].get(), -1.f, 1.f, 23);
  if (k.bias) FillUniform(layer->blobs()[1].get(), -1.f, 1.f, 29);
  layer->Forward({&bottom}, {&top});
  const std::vector<float> expected =
      ScatterDeconv(k, bottom, *layer->blobs()[0], k.bias ? layer->blobs()[1].get() : nullptr);
  ASSERT_EQ(static_cast<int>(expected.size()), top.count());
  EXPECT_LT(MaxRelativeError(expected.data(), top.cpu_data(), top.count()), 1e-5f);
}

std::vector<DeconvCase> Matrix() {
  std::vector<DeconvCase> cases;
  for (int group : {1, 2}) {
    for (int stride : {1, 2, 3}) {
      for (int pad : {0, 1, 2}) {
        for (int dilation : {1, 2}) {
          for (int kernel : {1, 3, 4}) {
            for (bool bias : {true, false}) {
              DeconvCase k{2, 4, 5, 4, 6, group, kernel, kernel, pad, pad,
                           stride, stride, dilation, dilation, bias};
              if (k.Valid()) cases.push_back(k);
            }
          }
        }
      }
    }
  }
  // Rectangular geometry, depthwise, and a 1×1 layer (no col2im).
  cases.push_back({2, 4, 5, 6, 6, 2, 3, 5, 1, 2, 1, 2, 1, 1, true});
  cases.push_back({1, 3, 4, 3, 5, 1, 5, 2, 2, 0, 3, 1, 2, 1, true});
  cases.push_back({3, 6, 4, 5, 9, 3, 2, 4, 0, 1, 2, 3, 1, 2, false});
  cases.push_back({2, 6, 5, 5, 6, 6, 3, 3, 1, 1, 2, 2, 1, 1, true});
  cases.push_back({2, 5, 3, 4, 7, 1, 1, 1, 0, 0, 1, 1, 1, 1, true});
  // Padding that trims everything but one output cell.
  cases.push_back({1, 2, 1, 1, 3, 1, 3, 3, 1, 1, 1, 1, 1, 1, true});
  cases.push_back({2, 2, 2, 3, 3, 1, 3, 3, 2, 2, 2, 2, 1, 1, false});
  return cases;
}

TEST(DeconvolutionLayerTest, ReferenceMatchesScatter) {
  for (const DeconvCase& k : Matrix()) CheckForwardAgainstScatter(&MakeReference, k);
}

TEST(DeconvolutionLayerTest, DnnlMatchesScatter) {
  for (const DeconvCase& k : Matrix()) CheckForwardAgainstScatter(&MakeDnnl, k);
}

// Deconvolution is the adjoint of Convolution with the same weights:
// <conv(u), v> = <u, deconv(v)> for any u, v.
TEST(DeconvolutionLayerTest, IsTheTransposeOfConvolution) {
  const DeconvCase k{2, 6, 4, 5, 4, 2, 3, 2, 1, 0, 2, 1, 2, 1, false};
  Blob v({k.num, k.channels, k.height, k.width}), deconv_top;
  FillUniform(&v, -1.f, 1.f, 3);
  DeconvolutionLayer deconv(DeconvParam(k));
  deconv.SetUp({&v}, {&deconv_top});
  FillUniform(deconv.blobs()[0].get(), -1.f, 1.f, 5);
  deconv.Forward({&v}, {&deconv_top});

  Blob u(deconv_top.shape()), conv_top;
  FillUniform(&u, -1.f, 1.f, 7);
  std::ostringstream text;
  text << "name: 'conv' type: 'Convolution' convolution_param { num_output: " << k.channels
       << " group: " << k.group << " bias_term: false kernel_h: " << k.kernel_h
       << " kernel_w: " << k.kernel_w << " pad_h: " << k.pad_h << " pad_w: " << k.pad_w
       << " stride_h: " << k.stride_h << " stride_w: " << k.stride_w
       << " dilation: " << k.dilation_h << " dilation: " << k.dilation_w << " }";
  ConvolutionLayer conv(LayerFromText(text.str()));
  conv.SetUp({&u}, {&conv_top});
  ASSERT_EQ(conv_top.shape(), v.shape());
  ASSERT_EQ(conv.blobs()[0]->shape(), deconv.blobs()[0]->shape());
  conv.blobs()[0]->ShareData(*deconv.blobs()[0]);
  conv.Forward({&u}, {&conv_top});

  double lhs = 0, rhs = 0;
  for (int i = 0; i < v.count(); ++i) lhs += static_cast<double>(conv_top.cpu_data()[i]) * v.cpu_data()[i];
  for (int i = 0; i < u.count(); ++i) rhs += static_cast<double>(u.cpu_data()[i]) * deconv_top.cpu_data()[i];
  EXPECT_NEAR(lhs, rhs, 1e-4 * std::max(1.0, std::fabs(lhs)));
}

std::vector<DeconvCase> GradientCases() {
  return {
      {2, 3, 3, 4, 2, 1, 3, 3, 0, 0, 1, 1, 1, 1, true},
      {2, 4, 3, 3, 4, 2, 3, 3, 1, 1, 2, 2, 1, 1, true},
      {1, 2, 4, 3, 3, 1, 3, 2, 2, 1, 1, 2, 2, 1, false},
      {1, 4, 3, 3, 4, 4, 3, 3, 1, 1, 2, 2, 2, 2, true},  // depthwise, dilated
      {2, 3, 3, 3, 2, 1, 1, 1, 0, 0, 1, 1, 1, 1, true},
      {1, 2, 3, 2, 2, 2, 4, 4, 1, 1, 3, 3, 1, 1, false},
  };
}

void CheckGradients(Maker make, const std::vector<DeconvCase>& cases) {
  for (const DeconvCase& k : cases) {
    SCOPED_TRACE(k.ToString());
    Blob bottom({k.num, k.channels, k.height, k.width}), top;
    FillUniform(&bottom, -1.f, 1.f, 41);
    auto layer = make(DeconvParam(k));
    testing::GradientChecker checker(1e-2f, 1e-2f);
    checker.CheckGradient(layer.get(), {&bottom}, {&top});
  }
  // Every output element separately, on a tiny case.
  const DeconvCase k{1, 2, 2, 3, 2, 2, 3, 2, 1, 0, 2, 1, 1, 1, true};
  Blob bottom({k.num, k.channels, k.height, k.width}), top;
  FillUniform(&bottom, -1.f, 1.f, 43);
  auto layer = make(DeconvParam(k));
  testing::GradientChecker checker(1e-2f, 1e-3f);
  checker.CheckGradientExhaustive(layer.get(), {&bottom}, {&top});
}

TEST(DeconvolutionLayerTest, ReferenceGradient) {
  CheckGradients(&MakeReference, GradientCases());
}

// Fewer, single-image cases: DnnlMatchesReference compares the full backward pass, and each
// checked value here costs two Forwards of oneDNN primitives.
TEST(DeconvolutionLayerTest, DnnlGradient) {
  CheckGradients(&MakeDnnl, {
                                {1, 3, 3, 4, 2, 1, 3, 3, 0, 0, 1, 1, 1, 1, true},
                                {1, 4, 3, 3, 4, 2, 3, 3, 1, 1, 2, 2, 1, 1, true},
                                {1, 4, 3, 3, 4, 4, 3, 3, 1, 1, 2, 2, 2, 2, true},
                            });
}

// Forward, input gradient and parameter gradients of both engines on the same data, on
// sizes closer to real layers (an FCN-style 2× upsampling among them).
TEST(DeconvolutionLayerTest, DnnlMatchesReference) {
  for (const DeconvCase& k : std::vector<DeconvCase>{
           {4, 20, 9, 8, 12, 1, 4, 4, 1, 1, 2, 2, 1, 1, true},
           {2, 21, 7, 7, 21, 21, 4, 4, 1, 1, 2, 2, 1, 1, false},
           {2, 16, 6, 5, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, true},
           {1, 8, 6, 5, 8, 8, 3, 3, 2, 1, 1, 3, 2, 1, true},
           {2, 32, 6, 7, 16, 4, 3, 3, 1, 1, 2, 2, 2, 2, true},
           {3, 16, 5, 5, 24, 2, 3, 2, 0, 1, 1, 3, 1, 1, true}}) {
    SCOPED_TRACE(k.ToString());
    const caffe::LayerParameter param = DeconvParam(k);
    Blob bottom({k.num, k.channels, k.height, k.width}), ref_top, dnnl_top;
    Blob top_diff({k.num, k.num_output, k.OutHeight(), k.OutWidth()});
    FillUniform(&bottom, -1.f, 1.f, 131);
    FillUniform(&top_diff, -1.f, 1.f, 137);
    DeconvolutionLayer reference(param);
    DnnlDeconvolutionLayer dnnl(param);
    reference.SetUp({&bottom}, {&ref_top});
    dnnl.SetUp({&bottom}, {&dnnl_top});
    // oneDNN's own reference kernels would be correct but slow.
    EXPECT_EQ(dnnl.implementation().find("ref"), std::string::npos) << dnnl.implementation();
    const bool depthwise = k.group == k.channels && k.num_output == k.channels;
    EXPECT_EQ(dnnl.implementation() == "direct depthwise (NCHW)", depthwise)
        << dnnl.implementation();
    for (size_t i = 0; i < reference.blobs().size(); ++i) {
      FillUniform(reference.blobs()[i].get(), -0.5f, 0.5f, 139 + static_cast<unsigned>(i));
      dnnl.blobs()[i]->ShareData(*reference.blobs()[i]);
    }
    std::vector<std::vector<float>> results[2];
    int run = 0;
    for (Layer* layer : {static_cast<Layer*>(&reference), static_cast<Layer*>(&dnnl)}) {
      Blob& top = run == 0 ? ref_top : dnnl_top;
      layer->Forward({&bottom}, {&top});
      std::copy(top_diff.cpu_data(), top_diff.cpu_data() + top_diff.count(),
                top.mutable_cpu_diff());
      for (auto& blob : layer->blobs()) {
        std::fill(blob->mutable_cpu_diff(), blob->mutable_cpu_diff() + blob->count(), 0.f);
      }
      layer->Backward({&top}, {true}, {&bottom});
      results[run].emplace_back(top.cpu_data(), top.cpu_data() + top.count());
      results[run].emplace_back(bottom.cpu_diff(), bottom.cpu_diff() + bottom.count());
      for (auto& blob : layer->blobs()) {
        results[run].emplace_back(blob->cpu_diff(), blob->cpu_diff() + blob->count());
      }
      ++run;
    }
    const char* names[] = {"top", "bottom diff", "weight diff", "bias diff"};
    for (size_t r = 0; r < results[0].size(); ++r) {
      float largest = 1.f;
      for (float v : results[0][r]) largest = std::max(largest, std::fabs(v));
      for (size_t j = 0; j < results[0][r].size(); ++j) {
        ASSERT_NEAR(results[0][r][j], results[1][r][j], 1e-5f * largest)
            << names[r] << " element " << j;
      }
    }
  }
}

TEST(DeconvolutionLayerTest, SeveralBottomsShareWeights) {
  const DeconvCase k{2, 4, 3, 4, 4, 2, 3, 3, 1, 1, 2, 2, 1, 1, true};
  for (Maker make : {&MakeReference, &MakeDnnl}) {
    Blob a({2, 4, 3, 4}), b({2, 4, 3, 4}), top_a, top_b;
    FillUniform(&a, -1.f, 1.f, 5);
    FillUniform(&b, -1.f, 1.f, 6);
    auto layer = make(DeconvParam(k));
    layer->SetUp({&a, &b}, {&top_a, &top_b});
    layer->Forward({&a, &b}, {&top_a, &top_b});
    const auto expect_a = ScatterDeconv(k, a, *layer->blobs()[0], layer->blobs()[1].get());
    const auto expect_b = ScatterDeconv(k, b, *layer->blobs()[0], layer->blobs()[1].get());
    EXPECT_LT(MaxRelativeError(expect_a.data(), top_a.cpu_data(), top_a.count()), 1e-5f);
    EXPECT_LT(MaxRelativeError(expect_b.data(), top_b.cpu_data(), top_b.count()), 1e-5f);
    testing::GradientChecker checker(1e-2f, 1e-2f);
    checker.CheckGradient(layer.get(), {&a, &b}, {&top_a, &top_b});
  }
}

TEST(DeconvolutionLayerTest, ChannelAxisFlattensLeadingAxes) {
  const DeconvCase k{6, 4, 3, 4, 4, 2, 3, 3, 1, 1, 2, 2, 1, 1, true};
  Blob bottom({2, 3, 4, 3, 4}), flat({6, 4, 3, 4}), top;
  FillUniform(&bottom, -1.f, 1.f, 3);
  std::copy(bottom.cpu_data(), bottom.cpu_data() + bottom.count(), flat.mutable_cpu_data());
  DeconvolutionLayer layer(DeconvParam(k, "axis: 2"));
  layer.SetUp({&bottom}, {&top});
  EXPECT_EQ(top.shape(), (std::vector<int>{2, 3, 4, k.OutHeight(), k.OutWidth()}));
  layer.Forward({&bottom}, {&top});
  const auto expected = ScatterDeconv(k, flat, *layer.blobs()[0], layer.blobs()[1].get());
  EXPECT_LT(MaxRelativeError(expected.data(), top.cpu_data(), top.count()), 1e-5f);
}

TEST(DeconvolutionLayerTest, BilinearFillerUpsamples) {
  // The classic FCN upsampling layer: group = C, kernel 2s − s%2, stride s, pad ⌈(s−1)/2⌉.
  const caffe::LayerParameter param = LayerFromText(
      "name: 'up' type: 'Deconvolution' convolution_param { num_output: 2 group: 2 "
      "kernel_size: 4 stride: 2 pad: 1 bias_term: false weight_filler { type: 'bilinear' } }");
  DeconvolutionLayer layer(param);
  Blob bottom({1, 2, 3, 3}), top;
  for (int i = 0; i < bottom.count(); ++i) bottom.mutable_cpu_data()[i] = (i < 9) ? 1.f : 2.f;
  layer.SetUp({&bottom}, {&top});
  ASSERT_EQ(top.shape(), (std::vector<int>{1, 2, 6, 6}));
  layer.Forward({&bottom}, {&top});
  // A constant image stays constant away from the border.
  for (int y = 1; y < 5; ++y) {
    for (int x = 1; x < 5; ++x) {
      EXPECT_NEAR(top.cpu_data()[y * 6 + x], 1.f, 1e-6f);
      EXPECT_NEAR(top.cpu_data()[36 + y * 6 + x], 2.f, 1e-6f);
    }
  }
}

void ExpectSetUpError(Maker make, const std::string& body, const std::vector<int>& shape,
                      ErrorCode code, const std::string& needle) {
  SCOPED_TRACE(body);
  auto layer = make(LayerFromText(
      "name: 'deconv' type: 'Deconvolution' convolution_param { " + body + " }"));
  Blob bottom(shape), top;
  testing::ExpectError([&] { layer->SetUp({&bottom}, {&top}); }, code,
                       {"Layer 'deconv' (Deconvolution)", needle});
}

void CheckBadParameters(Maker make) {
  const std::vector<int> shape{2, 6, 4, 4};
  const ErrorCode invalid = ErrorCode::kInvalidArgument;
  ExpectSetUpError(make, "num_output: 4 kernel_size: 3 group: 4", shape, invalid,
                   "does not divide the 6 input channels");
  ExpectSetUpError(make, "num_output: 5 kernel_size: 3 group: 3", shape, invalid,
                   "does not divide num_output 5");
  ExpectSetUpError(make, "num_output: 4 kernel_size: 3 group: 0", shape, invalid,
                   "group must be positive");
  ExpectSetUpError(make, "num_output: 0 kernel_size: 3", shape, invalid, "num_output");
  ExpectSetUpError(make, "num_output: 4", shape, invalid, "kernel_size");
  ExpectSetUpError(make, "num_output: 4 kernel_size: 3 stride: 0", shape, invalid,
                   "stride must be positive");
  ExpectSetUpError(make, "num_output: 4 kernel_size: 3 pad: 1 pad_h: 1", shape, invalid,
                   "not both");
  ExpectSetUpError(make, "num_output: 4 kernel_size: 1 pad: 1", {2, 6, 1, 1}, invalid,
                   "must be positive");
  ExpectSetUpError(make, "num_output: 4 kernel_size: 3 axis: 4", shape, invalid,
                   "out of range");
  ExpectSetUpError(make, "num_output: 4 kernel_size: 3", {2, 6, 4, 4, 4},
                   ErrorCode::kUnsupported, "only 2-D deconvolution is supported");
}

TEST(DeconvolutionLayerTest, ReferenceBadParametersNameTheLayer) {
  CheckBadParameters(&MakeReference);
}

TEST(DeconvolutionLayerTest, DnnlBadParametersNameTheLayer) { CheckBadParameters(&MakeDnnl); }

TEST(DeconvolutionLayerTest, InputShapeChangesAreChecked) {
  const DeconvCase k{2, 4, 3, 3, 4, 1, 3, 3, 0, 0, 2, 2, 1, 1, true};
  for (Maker make : {&MakeReference, &MakeDnnl}) {
    auto layer = make(DeconvParam(k));
    Blob bottom({2, 4, 3, 3}), top;
    layer->SetUp({&bottom}, {&top});
    bottom.Reshape({2, 5, 3, 3});
    testing::ExpectError([&] { layer->Forward({&bottom}, {&top}); },
                         ErrorCode::kInvalidArgument,
                         {"Layer 'deconv' (Deconvolution)", "channels"});
    // A new batch and image size are fine (oneDNN rebuilds its primitives).
    DeconvCase bigger = k;
    bigger.num = 3;
    bigger.height = 4;
    bigger.width = 2;
    bottom.Reshape({3, 4, 4, 2});
    FillUniform(&bottom, -1.f, 1.f, 9);
    layer->Forward({&bottom}, {&top});
    const auto expected =
        ScatterDeconv(bigger, bottom, *layer->blobs()[0], layer->blobs()[1].get());
    ASSERT_EQ(top.shape(), (std::vector<int>{3, 4, bigger.OutHeight(), bigger.OutWidth()}));
    EXPECT_LT(MaxRelativeError(expected.data(), top.cpu_data(), top.count()), 1e-5f);
  }
}

// Every `engine` gets the fast implementation on the CPU (as in Caffe, where the field only
// matters on the GPU); the registry's reference implementation is the plain one.
TEST(DeconvolutionLayerTest, ImplementationIsChosenAtCreation) {
  const DeconvCase k{1, 2, 3, 3, 2, 1, 3, 3, 0, 0, 1, 1, 1, 1, true};
  const LayerRegistry& registry = LayerRegistry::Global();
  for (const char* engine : {"", "engine: CAFFE", "engine: CUDNN"}) {
    SCOPED_TRACE(engine);
    auto fast = registry.Create(DeconvParam(k, engine));
    EXPECT_NE(dynamic_cast<DnnlDeconvolutionLayer*>(fast.get()), nullptr);
    auto reference = registry.Create(DeconvParam(k, engine), LayerImplementation::kReference);
    EXPECT_NE(dynamic_cast<DeconvolutionLayer*>(reference.get()), nullptr);
    EXPECT_EQ(dynamic_cast<DnnlDeconvolutionLayer*>(reference.get()), nullptr);
    EXPECT_EQ(std::string(fast->type()), "Deconvolution");
  }
}

}  // namespace
}  // namespace crema
