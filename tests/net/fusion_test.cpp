// Net::FuseForInference: a convolution followed in place by BatchNorm (global statistics),
// Scale and ReLU computes, with those layers folded into it, what the unfused layers compute —
// on a small net covering every pattern, and on the ResNet-50 and MobileNet v1 examples
// against the reference layers.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "crema/core/error.h"
#include "crema/net/net.h"
#include "crema/net/net_file.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::FillUniform;
using testing::CopyWeights;
using testing::ExpectError;
using testing::NetFromText;
using testing::SourceDir;

// ||a − b|| / ||b||.
double RelativeError(const Blob& a, const Blob& b) {
  double diff = 0, norm = 0;
  for (int i = 0; i < b.count(); ++i) {
    const double d = static_cast<double>(a.cpu_data()[i]) - b.cpu_data()[i];
    diff += d * d;
    norm += static_cast<double>(b.cpu_data()[i]) * b.cpu_data()[i];
  }
  return std::sqrt(diff / std::max(norm, 1e-30));
}

// Statistics of a trained net: means near 0, variances near 1, an accumulated factor.
void RandomizeStatistics(Net* net, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> mean(-0.2f, 0.2f), variance(0.5f, 2.f);
  for (const auto& layer : net->layers()) {
    if (std::string(layer->type()) != "BatchNorm") continue;
    auto& blobs = layer->blobs();
    const float factor = 4.f;
    for (int c = 0; c < blobs[0]->count(); ++c) {
      blobs[0]->mutable_cpu_data()[c] = factor * mean(rng);
      blobs[1]->mutable_cpu_data()[c] = factor * variance(rng);
    }
    blobs[2]->mutable_cpu_data()[0] = factor;
  }
}

// Every pattern: BatchNorm + Scale + ReLU; Scale without bias + leaky ReLU; a depthwise
// convolution with BatchNorm + ReLU; a lone ReLU; a BatchNorm that is not in place (not
// folded: its input stays visible); a convolution whose folded output feeds two layers; and
// sums of two and three bottoms with a ReLU (folded), a product with one (not folded).
const char* const kFusableNet = R"(
  name: 'fusable' state { phase: TEST }
  layer { name: 'data' type: 'Input' top: 'data' input_param { shape { dim: 2 dim: 4 dim: 10 dim: 10 } } }
  layer { name: 'c1' type: 'Convolution' bottom: 'data' top: 'c1'
          convolution_param { num_output: 8 kernel_size: 3 pad: 1 weight_filler { type: 'gaussian' std: 0.3 } } }
  layer { name: 'bn1' type: 'BatchNorm' bottom: 'c1' top: 'c1' }
  layer { name: 's1' type: 'Scale' bottom: 'c1' top: 'c1'
          scale_param { bias_term: true filler { type: 'uniform' min: 0.5 max: 1.5 }
                        bias_filler { type: 'uniform' min: -0.5 max: 0.5 } } }
  layer { name: 'r1' type: 'ReLU' bottom: 'c1' top: 'c1' }
  layer { name: 'c2' type: 'Convolution' bottom: 'c1' top: 'c2'
          convolution_param { num_output: 8 kernel_size: 1 bias_term: false weight_filler { type: 'gaussian' std: 0.3 } } }
  layer { name: 's2' type: 'Scale' bottom: 'c2' top: 'c2' scale_param { filler { type: 'uniform' min: -1 max: 1 } } }
  layer { name: 'r2' type: 'ReLU' bottom: 'c2' top: 'c2' relu_param { negative_slope: 0.1 } }
  layer { name: 'dw' type: 'Convolution' bottom: 'c2' top: 'dw'
          convolution_param { num_output: 8 group: 8 kernel_size: 3 pad: 1 weight_filler { type: 'gaussian' std: 0.3 } } }
  layer { name: 'bn3' type: 'BatchNorm' bottom: 'dw' top: 'dw' }
  layer { name: 'r3' type: 'ReLU' bottom: 'dw' top: 'dw' }
  layer { name: 'c4' type: 'Convolution' bottom: 'dw' top: 'c4'
          convolution_param { num_output: 6 kernel_size: 1 weight_filler { type: 'gaussian' std: 0.3 } } }
  layer { name: 'r4' type: 'ReLU' bottom: 'c4' top: 'c4' }
  layer { name: 'c5' type: 'Convolution' bottom: 'c4' top: 'c5'
          convolution_param { num_output: 6 kernel_size: 1 weight_filler { type: 'gaussian' std: 0.3 } } }
  layer { name: 'bn5' type: 'BatchNorm' bottom: 'c5' top: 'n5' }
  layer { name: 'sum' type: 'Eltwise' bottom: 'c5' bottom: 'n5' top: 'sum' }
  layer { name: 'rs' type: 'ReLU' bottom: 'sum' top: 'sum' relu_param { negative_slope: 0.2 } }
  layer { name: 'sum3' type: 'Eltwise' bottom: 'c5' bottom: 'n5' bottom: 'sum' top: 'sum3'
          eltwise_param { coeff: 1 coeff: -2 coeff: 0.5 } }
  layer { name: 'rs3' type: 'ReLU' bottom: 'sum3' top: 'sum3' }
  layer { name: 'prod' type: 'Eltwise' bottom: 'c5' bottom: 'n5' top: 'prod'
          eltwise_param { operation: PROD } }
  layer { name: 'rp' type: 'ReLU' bottom: 'prod' top: 'prod' }
)";

