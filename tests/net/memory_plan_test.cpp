// The memory plan: PackBuffers never lets buffers that are alive at the same time overlap, and
// a planned net computes exactly what an unplanned one does while using far less memory.
#include "crema/net/memory_plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "crema/core/error.h"
#include "crema/net/net.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::FillUniform;
using testing::CopyWeights;
using testing::ExpectError;
using testing::NetFromText;

TEST(PackBuffersTest, BuffersAliveTogetherNeverOverlap) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> step(0, 60), length(0, 12), size(0, 5000);
  std::vector<BufferLifetime> buffers(300);
  for (BufferLifetime& b : buffers) {
    b.first = step(rng);
    b.last = b.first + length(rng);
    b.bytes = static_cast<size_t>(size(rng));
  }
  const BufferPlacement placement = PackBuffers(buffers, 64);
  ASSERT_EQ(placement.offsets.size(), buffers.size());
  auto rounded = [](size_t bytes) { return (bytes + 63) / 64 * 64; };
  size_t total = 0;
  for (size_t i = 0; i < buffers.size(); ++i) {
    EXPECT_EQ(placement.offsets[i] % 64, 0u);
    EXPECT_LE(placement.offsets[i] + rounded(buffers[i].bytes), placement.arena_bytes);
    total += rounded(buffers[i].bytes);
    for (size_t j = 0; j < i; ++j) {
      const bool together = buffers[i].first <= buffers[j].last && buffers[j].first <= buffers[i].last;
      if (!together || buffers[i].bytes == 0 || buffers[j].bytes == 0) continue;
      const size_t a0 = placement.offsets[i], a1 = a0 + rounded(buffers[i].bytes);
      const size_t b0 = placement.offsets[j], b1 = b0 + rounded(buffers[j].bytes);
      EXPECT_TRUE(a1 <= b0 || b1 <= a0) << "buffers " << i << " and " << j << " overlap";
    }
  }
  // No better than the peak of live bytes, and much better than one buffer each.
  size_t peak = 0;
  for (int t = 0; t <= 72; ++t) {
    size_t live = 0;
    for (const BufferLifetime& b : buffers) {
      if (b.first <= t && t <= b.last) live += rounded(b.bytes);
    }
    peak = std::max(peak, live);
  }
  EXPECT_GE(placement.arena_bytes, peak);
  EXPECT_LT(placement.arena_bytes, total / 3);
}

TEST(PackBuffersTest, BuffersAliveApartShareMemory) {
  const BufferPlacement placement = PackBuffers({{1000, 0, 1}, {1000, 2, 3}, {500, 1, 2}}, 64);
  EXPECT_EQ(placement.offsets[0], placement.offsets[1]);
  EXPECT_EQ(placement.arena_bytes, 1024u + 512u);
}

// A small residual net with every kind of sharing the plan must respect: in-place chains
// (BatchNorm → Scale → ReLU), Splits, a Concat, a Flatten (shares data and diff), a loss top
// with its weight in the diff, a consumer with propagate_down false, and two outputs.
const char* const kResidualNet = R"(
  name: 'residual'
  layer { name: 'data' type: 'Input' top: 'data' top: 'label'
          input_param { shape { dim: 4 dim: 3 dim: 12 dim: 12 } shape { dim: 4 } } }
  layer { name: 'conv1' type: 'Convolution' bottom: 'data' top: 'conv1'
          convolution_param { num_output: 8 kernel_size: 3 pad: 1
                              weight_filler { type: 'gaussian' std: 0.2 } } }
  layer { name: 'bn1' type: 'BatchNorm' bottom: 'conv1' top: 'conv1' }
  layer { name: 'scale1' type: 'Scale' bottom: 'conv1' top: 'conv1'
          scale_param { bias_term: true filler { type: 'uniform' min: 0.5 max: 1.5 } } }
  layer { name: 'relu1' type: 'ReLU' bottom: 'conv1' top: 'conv1' }
  layer { name: 'branch' type: 'Convolution' bottom: 'conv1' top: 'branch'
          convolution_param { num_output: 8 kernel_size: 1
                              weight_filler { type: 'gaussian' std: 0.3 } } }
  layer { name: 'bn2' type: 'BatchNorm' bottom: 'branch' top: 'branch' }
  layer { name: 'scale2' type: 'Scale' bottom: 'branch' top: 'branch'
          scale_param { bias_term: true } }
  layer { name: 'sum' type: 'Eltwise' bottom: 'conv1' bottom: 'branch' top: 'sum' }
  layer { name: 'relu2' type: 'ReLU' bottom: 'sum' top: 'sum' }
  layer { name: 'pool' type: 'Pooling' bottom: 'sum' top: 'pool'
          pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
  layer { name: 'conv3' type: 'Convolution' bottom: 'pool' top: 'conv3'
          convolution_param { num_output: 4 kernel_size: 3 pad: 1
                              weight_filler { type: 'gaussian' std: 0.2 } } }
  layer { name: 'side' type: 'Convolution' bottom: 'pool' top: 'side' propagate_down: false
          convolution_param { num_output: 2 kernel_size: 1
                              weight_filler { type: 'gaussian' std: 0.2 } } }
  layer { name: 'cat' type: 'Concat' bottom: 'conv3' bottom: 'side' top: 'cat' }
  layer { name: 'flat' type: 'Flatten' bottom: 'cat' top: 'flat' }
  layer { name: 'ip' type: 'InnerProduct' bottom: 'flat' top: 'ip'
          inner_product_param { num_output: 5 weight_filler { type: 'gaussian' std: 0.1 } } }
  layer { name: 'loss' type: 'SoftmaxWithLoss' bottom: 'ip' bottom: 'label' top: 'loss'
          loss_weight: 2 }
  layer { name: 'acc' type: 'Accuracy' bottom: 'ip' bottom: 'label' top: 'acc' }
)";

