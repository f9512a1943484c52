// The example nets under examples/, through the `crema` binary: every net loads in each phase,
// `crema info` counts the learnable parameters its architecture is known to have, the deploy
// net's parameter layers match the training net's (so a trained model loads into it), and one
// forward and backward pass runs at a small batch (`crema time -iterations 1`). Then: each of
// the MNIST autoencoder's six solvers lowers its loss on a tiny dataset; the siamese net
// trains; make_pairs writes the pair dataset the siamese net reads.
//
// The nets run from copies whose batch (data layers' batch_size, Input's first dimension) is
// cut to 1 or 2 and whose data sources point at tiny datasets written here, or at nothing:
// `crema info`/`time` then feed zeros of the shape crop_size and mean_value imply.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "crema/data/lmdb_dataset.h"
#include "crema/io/proto_io.h"
#include "crema/net/net_file.h"
#include "crema/proto/caffe.pb.h"
#include "dataset_helpers.h"
#include "test_helpers.h"
#include "tiny_mnist.h"

namespace crema {
namespace {

namespace fs = std::filesystem;
using testing::Crema;
using testing::CommandResult;
using testing::TempDir;

std::string Source(const std::string& relative) { return testing::SourceDir() + "/" + relative; }

// What an example's data layers read.
enum class Data {
  kNone,        // sources that do not exist: crema feeds zeros (crop_size and mean_value)
  kCifar,       // sources that do not exist, and a mean file of CIFAR's 3x32x32
  kMnist,       // tiny MNIST LMDBs (sources naming "test" get the test set)
  kMnistPairs,  // a tiny LMDB of image pairs, 2x28x28
};

// A copy of an example net for a test: batch cut to `batch`, sources replaced by `source`.
struct Reduction {
  int batch = 1;
  std::function<std::string(const std::string&)> source;
  std::string mean_file;
};

std::string WriteReduced(const std::string& example, const Reduction& r, const std::string& out) {
  caffe::NetParameter net = ReadNetFile(Source(example));
  for (caffe::LayerParameter& layer : *net.mutable_layer()) {
    if (layer.type() == "Data") {
      caffe::DataParameter* data = layer.mutable_data_param();
      data->set_batch_size(static_cast<uint32_t>(r.batch));
      data->set_source(r.source(data->source()));
      if (layer.transform_param().has_mean_file()) {
        layer.mutable_transform_param()->set_mean_file(r.mean_file);
      }
    } else if (layer.type() == "Input") {
      for (caffe::BlobShape& shape : *layer.mutable_input_param()->mutable_shape()) {
        shape.set_dim(0, r.batch);
      }
    } else {
      EXPECT_EQ(layer.type().find("Data"), std::string::npos)
          << example << ": layer " << layer.name() << " of type " << layer.type()
          << " is not reduced by this test";
    }
  }
  WriteTextProto(out, net);
  return out;
}

// `crema info`'s table as layer name -> learnable parameters, and its total.
struct Info {
  std::map<std::string, int64_t> layer_params;
  int64_t total = -1;
};

int64_t ParseGrouped(const std::string& text) {
  std::string digits;
  for (char c : text) {
    if (c >= '0' && c <= '9') digits += c;
  }
  return digits.empty() ? -1 : std::stoll(digits);
}

Info RunInfo(const std::string& arguments) {
  Info info;
  const CommandResult r = Crema("info " + arguments);
  EXPECT_EQ(r.status, 0) << arguments << "\n" << r.output;
  if (r.status != 0) return info;
  // The parameters column ends where its header "parameters" ends; names start each line.
  size_t column_end = std::string::npos;
  size_t pos = 0;
  while (pos < r.output.size()) {
    size_t eol = r.output.find('\n', pos);
    if (eol == std::string::npos) eol = r.output.size();
    const std::string line = r.output.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.rfind("Learnable parameters: ", 0) == 0) {
      info.total = ParseGrouped(line.substr(22, line.find(' ', 22) - 22));
      break;
    }
    if (column_end == std::string::npos) {
      if (line.rfind("layer ", 0) == 0 && line.find("parameters") != std::string::npos) {
        column_end = line.find("parameters") + std::strlen("parameters");
      }
      continue;
    }
    if (line.size() < column_end) continue;
    const std::string name = line.substr(0, line.find(' '));
    const size_t start = line.rfind(' ', column_end - 1);
    info.layer_params[name] = ParseGrouped(line.substr(start + 1, column_end - start - 1));
  }
  EXPECT_GE(info.total, 0) << "no parameter count from `crema info " << arguments << "`:\n"
                           << r.output;
  return info;
}

// One untimed and one timed forward+backward pass; returns the initial loss.
float RunOnePass(const std::string& model) {
  const CommandResult r = Crema("time -iterations 1 -model " + model);
  EXPECT_EQ(r.status, 0) << model << "\n" << r.output;
  EXPECT_CONTAINS(r.output, "Average Forward-Backward: ");
  const size_t at = r.output.find("Initial loss: ");
  if (at == std::string::npos) return NAN;
  return std::stof(r.output.substr(at + std::strlen("Initial loss: ")));
}

// Tiny MNIST-format LMDBs `dir`/mnist_{train,test}_lmdb (bands whose row tells the class).
void WriteTinyMnistLmdbs(const TempDir& dir, int train_count, int test_count) {
  for (const auto& [split, count] : {std::pair<std::string, int>{"train", train_count},
                                     std::pair<std::string, int>{"test", test_count}}) {
    testing::WriteTinyMnist(dir.file(split + "-images"), dir.file(split + "-labels"), count,
                            split == "train" ? 11u : 12u);
    const CommandResult r = Crema("convert mnist " + dir.file(split + "-images") + " " +
                                  dir.file(split + "-labels") + " " +
                                  dir.file("mnist_" + split + "_lmdb"));
    ASSERT_EQ(r.status, 0) << r.output;
  }
}

// The images (28x28 bytes each) and labels of tiny MNIST files written by WriteTinyMnist.
void ReadTinyMnist(const std::string& images, const std::string& labels,
                   std::vector<std::string>* pixels, std::vector<int>* classes) {
  const std::string image_bytes = ReadFileToString(images);
  const std::string label_bytes = ReadFileToString(labels);
  const size_t count = label_bytes.size() - 8;
  ASSERT_EQ(image_bytes.size(), 16 + count * 784);
  pixels->clear();
  classes->clear();
  for (size_t i = 0; i < count; ++i) {
    pixels->push_back(image_bytes.substr(16 + i * 784, 784));
    classes->push_back(static_cast<unsigned char>(label_bytes[8 + i]));
  }
}

// An LMDB of `count` pairs of tiny MNIST images (2x28x28 Datums, label 1 when the two show
// the same class), drawn so that half the pairs are similar.
void WritePairLmdb(const TempDir& dir, const std::string& db, int count, unsigned seed) {
  testing::WriteTinyMnist(dir.file(db + "-images"), dir.file(db + "-labels"), 50, seed);
  std::vector<std::string> pixels;
  std::vector<int> classes;
  ReadTinyMnist(dir.file(db + "-images"), dir.file(db + "-labels"), &pixels, &classes);
  std::mt19937 gen(seed);
  std::uniform_int_distribution<size_t> pick(0, pixels.size() - 1);
  LmdbWriter writer(dir.file(db));
  for (int k = 0; k < count; ++k) {
    const size_t i = pick(gen);
    size_t j = pick(gen);
    if (k % 2 == 0) {
      while (classes[j] != classes[i]) j = pick(gen);
    }
    caffe::Datum datum;
    datum.set_channels(2);
    datum.set_height(28);
    datum.set_width(28);
    datum.set_data(pixels[i] + pixels[j]);
    datum.set_label(classes[i] == classes[j] ? 1 : 0);
    char key[16];
    std::snprintf(key, sizeof key, "%08d", k);
    writer.Put(key, datum.SerializeAsString());
  }
  writer.Finish();
}

// A mean image of CIFAR's shape, in Caffe's legacy binaryproto layout.
void WriteCifarMean(const std::string& path) {
  caffe::BlobProto mean;
  mean.set_num(1);
  mean.set_channels(3);
  mean.set_height(32);
  mean.set_width(32);
  for (int i = 0; i < 3 * 32 * 32; ++i) mean.add_data(120.f);
  WriteBinaryProto(path, mean);
}

struct ExampleNet {
  const char* name;         // the test's name
  const char* train;        // net with data and loss layers, relative to the source tree
  const char* deploy;       // the deploy net, or nullptr
  int64_t params;           // learnable parameters of `train`
  int64_t deploy_params;    // of `deploy`
  int batch;                // batch of the forward+backward pass
  Data data;
  const char* test_phase;   // `crema info` flags selecting the TEST phase
};

void PrintTo(const ExampleNet& e, std::ostream* os) { *os << e.name; }

// Learnable parameter counts, weights + biases per layer:
// - LeNet: conv1 1*20*25+20 = 520, conv2 20*50*25+50 = 25,050, ip1 800*500+500 = 400,500,
//   ip2 500*10+10 = 5,010: 431,080.
// - CIFAR-10 quick: conv1 3*32*25+32 = 2,432, conv2 32*32*25+32 = 25,632, conv3 32*64*25+64
//   = 51,264, ip1 (64*4*4)*64+64 = 65,600, ip2 64*10+10 = 650: 145,578.
// - CIFAR-10 full: the same convolutions (79,328) and ip1 (64*4*4)*10+10 = 10,250: 89,578.
// - GoogLeNet train_val: deploy's 6,998,552 plus two auxiliary classifiers. loss1 (on the
//   512 channels of inception_4a): conv 512*128+128 = 65,664, fc (128*4*4)*1024+1024 =
//   2,098,176, classifier 1024*1000+1000 = 1,025,000: 3,188,840. loss2 (on the 528 channels
//   of inception_4d): conv 528*128+128 = 67,712, the same fc and classifier: 3,190,888.
//   Together 13,378,280.
// - MNIST autoencoder (784-1000-500-250-30-250-500-1000-784): 785,000 + 500,500 + 125,250 +
//   7,530 + 7,750 + 125,500 + 501,000 + 784,784 = 2,837,314.
// - MNIST siamese: one LeNet tower (431,080) plus feat 10*2+2 = 22: 431,102; the second tower
//   shares every blob by name and owns none.
// - ResNet-50 and MobileNet v1 count Scale's scale and bias, not BatchNorm's statistics.
const ExampleNet kExampleNets[] = {
    {"LeNet", "examples/mnist/lenet_train_test.prototxt", "examples/mnist/lenet.prototxt",
     431080, 431080, 2, Data::kMnist, "-phase TEST"},
    {"Cifar10Quick", "examples/cifar10/cifar10_quick_train_test.prototxt",
     "examples/cifar10/cifar10_quick.prototxt", 145578, 145578, 2, Data::kCifar, "-phase TEST"},
    {"Cifar10Full", "examples/cifar10/cifar10_full_train_test.prototxt",
     "examples/cifar10/cifar10_full.prototxt", 89578, 89578, 2, Data::kCifar, "-phase TEST"},
    {"AlexNet", "examples/models/alexnet/train_val.prototxt",
     "examples/models/alexnet/deploy.prototxt", 60965224, 60965224, 2, Data::kNone,
     "-phase TEST"},
    {"CaffeNet", "examples/models/caffenet/train_val.prototxt",
     "examples/models/caffenet/deploy.prototxt", 60965224, 60965224, 2, Data::kNone,
     "-phase TEST"},
    {"GoogLeNet", "examples/models/googlenet/train_val.prototxt",
     "examples/models/googlenet/deploy.prototxt", 13378280, 6998552, 2, Data::kNone,
     "-phase TEST"},
    {"Vgg16", "examples/models/vgg16/train_val.prototxt", "examples/models/vgg16/deploy.prototxt",
     138357544, 138357544, 1, Data::kNone, "-phase TEST"},
    {"ResNet50", "examples/models/resnet50/train_val.prototxt",
     "examples/models/resnet50/deploy.prototxt", 25557096, 25557096, 1, Data::kNone,
     "-phase TEST"},
    {"SqueezeNet11", "examples/models/squeezenet1.1/train_val.prototxt",
     "examples/models/squeezenet1.1/deploy.prototxt", 1235496, 1235496, 2, Data::kNone,
     "-phase TEST"},
    {"MobileNetV1", "examples/models/mobilenet_v1/train_val.prototxt",
     "examples/models/mobilenet_v1/deploy.prototxt", 4231976, 4231976, 2, Data::kNone,
     "-phase TEST"},
    {"MnistAutoencoder", "examples/mnist_autoencoder/mnist_autoencoder.prototxt", nullptr,
     2837314, 0, 2, Data::kMnist, "-phase TEST -stage test-on-test"},
    {"MnistSiamese", "examples/mnist_siamese/mnist_siamese_train_test.prototxt",
     "examples/mnist_siamese/mnist_siamese.prototxt", 431102, 431102, 2, Data::kMnistPairs,
     "-phase TEST"},
};

class ExampleNetTest : public ::testing::TestWithParam<ExampleNet> {};

TEST_P(ExampleNetTest, HasItsParameterCountAndRunsForwardBackward) {
  const ExampleNet& e = GetParam();
  TempDir dir;
  Reduction reduction;
  reduction.batch = e.batch;
  reduction.source = [&](const std::string&) { return dir.file("no_such_lmdb"); };
  switch (e.data) {
    case Data::kNone:
      break;
    case Data::kCifar:
      WriteCifarMean(dir.file("mean.binaryproto"));
      reduction.mean_file = dir.file("mean.binaryproto");
      break;
    case Data::kMnist:
      WriteTinyMnistLmdbs(dir, 20, 10);
      reduction.source = [&](const std::string& source) {
        return dir.file(source.find("test") != std::string::npos ? "mnist_test_lmdb"
                                                                  : "mnist_train_lmdb");
      };
      break;
    case Data::kMnistPairs:
      WritePairLmdb(dir, "pairs_lmdb", 10, 5);
      reduction.source = [&](const std::string&) { return dir.file("pairs_lmdb"); };
      break;
  }
  const std::string train = WriteReduced(e.train, reduction, dir.file("train.prototxt"));

  const Info info = RunInfo("-model " + train);
  EXPECT_EQ(info.total, e.params) << e.train;
  EXPECT_EQ(RunInfo(std::string(e.test_phase) + " -model " + train).total, e.params)
      << e.train << " in the TEST phase";
  const float loss = RunOnePass(train);
  EXPECT_TRUE(std::isfinite(loss) && loss > 0) << e.train << ": initial loss " << loss;

  if (e.deploy != nullptr) {
    const std::string deploy = WriteReduced(e.deploy, reduction, dir.file("deploy.prototxt"));
    const Info deployed = RunInfo("-model " + deploy);
    EXPECT_EQ(deployed.total, e.deploy_params) << e.deploy;
    // Every layer with parameters in the deploy net has a namesake of the same size in the
    // training net, so the trained .caffemodel fills it.
    int with_params = 0;
    for (const auto& [name, count] : deployed.layer_params) {
      if (count <= 0) continue;
      ++with_params;
      const auto it = info.layer_params.find(name);
      ASSERT_NE(it, info.layer_params.end()) << e.deploy << ": layer " << name
                                              << " has no namesake in " << e.train;
      EXPECT_EQ(it->second, count) << e.deploy << ": layer " << name;
    }
    EXPECT_GT(with_params, 0) << e.deploy;
    EXPECT_TRUE(std::isfinite(RunOnePass(deploy))) << e.deploy;
  }
}

INSTANTIATE_TEST_SUITE_P(Examples, ExampleNetTest, ::testing::ValuesIn(kExampleNets),
                         [](const ::testing::TestParamInfo<ExampleNet>& net) {
                           return std::string(net.param.name);
                         });

// The losses `crema train` logged: training display lines (iteration -> smoothed loss) and the
// outputs of test net #1 ("test-on-test") at each test.
struct TrainingLog {
  std::map<int, float> train_loss;
  std::vector<float> test_cross_entropy;
};

TrainingLog ParseTrainingLog(const std::string& output) {
  TrainingLog log;
  size_t pos = 0;
  int test_net = -1;
  while (pos < output.size()) {
    size_t eol = output.find('\n', pos);
    if (eol == std::string::npos) eol = output.size();
    const std::string line = output.substr(pos, eol - pos);
    pos = eol + 1;
    const size_t testing = line.find("Testing net (#");
    if (testing != std::string::npos) {
      test_net = line[testing + std::strlen("Testing net (#")] - '0';
      continue;
    }
    const size_t iteration = line.find("] Iteration ");
    const size_t loss = line.find(", loss = ");
    if (iteration != std::string::npos && loss != std::string::npos) {
      log.train_loss[std::stoi(line.substr(iteration + std::strlen("] Iteration ")))] =
          std::stof(line.substr(loss + std::strlen(", loss = ")));
      continue;
    }
    const size_t output_at = line.find("Test net output #0: cross_entropy_loss = ");
    if (output_at != std::string::npos && test_net == 1) {
      log.test_cross_entropy.push_back(std::stof(
          line.substr(output_at + std::strlen("Test net output #0: cross_entropy_loss = "))));
    }
  }
  return log;
}

// The test-set cross-entropy of the best input-independent reconstruction (every pixel
// predicted by its mean over the test images): what a net that learnt only its output biases
// scores. The sparse initialisation starts far above it (its sigmoids are saturated).
double ConstantReconstructionCrossEntropy(const std::vector<std::string>& images) {
  double total = 0;
  for (int p = 0; p < 784; ++p) {
    double mean = 0;
    for (const std::string& image : images) mean += static_cast<unsigned char>(image[p]) / 255.0;
    mean /= static_cast<double>(images.size());
    for (const std::string& image : images) {
      const double x = static_cast<unsigned char>(image[p]) / 255.0;
      total -= x * std::log(mean) + (1 - x) * std::log(1 - mean);
    }
  }
  return total / static_cast<double>(images.size());
}

class AutoencoderSolverTest : public ::testing::TestWithParam<const char*> {};

// A few hundred iterations of each of the example's solvers, with its own hyper-parameters,
// on a tiny MNIST: the loss falls to less than half of where it started, near or below that
// of the best constant reconstruction. Going clearly below it is not asked of all of them:
// on this tiny, repetitive set at batch 20, Nesterov's momentum of 0.95 falls back onto the
// constant reconstruction (on MNIST at batch 100 it learns), and RMSProp's recipe rate of
// 0.01 keeps it near the constant reconstruction on MNIST too (see the example's README).
TEST_P(AutoencoderSolverTest, LowersTheLoss) {
  const std::string solver_name = GetParam();
  constexpr int kIterations = 300, kBatch = 20;
  TempDir dir;
  WriteTinyMnistLmdbs(dir, 200, 100);
  Reduction reduction;
  reduction.batch = kBatch;
  reduction.source = [&](const std::string& source) {
    return dir.file(source.find("test") != std::string::npos ? "mnist_test_lmdb"
                                                              : "mnist_train_lmdb");
  };
  const std::string net = WriteReduced("examples/mnist_autoencoder/mnist_autoencoder.prototxt",
                                       reduction, dir.file("net.prototxt"));
  caffe::SolverParameter solver = ReadSolverParamsFromTextFile(Source(
      "examples/mnist_autoencoder/mnist_autoencoder_solver_" + solver_name + ".prototxt"));
  const std::map<std::string, std::string> kTypes = {
      {"sgd", "SGD"},         {"nesterov", "Nesterov"}, {"adagrad", "AdaGrad"},
      {"rmsprop", "RMSProp"}, {"adadelta", "AdaDelta"}, {"adam", "Adam"}};
  EXPECT_EQ(solver.type(), kTypes.at(solver_name));
  ASSERT_EQ(solver.test_iter_size(), 2);
  solver.set_net(net);
  solver.set_test_iter(0, 200 / kBatch);
  solver.set_test_iter(1, 100 / kBatch);
  solver.set_test_interval(kIterations);
  solver.set_max_iter(kIterations);
  solver.set_display(20);
  solver.set_average_loss(20);
  solver.set_snapshot(0);
  solver.set_snapshot_prefix(dir.file("autoencoder"));
  solver.set_random_seed(5);
  WriteTextProto(dir.file("solver.prototxt"), solver);

  const CommandResult r = Crema("train -metrics none -solver " + dir.file("solver.prototxt"));
  ASSERT_EQ(r.status, 0) << r.output;
  const TrainingLog log = ParseTrainingLog(r.output);
  ASSERT_EQ(log.train_loss.count(0), 1u) << r.output;
  ASSERT_EQ(log.train_loss.count(kIterations), 1u) << r.output;
  ASSERT_EQ(log.test_cross_entropy.size(), 2u) << r.output;

  std::vector<std::string> images;
  std::vector<int> classes;
  ReadTinyMnist(dir.file("test-images"), dir.file("test-labels"), &images, &classes);
  const double constant = ConstantReconstructionCrossEntropy(images);
  const float first = log.train_loss.at(0), last = log.train_loss.at(kIterations);
  const float test_first = log.test_cross_entropy[0], test_last = log.test_cross_entropy[1];
  EXPECT_LT(last, 0.5f * first) << solver_name;
  EXPECT_LT(test_last, 0.5f * test_first) << solver_name;
  EXPECT_LT(test_last, 1.25 * constant) << solver_name << ": far from even the mean image";
  std::printf("%-9s train loss %.1f -> %.1f, test cross-entropy %.1f -> %.1f (mean image: %.1f)\n",
              solver_name.c_str(), first, last, test_first, test_last, constant);
}

INSTANTIATE_TEST_SUITE_P(Examples, AutoencoderSolverTest,
                         ::testing::Values("sgd", "nesterov", "adagrad", "rmsprop", "adadelta",
                                           "adam"));

// The siamese net with its recipe on pairs of tiny MNIST images: the contrastive loss falls.
TEST(MnistSiameseExampleTest, Trains) {
  TempDir dir;
  WritePairLmdb(dir, "train_lmdb", 400, 21);
  WritePairLmdb(dir, "test_lmdb", 100, 22);
  Reduction reduction;
  reduction.batch = 20;
  reduction.source = [&](const std::string& source) {
    return dir.file(source.find("test") != std::string::npos ? "test_lmdb" : "train_lmdb");
  };
  const std::string net = WriteReduced("examples/mnist_siamese/mnist_siamese_train_test.prototxt",
                                       reduction, dir.file("net.prototxt"));
  caffe::SolverParameter solver =
      ReadSolverParamsFromTextFile(Source("examples/mnist_siamese/mnist_siamese_solver.prototxt"));
  solver.set_net(net);
  solver.set_test_iter(0, 5);
  solver.set_test_interval(150);
  solver.set_max_iter(150);
  solver.set_display(10);
  solver.set_snapshot(0);
  solver.set_snapshot_prefix(dir.file("siamese"));
  solver.set_random_seed(5);
  WriteTextProto(dir.file("solver.prototxt"), solver);
  const CommandResult r = Crema("train -metrics none -solver " + dir.file("solver.prototxt"));
  ASSERT_EQ(r.status, 0) << r.output;
  std::vector<float> test_loss;
  const std::string kTestLoss = "Test net output #0: loss = ";
  for (size_t at = r.output.find(kTestLoss); at != std::string::npos;
       at = r.output.find(kTestLoss, at + 1)) {
    test_loss.push_back(std::stof(r.output.substr(at + kTestLoss.size())));
  }
  ASSERT_EQ(test_loss.size(), 2u) << r.output;
  EXPECT_LT(test_loss[1], 0.5f * test_loss[0]) << r.output;
}

// make_pairs: Caffe's siamese dataset from MNIST files, in LMDB.
TEST(MnistSiameseExampleTest, MakePairsWritesPairsOfTheImages) {
  std::string ignored;
  if (testing::RunCommand("command -v python3 && command -v mdb_load", &ignored) != 0) {
    GTEST_SKIP() << "make_pairs needs python3 and mdb_load (lmdb-utils)";
  }
  TempDir dir;
  testing::WriteTinyMnist(dir.file("images"), dir.file("labels"), 60, 9);
  const std::string make_pairs = Source("examples/mnist_siamese/make_pairs");
  std::string output;
  ASSERT_EQ(testing::RunCommand(make_pairs + " " + dir.file("images") + " " + dir.file("labels") +
                                    " " + dir.file("pairs_lmdb") + " -seed 4",
                                &output),
            0)
      << output;
  EXPECT_CONTAINS(output, "wrote 60 pairs");
  EXPECT_FALSE(fs::exists(dir.file("pairs_lmdb.partial")));

  std::vector<std::string> pixels;
  std::vector<int> classes;
  ReadTinyMnist(dir.file("images"), dir.file("labels"), &pixels, &classes);
  const auto records = testing::ReadDatums(dir.file("pairs_lmdb"));
  ASSERT_EQ(records.size(), 60u);
  int similar = 0;
  std::vector<bool> used(pixels.size(), false);
  for (size_t k = 0; k < records.size(); ++k) {
    char key[32];
    std::snprintf(key, sizeof key, "%08zu", k);
    EXPECT_EQ(records[k].first, key);
    const caffe::Datum& d = records[k].second;
    ASSERT_EQ(d.channels(), 2);
    ASSERT_EQ(d.height(), 28);
    ASSERT_EQ(d.width(), 28);
    ASSERT_EQ(d.data().size(), 2u * 784u);
    EXPECT_FALSE(d.encoded());
    // Each channel is one of the source images, and the label says whether their classes agree.
    int class_of[2] = {-1, -1};
    for (int half = 0; half < 2; ++half) {
      const std::string image = d.data().substr(static_cast<size_t>(half) * 784, 784);
      for (size_t i = 0; i < pixels.size(); ++i) {
        if (pixels[i] == image) {
          class_of[half] = classes[i];
          used[i] = true;
          break;
        }
      }
      ASSERT_GE(class_of[half], 0) << "record " << k << " channel " << half
                                   << " is none of the images";
    }
    EXPECT_EQ(d.label(), class_of[0] == class_of[1] ? 1 : 0) << "record " << k;
    similar += d.label();
  }
  // Random pairs: about one in ten similar, and the draws cover much of the set.
  EXPECT_LT(similar, 30);
  EXPECT_GT(std::count(used.begin(), used.end(), true), 30);

  // It refuses to overwrite, and the crema Data layer reads what it wrote.
  EXPECT_NE(testing::RunCommand(make_pairs + " " + dir.file("images") + " " + dir.file("labels") +
                                    " " + dir.file("pairs_lmdb"),
                                &output),
            0);
  EXPECT_CONTAINS(output, "already holds a database");
  Reduction reduction;
  reduction.batch = 2;
  reduction.source = [&](const std::string&) { return dir.file("pairs_lmdb"); };
  const std::string net = WriteReduced("examples/mnist_siamese/mnist_siamese_train_test.prototxt",
                                       reduction, dir.file("net.prototxt"));
  EXPECT_TRUE(std::isfinite(RunOnePass(net)));
}

}  // namespace
}  // namespace crema