TEST(FuseForInferenceTest, FoldedLayersComputeWhatTheyDid) {
  Net plain(NetFromText(kFusableNet));
  Net fused(NetFromText(kFusableNet));
  RandomizeStatistics(&plain, 3);
  CopyWeights(plain, &fused);
  fused.PlanMemory({.training = false, .keep = {"c1", "c2", "sum"}});
  // bn1 s1 r1, s2 r2, bn3 r3, r4, rs, rs3; not bn5 (out of place), not rp (after a PROD).
  EXPECT_EQ(fused.FuseForInference(), 10);

  for (unsigned batch = 1; batch <= 2; ++batch) {
    SCOPED_TRACE(batch);
    for (Net* net : {&plain, &fused}) {
      FillUniform(net->blob_by_name("data"), -1.f, 1.f, batch);
      net->Forward();
    }
    for (const char* blob : {"c1", "c2", "sum", "sum3", "prod"}) {
      EXPECT_LT(RelativeError(*fused.blob_by_name(blob), *plain.blob_by_name(blob)), 1e-6) << blob;
    }
    // Parameters shared with a training net change between Forwards; the fold follows them.
    for (Net* net : {&plain, &fused}) {
      Layer* scale = net->layer_by_name("s1");
      scale->blobs()[0]->mutable_cpu_data()[3] = -0.7f;
      Layer* bn = net->layer_by_name("bn3");
      bn->blobs()[1]->mutable_cpu_data()[2] *= 3.f;
    }
  }
  ExpectError([&] { fused.layer_by_name("c1")->Backward({}, {}, {}); }, ErrorCode::kInvalidArgument,
              {"c1", "Forward only"});
  ExpectError([&] { fused.layer_by_name("sum")->Backward({}, {}, {}); },
              ErrorCode::kInvalidArgument, {"sum", "Forward only"});
}

// Only layers that accept an epilogue fold one: the reference convolution does not (the
// Eltwise, which has one implementation, still takes its ReLUs).
TEST(FuseForInferenceTest, ReferenceLayersFoldOnlyTheSumsReLUs) {
  Net reference(NetFromText(kFusableNet), LayerImplementation::kReference);
  EXPECT_EQ(reference.FuseForInference(), 2);
}

// The zoo nets with BatchNorm, fused and memory-planned, against the reference layers.
class FusedExampleTest : public ::testing::TestWithParam<const char*> {};

TEST_P(FusedExampleTest, MatchesTheReferenceLayers) {
  caffe::NetParameter param = ReadNetFile(SourceDir() + "/" + GetParam());
  param.mutable_state()->set_phase(caffe::TEST);
  for (caffe::LayerParameter& layer : *param.mutable_layer()) {
    // Deploy files have no fillers; all-zero weights would test nothing.
    if (layer.type() == "Convolution" && !layer.convolution_param().has_weight_filler()) {
      layer.mutable_convolution_param()->mutable_weight_filler()->set_type("msra");
    }
    if (layer.type() == "InnerProduct" && !layer.inner_product_param().has_weight_filler()) {
      layer.mutable_inner_product_param()->mutable_weight_filler()->set_type("xavier");
    }
  }
  Net reference(param, LayerImplementation::kReference);
  Net fused(param);
  RandomizeStatistics(&reference, 11);
  CopyWeights(reference, &fused);
  const std::string logits = fused.blob_names()[fused.blob_names().size() - 2];
  fused.PlanMemory({.training = false, .keep = {logits}});
  EXPECT_GT(fused.FuseForInference(), 0);
  for (Net* net : {&reference, &fused}) {
    FillUniform(net->blob_by_name("data"), 0.f, 1.f, 5);
    net->Forward();
  }
  EXPECT_LT(RelativeError(*fused.blob_by_name(logits), *reference.blob_by_name(logits)), 1e-4)
      << logits;
  EXPECT_LT(RelativeError(*fused.output_blobs()[0], *reference.output_blobs()[0]), 1e-4);
}

std::string ExampleName(const ::testing::TestParamInfo<const char*>& param) {
  return param.index == 0 ? "ResNet50" : "MobileNetV1";
}

INSTANTIATE_TEST_SUITE_P(Examples, FusedExampleTest,
                         ::testing::Values("examples/models/resnet50/deploy.prototxt",
                                           "examples/models/mobilenet_v1/deploy.prototxt"),
                         ExampleName);

}  // namespace
}  // namespace crema
