#include "crema/layers/batch_norm_layer.h"

#include <gtest/gtest.h>
#include <google/protobuf/text_format.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "crema/layers/registry.h"
#include "crema/net/net.h"
#include "crema/solver/solver.h"
#include "gradient_checker.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::FillUniform;
using testing::LayerFromText;

caffe::LayerParameter BnParam(const std::string& bn_fields = "", const char* phase = nullptr) {
  std::string text = "name: 'bn' type: 'BatchNorm' batch_norm_param { " + bn_fields + " }";
  if (phase != nullptr) text += std::string(" phase: ") + phase;
  return LayerFromText(text);
}

std::string ShapeName(const std::vector<int>& shape) { return Blob::ShapeString(shape); }

// Per-channel mean and biased variance of x (N, C, ...), in double.
struct Stats {
  std::vector<double> mean, var;
  int m = 0;  // values per channel
};
Stats ChannelStats(const Blob& x) {
  const int num = x.shape(0);
  const int channels = x.num_axes() == 1 ? 1 : x.shape(1);
  const int spatial = x.count() / (num * channels);
  Stats st;
  st.m = num * spatial;
  st.mean.assign(channels, 0.0);
  st.var.assign(channels, 0.0);
  const float* d = x.cpu_data();
  for (int n = 0; n < num; ++n)
    for (int c = 0; c < channels; ++c)
      for (int s = 0; s < spatial; ++s) st.mean[c] += d[(n * channels + c) * spatial + s];
  for (int c = 0; c < channels; ++c) st.mean[c] /= st.m;
  for (int n = 0; n < num; ++n)
    for (int c = 0; c < channels; ++c)
      for (int s = 0; s < spatial; ++s) {
        const double v = d[(n * channels + c) * spatial + s] - st.mean[c];
        st.var[c] += v * v;
      }
  for (int c = 0; c < channels; ++c) st.var[c] /= st.m;
  return st;
}

// (x − mean_c) / √(var_c + eps) for every element.
std::vector<double> Normalize(const Blob& x, const std::vector<double>& mean,
                              const std::vector<double>& var, double eps) {
  const int num = x.shape(0);
  const int channels = x.num_axes() == 1 ? 1 : x.shape(1);
  const int spatial = x.count() / (num * channels);
  std::vector<double> y(x.count());
  for (int n = 0; n < num; ++n)
    for (int c = 0; c < channels; ++c)
      for (int s = 0; s < spatial; ++s) {
        const int i = (n * channels + c) * spatial + s;
        y[i] = (x.cpu_data()[i] - mean[c]) / std::sqrt(var[c] + eps);
      }
  return y;
}

void ExpectBlobNear(const std::vector<double>& expected, const Blob& actual, double tol) {
  ASSERT_EQ(static_cast<int>(expected.size()), actual.count());
  for (int i = 0; i < actual.count(); ++i) {
    EXPECT_NEAR(actual.cpu_data()[i], expected[i], tol * (1 + std::fabs(expected[i])))
        << "element " << i;
  }
}

const std::vector<std::vector<int>> kShapes = {{5, 3}, {2, 3, 4, 5}, {3, 2, 1, 6}, {4, 2, 3}};

TEST(BatchNormLayerTest, SetUpMakesZeroStatisticsBlobsAndFrozenParamSpecs) {
  BatchNormLayer layer(BnParam());
  Blob bottom({2, 4, 3, 3}), top;
  layer.SetUp({&bottom}, {&top});
  ASSERT_EQ(layer.blobs().size(), 3u);
  EXPECT_EQ(layer.blobs()[0]->shape(), std::vector<int>{4});
  EXPECT_EQ(layer.blobs()[1]->shape(), std::vector<int>{4});
  EXPECT_EQ(layer.blobs()[2]->shape(), std::vector<int>{1});
  for (const auto& blob : layer.blobs()) {
    for (int i = 0; i < blob->count(); ++i) EXPECT_EQ(blob->cpu_data()[i], 0.f);
  }
  ASSERT_EQ(layer.layer_param().param_size(), 3);
  for (const caffe::ParamSpec& spec : layer.layer_param().param()) {
    EXPECT_EQ(spec.lr_mult(), 0.f);
    EXPECT_EQ(spec.decay_mult(), 0.f);
  }
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(layer.param_propagate_down(i));
  EXPECT_EQ(top.shape(), bottom.shape());
  // Specs already given (as an upgraded legacy net has them) are kept; missing ones added.
  BatchNormLayer partial(LayerFromText(
      "name: 'bn' type: 'BatchNorm' param { lr_mult: 0 name: 'shared_mean' } "
      "param { lr_mult: 0 decay_mult: 0 }"));
  partial.SetUp({&bottom}, {&top});
  ASSERT_EQ(partial.layer_param().param_size(), 3);
  EXPECT_EQ(partial.layer_param().param(0).name(), "shared_mean");
  EXPECT_EQ(partial.layer_param().param(2).lr_mult(), 0.f);
}

