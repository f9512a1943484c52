// Small helpers shared by the tests.
#ifndef CREMA_TESTS_UTIL_TEST_HELPERS_H_
#define CREMA_TESTS_UTIL_TEST_HELPERS_H_

#include <gtest/gtest.h>

#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "crema/core/blob.h"
#include "crema/core/error.h"
#include "crema/proto/caffe.pb.h"

namespace crema {
class Net;
}  // namespace crema

namespace crema::testing {

// Parses a LayerParameter (or any message) from protobuf text; fails the test on error.
caffe::LayerParameter LayerFromText(const std::string& text);
caffe::NetParameter NetFromText(const std::string& text);

// Fills data with U[lo, hi) from a generator seeded with `seed`.
void FillUniform(Blob* blob, float lo, float hi, unsigned seed);
void FillGaussian(Blob* blob, float mean, float stddev, unsigned seed);

// Gives `to` the parameter values of `from` (matched by layer name, as a .caffemodel would).
void CopyWeights(const Net& from, Net* to);

// A fresh blob of `shape`, wrapped for BlobVec use.
std::unique_ptr<Blob> MakeBlob(const std::vector<int>& shape);

// A unique, empty directory under the system temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Path of the source tree (for examples/ and tests/testdata/) and of the built `crema` binary.
std::string SourceDir();
std::string CremaBinary();

// Runs a shell command; returns its exit status and captures stdout+stderr into *output.
int RunCommand(const std::string& command, std::string* output);

// Runs the built `crema` binary (one compute thread) with `arguments`, a shell-quoted string.
struct CommandResult {
  int status = 0;
  std::string output;  // stdout and stderr together
};
CommandResult Crema(const std::string& arguments);

// Runs `fn`, expecting a crema::Error of `code` whose message contains every fragment.
template <typename Fn>
void ExpectError(Fn&& fn, ErrorCode code, std::initializer_list<std::string> fragments) {
  try {
    fn();
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    for (const std::string& f : fragments) {
      EXPECT_NE(std::string(e.what()).find(f), std::string::npos)
          << "'" << f << "' not in: " << e.what();
    }
  }
}

// Success when the messages are equal; otherwise a readable list of the differences.
::testing::AssertionResult SameMessage(const google::protobuf::Message& expected,
                                       const google::protobuf::Message& actual);

// Writes `contents` to `path`, failing the test on error.
void WriteFile(const std::string& path, const std::string& contents);

}  // namespace crema::testing

// Expects the string `haystack` to contain `needle`, printing the whole haystack if not.
#define EXPECT_CONTAINS(haystack, needle)                                              \
  EXPECT_NE((haystack).find(needle), std::string::npos) << "missing \"" << (needle)    \
                                                        << "\" in:\n" << (haystack)

#endif  // CREMA_TESTS_UTIL_TEST_HELPERS_H_
