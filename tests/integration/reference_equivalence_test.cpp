// Every example net computes the same numbers with Crema's fast layers (oneDNN convolution and
// deconvolution) as with the plain reference layers (im2col + GEMM, Caffe's algorithm).
//
// For each example's TRAIN net, one test case (named after the net) builds the net twice from
// one NetParameter, LayerImplementation::kFast (memory planned, as the Solver runs it) and
// kReference, with the data layers replaced
// by Inputs of the shape the dataset would give (a batch of 1 or 2, the real image size) and
// force_backward on. The reference net gets a copy of the fast net's filled weights; both get
// the same uniform random inputs and labels, and the same Dropout masks (they come from the
// thread's generator, reseeded before each net, or each layer in lockstep, runs). Twice (the
// fast layers cache primitives and weight layouts between calls, so in between the weights of
// both nets move by the same small gradient step), it checks, each within a norm-wise relative
// error ||fast − ref|| / ||ref|| < 1e-4:
//   1. the nets as a user runs them (Forward): the loss and every output blob;
//   2. the nets in lockstep, layer by layer, each fast layer given exactly the reference
//      layer's inputs (bottom data in Forward, top diffs in Backward): every layer's tops,
//      every bottom gradient (the input images' included) and every parameter gradient.
// A failure names the net, the iteration and the layer, blob or parameter.
//
// Note [why gradients are checked in lockstep]: run freely, the two nets' gradients differ by
// far more than 1e-4 in the deep nets at batch 1 (measured: ResNet-50 about 3e-2, MobileNet
// 1e-2, VGG-16 a few 1e-3, GoogLeNet up to 2e-3), and so does the reference net from itself
// when its input images change by one rounding step: a forward difference of 1e-7 flips a ReLU
// or a max pooling choice here and there, and BatchNorm over the 49 values of a 7x7 map at
// batch 1 amplifies it. That is the nets' conditioning, not an error of the fast layers, which
// the lockstep comparison measures alone (its errors stay below 1e-5).
//
// Note [parameter gradients per layer]: some parameter gradients are zero in exact
// arithmetic — the bias of a convolution followed by BatchNorm (which removes any constant),
// the gain of a Scale with only a ReLU and a convolution before the next BatchNorm (which is
// blind to the scale of its input), the siamese towers' shared last biases (the loss sees only
// the towers' difference) — so their float values are rounding noise in both nets. A
// layer's parameter gradients are therefore compared as one vector (weights and bias
// together), and the message lists each blob's own error.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "crema/core/blob.h"
#include "crema/core/rng.h"
#include "crema/net/net.h"
#include "crema/net/net_file.h"
#include "crema/proto/caffe.pb.h"
#include "test_helpers.h"

