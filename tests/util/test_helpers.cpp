#include "test_helpers.h"

#include <gtest/gtest.h>
#include <google/protobuf/text_format.h>
#include <google/protobuf/util/message_differencer.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sys/wait.h>

#include "crema/net/net.h"

namespace crema::testing {

caffe::LayerParameter LayerFromText(const std::string& text) {
  caffe::LayerParameter param;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &param)) << text;
  return param;
}

caffe::NetParameter NetFromText(const std::string& text) {
  caffe::NetParameter param;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(text, &param)) << text;
  return param;
}

void CopyWeights(const Net& from, Net* to) {
  caffe::NetParameter weights;
  from.ToProto(&weights);
  to->CopyTrainedLayersFrom(weights);
}

void FillUniform(Blob* blob, float lo, float hi, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  float* data = blob->mutable_cpu_data();
  for (int i = 0; i < blob->count(); ++i) data[i] = dist(gen);
}

void FillGaussian(Blob* blob, float mean, float stddev, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(mean, stddev);
  float* data = blob->mutable_cpu_data();
  for (int i = 0; i < blob->count(); ++i) data[i] = dist(gen);
}

std::unique_ptr<Blob> MakeBlob(const std::vector<int>& shape) {
  return std::make_unique<Blob>(shape);
}

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "crema-test-XXXXXX").string();
  char* made = mkdtemp(pattern.data());
  if (made == nullptr) {
    ADD_FAILURE() << "cannot create a temporary directory";
  }
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string SourceDir() { return CREMA_SOURCE_DIR; }
std::string CremaBinary() { return CREMA_BINARY; }

int RunCommand(const std::string& command, std::string* output) {
  output->clear();
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) output->append(buffer.data(), n);
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

CommandResult Crema(const std::string& arguments) {
  CommandResult r;
  r.status = RunCommand("OMP_NUM_THREADS=1 " + CremaBinary() + " " + arguments, &r.output);
  return r;
}

::testing::AssertionResult SameMessage(const google::protobuf::Message& expected,
                                       const google::protobuf::Message& actual) {
  google::protobuf::util::MessageDifferencer differencer;
  std::string report;
  differencer.ReportDifferencesToString(&report);
  if (differencer.Compare(expected, actual)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << report << "\nactual:\n" << actual.DebugString();
}

void WriteFile(const std::string& path, const std::string& contents) {
  std::ofstream out(path, std::ios::binary);
  ASSERT_TRUE(out.good()) << "cannot write " << path;
  out << contents;
}

}  // namespace crema::testing