TEST(BatchNormLayerTest, PhaseChoosesStatisticsUnlessUseGlobalStatsIsSet) {
  Blob bottom({2, 3}), top;
  struct Case {
    const char* fields;
    const char* phase;
    bool global;
  };
  for (const Case& k : {Case{"", "TRAIN", false}, Case{"", "TEST", true},
                        Case{"use_global_stats: true", "TRAIN", true},
                        Case{"use_global_stats: false", "TEST", false},
                        Case{"use_global_stats: false", "TRAIN", false},
                        Case{"use_global_stats: true", "TEST", true}}) {
    SCOPED_TRACE(std::string(k.fields) + " " + k.phase);
    BatchNormLayer layer(BnParam(k.fields, k.phase));
    layer.SetUp({&bottom}, {&top});
    EXPECT_EQ(layer.use_global_stats(), k.global);
  }
}

// Batch statistics: the output, and the running sums after one Forward.
TEST(BatchNormLayerTest, BatchStatisticsForwardMatchesReference) {
  for (const auto& shape : kShapes) {
    for (const char* phase_fields :
         {"", "use_global_stats: false"}) {  // TRAIN by default, and explicitly
      SCOPED_TRACE(ShapeName(shape) + " " + phase_fields);
      Blob bottom(shape), top;
      FillUniform(&bottom, -2.f, 3.f, 11);
      BatchNormLayer layer(BnParam(std::string(phase_fields) + " eps: 0.01",
                                   *phase_fields ? "TEST" : "TRAIN"));
      layer.SetUp({&bottom}, {&top});
      ASSERT_FALSE(layer.use_global_stats());
      layer.Forward({&bottom}, {&top});
      const Stats st = ChannelStats(bottom);
      ExpectBlobNear(Normalize(bottom, st.mean, st.var, 0.01), top, 1e-5);
      const double correction = static_cast<double>(st.m) / (st.m - 1);
      for (size_t c = 0; c < st.mean.size(); ++c) {
        EXPECT_NEAR(layer.blobs()[0]->cpu_data()[c], st.mean[c], 1e-5);
        EXPECT_NEAR(layer.blobs()[1]->cpu_data()[c], st.var[c] * correction, 1e-5);
      }
      EXPECT_EQ(layer.blobs()[2]->cpu_data()[0], 1.f);
    }
  }
}

// After k Forwards: S ← λ·S + stat for both sums, factor ← λ·factor + 1.
TEST(BatchNormLayerTest, RunningSumsFollowTheMovingAverageRule) {
  for (const auto& shape : kShapes) {
    for (double lambda : {0.999, 0.5}) {
      SCOPED_TRACE(ShapeName(shape) + " lambda " + std::to_string(lambda));
      BatchNormLayer layer(BnParam(lambda == 0.999 ? "" : "moving_average_fraction: 0.5"));
      Blob bottom(shape), top;
      layer.SetUp({&bottom}, {&top});
      const int channels = layer.blobs()[0]->count();
      std::vector<double> mean_sum(channels, 0.0), var_sum(channels, 0.0);
      double factor = 0;
      for (int step = 0; step < 4; ++step) {
        FillUniform(&bottom, -1.f + step, 2.f + 2 * step, 100 + step);
        const Stats st = ChannelStats(bottom);
        layer.Forward({&bottom}, {&top});
        for (int c = 0; c < channels; ++c) {
          mean_sum[c] = lambda * mean_sum[c] + st.mean[c];
          var_sum[c] = lambda * var_sum[c] + st.var[c] * st.m / (st.m - 1);
        }
        factor = lambda * factor + 1;
      }
      for (int c = 0; c < channels; ++c) {
        EXPECT_NEAR(layer.blobs()[0]->cpu_data()[c], mean_sum[c], 1e-4 * (1 + std::fabs(mean_sum[c])));
        EXPECT_NEAR(layer.blobs()[1]->cpu_data()[c], var_sum[c], 1e-4 * (1 + var_sum[c]));
      }
      EXPECT_NEAR(layer.blobs()[2]->cpu_data()[0], factor, 1e-6);
    }
  }
}