caffe::NetParameter ResidualNet(caffe::Phase phase) {
  caffe::NetParameter param = NetFromText(kResidualNet);
  param.mutable_state()->set_phase(phase);
  return param;
}

void FillInputs(Net* net, unsigned seed) {
  FillUniform(net->blob_by_name("data"), -1.f, 1.f, seed);
  float* label = net->blob_by_name("label")->mutable_cpu_data();
  for (int i = 0; i < 4; ++i) label[i] = static_cast<float>((i + seed) % 5);
}

std::vector<float> Values(const Blob& blob, bool diff) {
  const float* p = diff ? blob.cpu_diff() : blob.cpu_data();
  return std::vector<float>(p, p + blob.count());
}

TEST(NetMemoryPlanTest, TrainingComputesExactlyWhatAnUnplannedNetDoes) {
  Net reference(ResidualNet(caffe::TRAIN));
  Net planned(ResidualNet(caffe::TRAIN));
  CopyWeights(reference, &planned);
  const Net::MemoryPlan plan = planned.PlanMemory({.training = true, .keep = {}});
  EXPECT_GT(plan.data_blobs, 0);
  EXPECT_GT(plan.diff_blobs, 0);
  EXPECT_LT(plan.arena_bytes, plan.separate_bytes);

  for (unsigned iteration = 1; iteration <= 3; ++iteration) {
    SCOPED_TRACE(iteration);
    for (Net* net : {&reference, &planned}) {
      FillInputs(net, iteration);
      net->ClearParamDiffs();
      net->ForwardBackward();
    }
    for (const char* output : {"loss", "acc"}) {
      EXPECT_EQ(Values(*planned.blob_by_name(output), false),
                Values(*reference.blob_by_name(output), false)) << output;
    }
    for (size_t p = 0; p < reference.learnable_params().size(); ++p) {
      EXPECT_EQ(Values(*planned.learnable_params()[p], true),
                Values(*reference.learnable_params()[p], true))
          << "gradient of parameter " << p;
    }
    // Net inputs keep their own memory (callers fill them before every Forward).
    EXPECT_EQ(Values(*planned.blob_by_name("data"), false),
              Values(*reference.blob_by_name("data"), false));
  }
}

TEST(NetMemoryPlanTest, InferenceKeepsOutputsAndTheBlobsAskedFor) {
  Net reference(ResidualNet(caffe::TEST));
  Net planned(ResidualNet(caffe::TEST));
  CopyWeights(reference, &planned);
  const Net::MemoryPlan plan = planned.PlanMemory({.training = false, .keep = {"pool"}});
  EXPECT_GT(plan.data_blobs, 0);
  EXPECT_EQ(plan.diff_blobs, 0);
  EXPECT_LT(plan.arena_bytes, plan.separate_bytes);
  for (unsigned batch = 1; batch <= 2; ++batch) {
    for (Net* net : {&reference, &planned}) {
      FillInputs(net, batch);
      net->Forward();
    }
    for (const char* blob : {"loss", "acc", "pool"}) {
      EXPECT_EQ(Values(*planned.blob_by_name(blob), false),
                Values(*reference.blob_by_name(blob), false)) << blob;
    }
  }
  // Forward-only: nothing runs Backward any more.
  for (bool need : planned.layer_need_backward()) EXPECT_FALSE(need);
}