namespace crema {
namespace {

// The largest norm-wise relative error the fast layers may show.
constexpr double kTolerance = 1e-4;

struct ExampleNet {
  const char* name;  // the test case's name
  const char* path;  // the TRAIN net, relative to the source tree
  int batch;
  std::vector<int> image;  // channels, height, width of one item, as the dataset gives it
  float lo, hi;            // range of the input values (the transformed pixels' range)
  int classes;             // labels are drawn from [0, classes)
};

void PrintTo(const ExampleNet& net, std::ostream* out) { *out << net.name; }

// ImageNet pixels after mean subtraction lie in about [-128, 128]; MobileNet scales by 0.017.
const ExampleNet kNets[] = {
    {"LeNet", "examples/mnist/lenet_train_test.prototxt", 2, {1, 28, 28}, 0, 1, 10},
    {"Cifar10Quick", "examples/cifar10/cifar10_quick_train_test.prototxt", 2, {3, 32, 32},
     -128, 128, 10},
    {"Cifar10Full", "examples/cifar10/cifar10_full_train_test.prototxt", 2, {3, 32, 32},
     -128, 128, 10},
    {"AlexNet", "examples/models/alexnet/train_val.prototxt", 1, {3, 227, 227}, -128, 128, 1000},
    {"CaffeNet", "examples/models/caffenet/train_val.prototxt", 1, {3, 227, 227}, -128, 128,
     1000},
    {"GoogLeNet", "examples/models/googlenet/train_val.prototxt", 1, {3, 224, 224}, -128, 128,
     1000},
    {"Vgg16", "examples/models/vgg16/train_val.prototxt", 1, {3, 224, 224}, -128, 128, 1000},
    {"ResNet50", "examples/models/resnet50/train_val.prototxt", 1, {3, 224, 224}, -128, 128,
     1000},
    {"SqueezeNet11", "examples/models/squeezenet1.1/train_val.prototxt", 1, {3, 227, 227}, -128,
     128, 1000},
    {"MobileNetV1", "examples/models/mobilenet_v1/train_val.prototxt", 1, {3, 224, 224}, -2.2f,
     2.2f, 1000},
    {"MnistAutoencoder", "examples/mnist_autoencoder/mnist_autoencoder.prototxt", 2, {1, 28, 28},
     0, 1, 0},
    {"MnistSiamese", "examples/mnist_siamese/mnist_siamese_train_test.prototxt", 2, {2, 28, 28},
     0, 1, 2},
};

// The example's net for the TRAIN phase, each Data layer replaced by an Input of its tops
// (images of `example.image`, and labels of shape {batch} when it has a second top).
caffe::NetParameter TrainNet(const ExampleNet& example) {
  caffe::NetParameter param = ReadNetFile(testing::SourceDir() + "/" + example.path);
  param.mutable_state()->set_phase(caffe::TRAIN);
  param.set_force_backward(true);  // the input images get a gradient too
  for (caffe::LayerParameter& layer : *param.mutable_layer()) {
    if (layer.type() != "Data") continue;
    caffe::LayerParameter input;
    input.set_name(layer.name());
    input.set_type("Input");
    *input.mutable_top() = layer.top();
    *input.mutable_include() = layer.include();
    *input.mutable_exclude() = layer.exclude();
    caffe::BlobShape* images = input.mutable_input_param()->add_shape();
    images->add_dim(example.batch);
    for (int d : example.image) images->add_dim(d);
    if (layer.top_size() > 1) input.mutable_input_param()->add_shape()->add_dim(example.batch);
    layer = input;
  }
  return param;
}

double SumSquares(const float* x, int n) {
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  return sum;
}

double SumSquaredDifferences(const float* a, const float* b, int n) {
  double sum = 0;
  for (int i = 0; i < n; ++i) {
    const double d = static_cast<double>(a[i]) - b[i];
    sum += d * d;
  }
  return sum;
}

// sqrt(difference) / sqrt(reference), 0 when both are 0.
double Relative(double squared_difference, double squared_reference) {
  return std::sqrt(squared_difference) / std::max(std::sqrt(squared_reference), 1e-30);
}

// Values of one blob in both nets.
struct Pair {
  std::string name;
  const float* fast;
  const float* ref;
  int count;
};

// Fails the test when a relative error reaches kTolerance; remembers the largest one.
class Comparison {
 public:
  void set_context(std::string context) { context_ = std::move(context); }

  void Expect(const std::string& what, const float* fast, const float* ref, int n) {
    ExpectTogether(what, {{"", fast, ref, n}});
  }
  // Compares the blobs as one vector; a failure gives each blob's own error too.
  void ExpectTogether(const std::string& what, const std::vector<Pair>& blobs) {
    double difference = 0, reference = 0;
    for (const Pair& b : blobs) {
      difference += SumSquaredDifferences(b.fast, b.ref, b.count);
      reference += SumSquares(b.ref, b.count);
    }
    const double error = Relative(difference, reference);
    max_error_ = std::max(max_error_, error);
    if (error < kTolerance) return;
    std::ostringstream each;
    for (const Pair& b : blobs) {
      if (b.name.empty()) continue;
      each << "\n  " << b.name << ": "
           << Relative(SumSquaredDifferences(b.fast, b.ref, b.count), SumSquares(b.ref, b.count))
           << " (||ref|| = " << std::sqrt(SumSquares(b.ref, b.count)) << ")";
    }
    ADD_FAILURE() << context_ << ": " << what << ": ||fast − ref|| / ||ref|| = " << error
                  << " >= " << kTolerance << " (||ref|| = " << std::sqrt(reference) << ")"
                  << each.str();
  }
  double max_error() const { return max_error_; }