// Sets the stored sums to known values: mean_c = 0.3·c − 0.2, var_c = 0.5 + c, factor f.
void SetStoredStats(Layer* layer, float factor) {
  const int channels = layer->blobs()[0]->count();
  for (int c = 0; c < channels; ++c) {
    layer->blobs()[0]->mutable_cpu_data()[c] = (0.3f * c - 0.2f) * factor;
    layer->blobs()[1]->mutable_cpu_data()[c] = (0.5f + c) * factor;
  }
  layer->blobs()[2]->mutable_cpu_data()[0] = factor;
}

TEST(BatchNormLayerTest, GlobalStatisticsDivideTheSumsByTheFactor) {
  for (const auto& shape : kShapes) {
    for (const char* fields : {"", "use_global_stats: true"}) {
      SCOPED_TRACE(ShapeName(shape) + " " + fields);
      BatchNormLayer layer(BnParam(fields, *fields ? "TRAIN" : "TEST"));
      Blob bottom(shape), top;
      FillUniform(&bottom, -2.f, 2.f, 5);
      layer.SetUp({&bottom}, {&top});
      ASSERT_TRUE(layer.use_global_stats());
      SetStoredStats(&layer, 2.5f);
      std::vector<std::vector<float>> before;
      for (auto& b : layer.blobs()) before.emplace_back(b->cpu_data(), b->cpu_data() + b->count());
      layer.Forward({&bottom}, {&top});
      const int channels = layer.blobs()[0]->count();
      std::vector<double> mean(channels), var(channels);
      for (int c = 0; c < channels; ++c) {
        mean[c] = 0.3 * c - 0.2;
        var[c] = 0.5 + c;
      }
      ExpectBlobNear(Normalize(bottom, mean, var, 1e-5), top, 1e-5);
      // The stored statistics are read, never written.
      for (size_t i = 0; i < before.size(); ++i) {
        for (size_t j = 0; j < before[i].size(); ++j) {
          EXPECT_EQ(layer.blobs()[i]->cpu_data()[j], before[i][j]);
        }
      }
    }
  }
}

TEST(BatchNormLayerTest, ZeroFactorMeansZeroStatistics) {
  BatchNormLayer layer(BnParam("eps: 0.25", "TEST"));
  Blob bottom({3, 2, 2, 2}), top;
  FillUniform(&bottom, -2.f, 2.f, 9);
  layer.SetUp({&bottom}, {&top});
  SetStoredStats(&layer, 1.f);
  layer.blobs()[2]->mutable_cpu_data()[0] = 0.f;
  layer.Forward({&bottom}, {&top});
  for (int i = 0; i < top.count(); ++i) {
    EXPECT_NEAR(top.cpu_data()[i], bottom.cpu_data()[i] / 0.5f, 1e-6f);  // x / √eps
  }
}

// Statistics gathered in TRAIN normalise the same data in TEST: the stored variance is the
// unbiased one, so TEST divides by √(m/(m−1)·σ² + eps).
TEST(BatchNormLayerTest, TrainedStatisticsServeTheTestPhase) {
  Blob bottom({4, 3, 2, 2}), train_top, test_top;
  FillUniform(&bottom, -1.f, 3.f, 21);
  BatchNormLayer train(BnParam("moving_average_fraction: 0.9", "TRAIN"));
  BatchNormLayer test(BnParam("moving_average_fraction: 0.9", "TEST"));
  train.SetUp({&bottom}, {&train_top});
  test.SetUp({&bottom}, {&test_top});
  for (int i = 0; i < 3; ++i) train.Forward({&bottom}, {&train_top});
  for (size_t i = 0; i < 3; ++i) test.blobs()[i]->ShareData(*train.blobs()[i]);
  test.Forward({&bottom}, {&test_top});
  Stats st = ChannelStats(bottom);
  for (double& v : st.var) v *= static_cast<double>(st.m) / (st.m - 1);
  ExpectBlobNear(Normalize(bottom, st.mean, st.var, 1e-5), test_top, 1e-5);
}

TEST(BatchNormLayerTest, BatchStatisticsGradient) {
  for (const auto& shape : std::vector<std::vector<int>>{{4, 3}, {2, 2, 3, 2}, {3, 2, 4}}) {
    SCOPED_TRACE(ShapeName(shape));
    BatchNormLayer layer(BnParam());
    Blob bottom(shape), top;
    FillUniform(&bottom, -1.f, 1.f, 31);
    // ½Σy² is nearly constant under batch normalisation, so check every output separately.
    testing::GradientChecker checker(1e-2f, 1e-2f);
    checker.set_check_params(false);
    checker.CheckGradientExhaustive(&layer, {&bottom}, {&top});
  }
}