// At inference a chain of layers runs in the memory of two activations, however long it is.
TEST(NetMemoryPlanTest, AnInferenceChainRunsInTwoActivations) {
  std::string text = R"(
    name: 'chain'
    layer { name: 'data' type: 'Input' top: 'x0' input_param { shape { dim: 2 dim: 8 dim: 16 dim: 16 } } })";
  const int depth = 12;
  for (int i = 1; i <= depth; ++i) {
    const std::string in = StrCat("x", i - 1), out = StrCat("x", i);
    text += StrCat("layer { name: 'conv", i, "' type: 'Convolution' bottom: '", in, "' top: '", out,
                   "' convolution_param { num_output: 8 kernel_size: 1 } }");
    text += StrCat("layer { name: 'relu", i, "' type: 'ReLU' bottom: '", out, "' top: '", out, "' }");
  }
  Net net(NetFromText(text));
  const size_t activation = 2 * 8 * 16 * 16 * sizeof(float);
  const Net::MemoryPlan plan = net.PlanMemory({.training = false, .keep = {}});
  EXPECT_EQ(plan.data_blobs, depth - 1);  // not the input, not the output
  EXPECT_EQ(plan.separate_bytes, (depth - 1) * activation);
  EXPECT_EQ(plan.arena_bytes, 2 * activation);
}

// An in-place Scale after a BatchNorm reads the BatchNorm's kept output instead of copying its
// input: the gradients equal those of the same layers run out of place.
TEST(NetKeptCopiesTest, InPlaceScaleAfterBatchNormMatchesOutOfPlace) {
  auto net_text = [](bool in_place) {
    const std::string bn_top = in_place ? "x" : "n", scale_top = in_place ? "x" : "s";
    return StrCat(R"(
      name: 'bn_scale' force_backward: true state { phase: TRAIN }
      layer { name: 'data' type: 'Input' top: 'x' top: 'label'
              input_param { shape { dim: 3 dim: 4 dim: 5 dim: 5 } shape { dim: 3 } } }
      layer { name: 'bn' type: 'BatchNorm' bottom: 'x' top: ')", bn_top, R"(' }
      layer { name: 'scale' type: 'Scale' bottom: ')", bn_top, "' top: '", scale_top, R"('
              scale_param { bias_term: true filler { type: 'uniform' min: 0.5 max: 2 }
                            bias_filler { type: 'uniform' min: -1 max: 1 } } }
      layer { name: 'relu' type: 'ReLU' bottom: ')", scale_top, "' top: '", scale_top, R"(' }
      layer { name: 'ip' type: 'InnerProduct' bottom: ')", scale_top, R"(' top: 'ip'
              inner_product_param { num_output: 4 weight_filler { type: 'gaussian' std: 0.3 } } }
      layer { name: 'loss' type: 'SoftmaxWithLoss' bottom: 'ip' bottom: 'label' top: 'loss' })");
  };
  Net in_place(NetFromText(net_text(true)));
  Net out_of_place(NetFromText(net_text(false)));
  CopyWeights(out_of_place, &in_place);
  for (Net* net : {&in_place, &out_of_place}) {
    FillUniform(net->blob_by_name("x"), -2.f, 2.f, 5);
    float* label = net->blob_by_name("label")->mutable_cpu_data();
    for (int i = 0; i < 3; ++i) label[i] = static_cast<float>(i);
    net->ForwardBackward();
  }
  const std::vector<float> dx = Values(*out_of_place.blob_by_name("x"), true);
  const std::vector<float> dx_in_place = Values(*in_place.blob_by_name("x"), true);
  ASSERT_EQ(dx.size(), dx_in_place.size());
  for (size_t i = 0; i < dx.size(); ++i) EXPECT_NEAR(dx_in_place[i], dx[i], 1e-6f) << i;
  for (size_t p = 0; p < in_place.learnable_params().size(); ++p) {
    const std::vector<float> a = Values(*in_place.learnable_params()[p], true);
    const std::vector<float> b = Values(*out_of_place.learnable_params()[p], true);
    for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-6f) << "param " << p << "[" << i << "]";
  }
}

// A second plan would free the first arena under the blobs that use it.
TEST(NetMemoryPlanTest, PlanningTwiceIsRefused) {
  Net net(ResidualNet(caffe::TEST));
  net.PlanMemory({.training = false, .keep = {}});
  ExpectError([&] { net.PlanMemory({.training = false, .keep = {"pool"}}); },
              ErrorCode::kInvalidArgument, {"residual", "planned already"});
}

TEST(NetMemoryPlanTest, KeepingAnUnknownBlobIsRefused) {
  Net net(ResidualNet(caffe::TEST));
  ExpectError([&] { net.PlanMemory({.training = false, .keep = {"fc9"}}); },
              ErrorCode::kNotFound, {"residual", "fc9"});
}

}  // namespace
}  // namespace crema