 private:
  std::string context_;
  double max_error_ = 0;
};

std::string LayerName(const Net& net, int l) {
  return "layer '" + net.layer_names()[l] + "' (" + net.layers()[l]->type() + ")";
}

// Gives `ref` the fast net's parameter values, in its own buffers.
void CopyParams(const Net& fast, const Net& ref) {
  ASSERT_EQ(fast.params().size(), ref.params().size());
  for (size_t i = 0; i < fast.params().size(); ++i) {
    const Blob& from = *fast.params()[i];
    Blob& to = *ref.params()[i];
    ASSERT_EQ(from.shape(), to.shape()) << LayerName(fast, fast.param_layer_indices()[i].first);
    std::copy_n(from.cpu_data(), from.count(), to.mutable_cpu_data());
  }
}

// Moves every parameter of both nets by the same small step against the reference net's
// gradient (1% of the parameter's norm), so both keep equal weights.
void StepBoth(const Net& fast, const Net& ref) {
  for (size_t i = 0; i < ref.params().size(); ++i) {
    if (ref.param_owners()[i] >= 0) continue;
    Blob& r = *ref.params()[i];
    const int n = r.count();
    const double gradient = std::sqrt(SumSquares(r.cpu_diff(), n));
    if (gradient == 0) continue;
    const float rate = static_cast<float>(0.01 * std::sqrt(SumSquares(r.cpu_data(), n)) / gradient);
    float* data = r.mutable_cpu_data();
    const float* diff = r.cpu_diff();
    for (int k = 0; k < n; ++k) data[k] -= rate * diff[k];
    std::copy_n(r.cpu_data(), n, fast.params()[i]->mutable_cpu_data());
  }
}

bool IsInput(const Net& net, int l) { return std::string(net.layers()[l]->type()) == "Input"; }

// Fills each Input layer's tops in both nets: images uniform in [lo, hi), labels in
// [0, classes).
void FillInputs(const ExampleNet& example, unsigned seed, const Net& fast, const Net& ref) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> pixel(example.lo, example.hi);
  std::uniform_int_distribution<int> label(0, std::max(example.classes - 1, 0));
  for (int l = 0; l < static_cast<int>(ref.layers().size()); ++l) {
    if (!IsInput(ref, l)) continue;
    for (size_t t = 0; t < ref.top_ids(l).size(); ++t) {
      Blob& r = *ref.blobs()[ref.top_ids(l)[t]];
      float* values = r.mutable_cpu_data();
      for (int k = 0; k < r.count(); ++k) {
        values[k] = t == 0 ? pixel(gen) : static_cast<float>(label(gen));
      }
      std::copy_n(r.cpu_data(), r.count(), fast.blobs()[ref.top_ids(l)[t]]->mutable_cpu_data());
    }
  }
}

// Step 1: Forward as a user runs it, with the Dropout masks `seed` gives.
void CompareForward(Net* fast, Net* ref, uint64_t seed, Comparison* compare) {
  float fast_loss = 0, ref_loss = 0;
  SetRandomSeed(seed);
  ref->Forward(&ref_loss);
  SetRandomSeed(seed);
  fast->Forward(&fast_loss);
  ASSERT_TRUE(std::isfinite(ref_loss));
  ASSERT_GT(ref_loss, 0);
  compare->Expect("loss", &fast_loss, &ref_loss, 1);
  for (size_t o = 0; o < ref->output_blobs().size(); ++o) {
    const Blob& r = *ref->output_blobs()[o];
    compare->Expect("output '" + ref->blob_names()[ref->output_blob_indices()[o]] + "'",
                    fast->output_blobs()[o]->cpu_data(), r.cpu_data(), r.count());
  }
}

// Step 2: Forward and Backward layer by layer, each fast layer on the reference layer's inputs.
void CompareInLockstep(Net* fast, Net* ref, uint64_t seed, Comparison* compare) {
  const int layers = static_cast<int>(ref->layers().size());
  for (int l = 0; l < layers; ++l) {
    for (int id : ref->bottom_ids(l)) {
      const Blob& r = *ref->blobs()[id];
      std::copy_n(r.cpu_data(), r.count(), fast->blobs()[id]->mutable_cpu_data());
    }
    SetRandomSeed(seed + l);
    ref->ForwardFromTo(l, l);
    SetRandomSeed(seed + l);
    fast->ForwardFromTo(l, l);
    for (size_t t = 0; t < ref->top_ids(l).size(); ++t) {
      const int id = ref->top_ids(l)[t];
      const Blob& r = *ref->blobs()[id];
      compare->Expect(LayerName(*ref, l) + " top " + std::to_string(t) + " '" +
                          ref->blob_names()[id] + "'",
                      fast->blobs()[id]->cpu_data(), r.cpu_data(), r.count());
    }
  }

  fast->ClearParamDiffs();
  ref->ClearParamDiffs();
  for (int l = layers - 1; l >= 0; --l) {
    for (int id : ref->top_ids(l)) {
      const Blob& r = *ref->blobs()[id];
      std::copy_n(r.cpu_diff(), r.count(), fast->blobs()[id]->mutable_cpu_diff());
    }
    ref->BackwardFromTo(l, l);
    fast->BackwardFromTo(l, l);
    if (!ref->layer_need_backward()[l]) continue;
    for (size_t b = 0; b < ref->bottom_ids(l).size(); ++b) {
      if (!ref->bottom_need_backward()[l][b]) continue;
      const int id = ref->bottom_ids(l)[b];
      const Blob& r = *ref->blobs()[id];
      if (IsInput(*ref, 0) && id == ref->top_ids(0)[0]) {
        ASSERT_GT(SumSquares(r.cpu_diff(), r.count()), 0) << "the input images got no gradient";
      }
      compare->Expect(LayerName(*ref, l) + " bottom " + std::to_string(b) + " '" +
                          ref->blob_names()[id] + "' diff",
                      fast->blobs()[id]->cpu_diff(), r.cpu_diff(), r.count());
    }
  }

  // Parameter gradients, per layer (Note [parameter gradients per layer]); a shared parameter
  // is compared at its owner, where every user's gradient accumulates.
  std::vector<std::vector<Pair>> by_layer(layers);
  for (size_t i = 0; i < ref->params().size(); ++i) {
    if (ref->param_owners()[i] >= 0) continue;
    const auto [l, index] = ref->param_layer_indices()[i];
    const Blob& r = *ref->params()[i];
    by_layer[l].push_back(
        {"param " + std::to_string(index), fast->params()[i]->cpu_diff(), r.cpu_diff(), r.count()});
  }
  for (int l = 0; l < layers; ++l) {
    if (by_layer[l].empty()) continue;
    compare->ExpectTogether(LayerName(*ref, l) + " param diffs", by_layer[l]);
  }
}

class ReferenceEquivalenceTest : public ::testing::TestWithParam<ExampleNet> {};

TEST_P(ReferenceEquivalenceTest, FastLayersMatchReferenceLayers) {
  const ExampleNet& example = GetParam();
  const caffe::NetParameter param = TrainNet(example);
  SetRandomSeed(1701);  // the fillers
  Net fast(param, LayerImplementation::kFast);
  Net ref(param, LayerImplementation::kReference);
  CopyParams(fast, ref);
  // The fast net runs as the Solver runs it: its activations and gradients share one arena.
  fast.PlanMemory({.training = true, .keep = {}});
  ASSERT_EQ(fast.blob_names(), ref.blob_names());
  ASSERT_TRUE(IsInput(ref, 0));

  Comparison forward, lockstep;
  for (int iteration = 1; iteration <= 2; ++iteration) {
    const std::string context = std::string(example.name) + ", iteration " +
                                std::to_string(iteration);
    FillInputs(example, 100 + iteration, fast, ref);
    forward.set_context(context + ", Forward");
    CompareForward(&fast, &ref, 200 + iteration, &forward);
    ASSERT_FALSE(HasFatalFailure());
    lockstep.set_context(context + ", in lockstep");
    CompareInLockstep(&fast, &ref, 1000 * iteration, &lockstep);
    ASSERT_FALSE(HasFatalFailure());
    if (iteration == 1) StepBoth(fast, ref);
  }
  std::ostringstream errors;
  errors << "Forward " << forward.max_error() << ", lockstep " << lockstep.max_error();
  RecordProperty("max_relative_errors", errors.str());
}

std::string CaseName(const ::testing::TestParamInfo<ExampleNet>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(ExampleNets, ReferenceEquivalenceTest, ::testing::ValuesIn(kNets),
                         CaseName);

}  // namespace
}  // namespace crema