TEST(BatchNormLayerTest, GlobalStatisticsGradient) {
  for (const auto& shape : std::vector<std::vector<int>>{{4, 3}, {2, 3, 3, 2}}) {
    for (const char* phase : {"TEST", "TRAIN"}) {
      SCOPED_TRACE(ShapeName(shape) + " " + phase);
      BatchNormLayer layer(BnParam(std::string(phase) == "TRAIN" ? "use_global_stats: true" : "",
                                   phase));
      Blob bottom(shape), top;
      FillUniform(&bottom, -1.f, 1.f, 37);
      layer.SetUp({&bottom}, {&top});
      SetStoredStats(&layer, 3.f);
      testing::GradientChecker checker(1e-2f, 1e-3f);
      checker.set_check_params(false);
      checker.CheckGradient(&layer, {&bottom}, {&top});
    }
  }
}

// In place, with a later in-place layer overwriting the top before Backward: the results
// equal the out-of-place run.
TEST(BatchNormLayerTest, InPlaceMatchesOutOfPlace) {
  for (const char* fields : {"", "use_global_stats: true"}) {
    SCOPED_TRACE(fields);
    const std::vector<int> shape{3, 4, 2, 3};
    Blob x(shape), y, dy(shape), in_place(shape);
    FillUniform(&x, -2.f, 2.f, 41);
    FillUniform(&dy, -1.f, 1.f, 43);
    BatchNormLayer apart(BnParam(fields)), together(BnParam(fields));
    apart.SetUp({&x}, {&y});
    std::copy(x.cpu_data(), x.cpu_data() + x.count(), in_place.mutable_cpu_data());
    together.SetUp({&in_place}, {&in_place});
    SetStoredStats(&apart, 2.f);
    SetStoredStats(&together, 2.f);

    apart.Forward({&x}, {&y});
    together.Forward({&in_place}, {&in_place});
    for (int i = 0; i < x.count(); ++i) ASSERT_FLOAT_EQ(in_place.cpu_data()[i], y.cpu_data()[i]);
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < apart.blobs()[i]->count(); ++j) {
        EXPECT_FLOAT_EQ(together.blobs()[i]->cpu_data()[j], apart.blobs()[i]->cpu_data()[j]);
      }
    }

    std::copy(dy.cpu_data(), dy.cpu_data() + dy.count(), y.mutable_cpu_diff());
    std::copy(dy.cpu_data(), dy.cpu_data() + dy.count(), in_place.mutable_cpu_diff());
    // A following in-place ReLU, say, has overwritten the shared blob's data.
    for (int i = 0; i < in_place.count(); ++i) in_place.mutable_cpu_data()[i] = 7.f;
    apart.Backward({&y}, {true}, {&x});
    together.Backward({&in_place}, {true}, {&in_place});
    for (int i = 0; i < x.count(); ++i) {
      EXPECT_NEAR(in_place.cpu_diff()[i], x.cpu_diff()[i], 1e-6f) << i;
    }
  }
}

TEST(BatchNormLayerTest, BadParametersAndShapesNameTheLayer) {
  const ErrorCode invalid = ErrorCode::kInvalidArgument;
  const std::string prefix = "Layer 'bn' (BatchNorm)";
  Blob bottom({2, 3, 4}), top;
  testing::ExpectError([&] { BatchNormLayer(BnParam("eps: -1")).SetUp({&bottom}, {&top}); },
                       invalid, {prefix, "eps"});
  testing::ExpectError(
      [&] {
        BatchNormLayer(LayerFromText("name: 'bn' type: 'BatchNorm' param { lr_mult: 1 }"))
            .SetUp({&bottom}, {&top});
      },
      invalid, {prefix, "lr_mult"});
  testing::ExpectError(
      [&] {
        BatchNormLayer(LayerFromText("name: 'bn' type: 'BatchNorm' param { lr_mult: 0 } "
                                     "param { lr_mult: 0 } param { lr_mult: 0 } "
                                     "param { lr_mult: 0 }"))
            .SetUp({&bottom}, {&top});
      },
      invalid, {prefix, "4 param specs"});
  Blob scalar(std::vector<int>{}), scalar_top;
  testing::ExpectError([&] { BatchNormLayer(BnParam()).SetUp({&scalar}, {&scalar_top}); },
                       invalid, {prefix});
  BatchNormLayer layer(BnParam());
  layer.SetUp({&bottom}, {&top});
  bottom.Reshape({2, 5, 4});
  testing::ExpectError([&] { layer.Forward({&bottom}, {&top}); }, invalid,
                       {prefix, "3 channels"});
  // The batch and spatial sizes may change.
  bottom.Reshape({5, 3, 2, 2});
  layer.Forward({&bottom}, {&top});
  EXPECT_EQ(top.shape(), bottom.shape());
}

TEST(BatchNormLayerTest, RegistryCreatesIt) {
  auto layer = LayerRegistry::Global().Create(BnParam());
  EXPECT_NE(dynamic_cast<BatchNormLayer*>(layer.get()), nullptr);
  EXPECT_EQ(std::string(layer->type()), "BatchNorm");
}

// In a net trained with momentum and weight decay, the statistics blobs take no gradient and
// no update: after k steps on a fixed batch they hold exactly the running sums.
TEST(BatchNormLayerTest, SolverNeverUpdatesTheStatistics) {
  testing::TempDir dir;
  caffe::SolverParameter param;
  ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(R"(
      base_lr: 0.5 lr_policy: 'fixed' momentum: 0.9 weight_decay: 0.1 max_iter: 5
      random_seed: 1701 display: 0 snapshot_after_train: false
      net_param {
        layer { name: "data" type: "Input" top: "data" top: "label"
                input_param { shape { dim: 6 dim: 3 } shape { dim: 6 } } }
        layer { name: "bn" type: "BatchNorm" bottom: "data" top: "bn"
                batch_norm_param { moving_average_fraction: 0.8 } }
        layer { name: "ip" type: "InnerProduct" bottom: "bn" top: "ip"
                inner_product_param { num_output: 4 weight_filler { type: "gaussian" std: 0.5 } } }
        layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip" bottom: "label" top: "loss" }
      })",
      &param));
  param.set_snapshot_prefix(dir.file("bn"));
  auto solver = CreateSolver(param);
  Net* net = solver->net();
  Blob* data = net->blob_by_name("data");
  Blob* label = net->blob_by_name("label");
  for (int i = 0; i < data->count(); ++i) data->mutable_cpu_data()[i] = std::sin(0.7f * i) + 0.1f * i;
  for (int i = 0; i < label->count(); ++i) label->mutable_cpu_data()[i] = static_cast<float>(i % 4);

  Layer* bn = net->layer_by_name("bn");
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(bn->param_propagate_down(i)) << i;
  // The bn layer reads the data directly: nothing before it needs a gradient, and its own
  // blobs learn nothing, so it needs no Backward.
  EXPECT_FALSE(net->layer_need_backward()[net->layer_index("bn")]);
  int bn_params = 0;
  for (size_t i = 0; i < net->params().size(); ++i) {
    if (net->param_layer_indices()[i].first != net->layer_index("bn")) continue;
    const int learnable = net->learnable_param_ids()[i];
    EXPECT_EQ(net->params_lr()[learnable], 0.f);
    EXPECT_EQ(net->params_weight_decay()[learnable], 0.f);
    ++bn_params;
  }
  EXPECT_EQ(bn_params, 3);

  const Stats st = ChannelStats(*data);
  const std::vector<float> ip_before(net->layer_by_name("ip")->blobs()[0]->cpu_data(),
                                     net->layer_by_name("ip")->blobs()[0]->cpu_data() + 12);
  solver->Step(5);
  double sum_weights = 0;  // 1 + λ + … + λ⁴
  for (int k = 0; k < 5; ++k) sum_weights = 0.8 * sum_weights + 1;
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(bn->blobs()[0]->cpu_data()[c], sum_weights * st.mean[c], 1e-5);
    EXPECT_NEAR(bn->blobs()[1]->cpu_data()[c], sum_weights * st.var[c] * 6 / 5, 1e-5);
  }
  EXPECT_NEAR(bn->blobs()[2]->cpu_data()[0], sum_weights, 1e-6);
  // The rest of the net did train.
  const float* ip_after = net->layer_by_name("ip")->blobs()[0]->cpu_data();
  EXPECT_NE(std::vector<float>(ip_after, ip_after + 12), ip_before);

  // A saved model holds the three blobs and the frozen param specs.
  caffe::NetParameter saved;
  net->ToProto(&saved);
  for (const caffe::LayerParameter& layer : saved.layer()) {
    if (layer.name() != "bn") continue;
    ASSERT_EQ(layer.blobs_size(), 3);
    ASSERT_EQ(layer.param_size(), 3);
    EXPECT_EQ(layer.param(1).lr_mult(), 0.f);
  }
}

}  // namespace
}  // namespace crema
