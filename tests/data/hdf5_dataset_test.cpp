#include "crema/data/hdf5_dataset.h"

#include <gtest/gtest.h>

#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include "crema/core/error.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::ExpectError;
using testing::TempDir;

// Values that are not all small integers, so a conversion that loses bits shows.
std::vector<float> FloatValues(int n) {
  std::vector<float> v;
  for (int i = 0; i < n; ++i) {
    v.push_back(std::ldexp(static_cast<float>(i * 7919 % 1013), -7) - 3.25f);
  }
  return v;
}

TEST(Hdf5DatasetTest, FloatDatasetRoundTripsExactly) {
  TempDir dir;
  const std::string path = dir.file("a.h5");
  std::vector<float> values = FloatValues(2 * 3 * 4);
  values[5] = std::numeric_limits<float>::denorm_min();
  values[6] = -0.f;
  values[7] = 1e38f;
  {
    Hdf5File file = Hdf5File::Create(path);
    file.WriteFloat("data", {2, 3, 4}, values.data());
    file.Close();
  }
  const Hdf5File file = Hdf5File::Open(path);
  EXPECT_EQ(file.path(), path);
  EXPECT_EQ(file.Shape("data"), (std::vector<int64_t>{2, 3, 4}));
  const std::vector<float> read = file.ReadFloat("data");
  ASSERT_EQ(read.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(std::memcmp(&read[i], &values[i], sizeof(float)), 0) << i;
  }
}

TEST(Hdf5DatasetTest, DoubleAndIntDatasetsAreConvertedToFloat) {
  TempDir dir;
  const std::string path = dir.file("a.h5");
  // Doubles exactly representable as floats read back exactly; others round to nearest.
  const std::vector<double> doubles = {0.5, -1.25, 3.0e10, 1.0 / 3.0, 16777217.0, -0.0};
  const std::vector<int32_t> ints = {0, -7, 123456, 16777217};
  {
    Hdf5File file = Hdf5File::Create(path);
    file.WriteDouble("d", {2, 3}, doubles.data());
    file.WriteInt32("i", {4}, ints.data());
  }
  const Hdf5File file = Hdf5File::Open(path);
  const std::vector<float> d = file.ReadFloat("d");
  ASSERT_EQ(d.size(), doubles.size());
  for (size_t i = 0; i < doubles.size(); ++i) {
    EXPECT_EQ(d[i], static_cast<float>(doubles[i])) << i;
  }
  EXPECT_TRUE(std::signbit(d[5]));
  const std::vector<float> i = file.ReadFloat("i");
  ASSERT_EQ(i.size(), ints.size());
  for (size_t k = 0; k < ints.size(); ++k) EXPECT_EQ(i[k], static_cast<float>(ints[k])) << k;
}

TEST(Hdf5DatasetTest, ReadsRowRanges) {
  TempDir dir;
  const std::string path = dir.file("a.h5");
  const std::vector<float> values = FloatValues(5 * 2 * 3);
  const std::vector<double> doubles(values.begin(), values.end());
  {
    Hdf5File file = Hdf5File::Create(path);
    file.WriteFloat("f", {5, 2, 3}, values.data());
    file.WriteDouble("d", {5, 2, 3}, doubles.data());
    file.WriteFloat("labels", {5}, values.data());
  }
  const Hdf5File file = Hdf5File::Open(path);
  for (const std::string name : {"f", "d"}) {
    for (int64_t begin = 0; begin <= 5; ++begin) {
      for (int64_t end = begin; end <= 5; ++end) {
        std::vector<float> out(static_cast<size_t>((end - begin) * 6) + 1, -99.f);
        file.ReadFloatRows(name, begin, end, out.data());
        for (int64_t k = 0; k < (end - begin) * 6; ++k) {
          EXPECT_EQ(out[k], values[begin * 6 + k]) << name << " [" << begin << ", " << end << ")";
        }
        EXPECT_EQ(out.back(), -99.f) << "wrote past the rows";
      }
    }
  }
  std::vector<float> labels(2);
  file.ReadFloatRows("labels", 3, 5, labels.data());
  EXPECT_EQ(labels, (std::vector<float>{values[3], values[4]}));

  float sink[64];
  ExpectError([&] { file.ReadFloatRows("f", 4, 6, sink); }, ErrorCode::kInvalidArgument,
              {"[4, 6)", "5 rows", "'f'", path});
  ExpectError([&] { file.ReadFloatRows("f", -1, 1, sink); }, ErrorCode::kInvalidArgument,
              {"'f'", path});
  ExpectError([&] { file.ReadFloatRows("f", 3, 2, sink); }, ErrorCode::kInvalidArgument,
              {"'f'", path});
}

TEST(Hdf5DatasetTest, GroupsScalarsAndStrings) {
  TempDir dir;
  const std::string path = dir.file("snapshot.h5");
  const std::vector<float> w = {1, 2, 3, 4, 5, 6};
  const float scalar = 2.5f;
  {
    Hdf5File file = Hdf5File::Create(path);
    file.WriteFloat("data/conv1/0", {2, 3}, w.data());
    file.WriteFloat("data/conv1/1", {2}, w.data());
    file.WriteFloat("/data/ip/0", {6}, w.data());
    file.WriteFloat("s", {}, &scalar);
    file.WriteFloat("empty", {0, 3}, w.data());
    file.WriteInt("iter", 1234);
    file.WriteInt("negative", -5);
    file.WriteString("learned_net", "out/lenet_iter_1234.caffemodel");
    file.WriteString("blank", "");
    file.Flush();
    ExpectError([&] { file.WriteFloat("data/conv1/0", {1}, w.data()); },
                ErrorCode::kInvalidArgument, {"already", "'data/conv1/0'", path});
    ExpectError([&] { file.WriteFloat("x", {-1}, w.data()); }, ErrorCode::kInvalidArgument,
                {"negative", "'x'", path});
    ExpectError([&] { file.WriteFloat("", {1}, w.data()); }, ErrorCode::kInvalidArgument,
                {path});
  }
  const Hdf5File file = Hdf5File::Open(path);
  EXPECT_TRUE(file.Exists("data"));
  EXPECT_TRUE(file.Exists("data/conv1/1"));
  EXPECT_TRUE(file.Exists("/data/conv1/1"));
  EXPECT_TRUE(file.Exists("/"));
  EXPECT_FALSE(file.Exists("data/conv2/0"));
  EXPECT_FALSE(file.Exists("nothing/at/all"));
  EXPECT_FALSE(file.Exists("iter/below_a_dataset"));
  EXPECT_EQ(file.List("/"), (std::vector<std::string>{"blank", "data", "empty", "iter",
                                                      "learned_net", "negative", "s"}));
  EXPECT_EQ(file.List("data"), (std::vector<std::string>{"conv1", "ip"}));
  EXPECT_EQ(file.List("data/conv1"), (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(file.ReadFloat("data/conv1/0"), w);
  EXPECT_EQ(file.Shape("data/conv1/1"), (std::vector<int64_t>{2}));
  EXPECT_EQ(file.Shape("s"), (std::vector<int64_t>{}));
  EXPECT_EQ(file.ReadFloat("s"), (std::vector<float>{2.5f}));
  EXPECT_EQ(file.Shape("empty"), (std::vector<int64_t>{0, 3}));
  EXPECT_TRUE(file.ReadFloat("empty").empty());
  EXPECT_EQ(file.Shape("iter"), (std::vector<int64_t>{1}));  // how Caffe stores it
  EXPECT_EQ(file.ReadInt("iter"), 1234);
  EXPECT_EQ(file.ReadInt("negative"), -5);
  EXPECT_EQ(file.ReadString("learned_net"), "out/lenet_iter_1234.caffemodel");
  EXPECT_EQ(file.ReadString("blank"), "");

  ExpectError([&] { file.List("data/conv1/0"); }, ErrorCode::kCorruption,
              {"not a group", "'data/conv1/0'", path});
  ExpectError([&] { file.List("nope"); }, ErrorCode::kCorruption, {"'nope'", path});
  ExpectError([&] { file.Shape("data"); }, ErrorCode::kCorruption,
              {"not a dataset", "'data'", path});
  ExpectError([&] { file.ReadInt("s"); }, ErrorCode::kCorruption, {"not an integer", "'s'"});
  ExpectError([&] { file.ReadInt("data/conv1/1"); }, ErrorCode::kCorruption,
              {"'data/conv1/1'", path});
  ExpectError([&] { file.ReadString("iter"); }, ErrorCode::kCorruption,
              {"not a string", "'iter'", path});
  ExpectError([&] { file.ReadFloat("learned_net"); }, ErrorCode::kCorruption,
              {"strings, not numbers", "'learned_net'", path});
  float sink[4];
  ExpectError([&] { file.ReadFloatRows("s", 0, 1, sink); }, ErrorCode::kInvalidArgument,
              {"scalar", "'s'", path});
  // The file was opened read-only.
  Hdf5File reopened = Hdf5File::Open(path);
  ExpectError([&] { reopened.WriteFloat("new", {1}, w.data()); }, ErrorCode::kIOError,
              {"'new'", path});
}

TEST(Hdf5DatasetTest, MissingDatasetIsCorruptionNamingFileAndDataset) {
  TempDir dir;
  const std::string path = dir.file("a.h5");
  const float v = 1.f;
  Hdf5File::Create(path).WriteFloat("data", {1}, &v);
  const Hdf5File file = Hdf5File::Open(path);
  for (const std::string name : {"label", "group/label", ""}) {
    ExpectError([&] { file.Shape(name); }, ErrorCode::kCorruption,
                {"has no dataset '" + name + "'", path});
    ExpectError([&] { file.ReadFloat(name); }, ErrorCode::kCorruption,
                {"has no dataset '" + name + "'", path});
    float sink;
    ExpectError([&] { file.ReadFloatRows(name, 0, 1, &sink); }, ErrorCode::kCorruption,
                {"has no dataset '" + name + "'", path});
  }
  ExpectError([&] { file.ReadInt("label"); }, ErrorCode::kCorruption, {"'label'", path});
  ExpectError([&] { file.ReadString("label"); }, ErrorCode::kCorruption, {"'label'", path});
}

TEST(Hdf5DatasetTest, FilesThatCannotBeOpened) {
  TempDir dir;
  ExpectError([&] { Hdf5File::Open(dir.file("missing.h5")); }, ErrorCode::kIOError,
              {"missing.h5", "No such file"});
  ExpectError([&] { Hdf5File::Open(dir.path()); }, ErrorCode::kIOError,
              {dir.path(), "directory"});
  const std::string text = dir.file("text.h5");
  testing::WriteFile(text, "this is not an HDF5 file, only some text\n");
  ExpectError([&] { Hdf5File::Open(text); }, ErrorCode::kCorruption,
              {"'" + text + "' is not an HDF5 file"});
  ExpectError([&] { Hdf5File::Create(dir.file("no/such/dir/x.h5")); }, ErrorCode::kIOError,
              {"no/such/dir/x.h5"});

  // A file cut short after its header: it opens as HDF5 but cannot be read.
  const std::string cut = dir.file("cut.h5");
  const std::vector<float> values = FloatValues(4096);
  Hdf5File::Create(cut).WriteFloat("data", {4096}, values.data());
  std::filesystem::resize_file(cut, 1024);
  try {
    const Hdf5File file = Hdf5File::Open(cut);
    file.ReadFloat("data");
    ADD_FAILURE() << "a truncated file was read";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorruption) << e.what();
    EXPECT_NE(std::string(e.what()).find(cut), std::string::npos) << e.what();
  }
}

TEST(Hdf5DatasetTest, MovedFileStaysUsable) {
  TempDir dir;
  const std::string path = dir.file("a.h5");
  const std::vector<float> values = FloatValues(3);
  {
    Hdf5File first = Hdf5File::Create(path);
    Hdf5File second = std::move(first);
    second.WriteFloat("v", {3}, values.data());
    Hdf5File third = Hdf5File::Create(dir.file("b.h5"));
    third = std::move(second);  // closes b.h5, takes over a.h5
    EXPECT_EQ(third.path(), path);
    third.WriteInt("n", 3);
  }
  const Hdf5File file = Hdf5File::Open(path);
  EXPECT_EQ(file.ReadFloat("v"), values);
  EXPECT_EQ(file.ReadInt("n"), 3);
  EXPECT_TRUE(Hdf5File::Open(dir.file("b.h5")).List("/").empty());
}

TEST(Hdf5DatasetTest, StringArraysRoundTrip) {
  TempDir dir;
  const std::vector<std::string> values = {"00000000", "", "a,b \"c\"", "caf\xc3\xa9"};
  {
    Hdf5File file = Hdf5File::Create(dir.file("s.h5"));
    file.WriteStrings("ids", values);
    file.WriteStrings("none", {});
    file.WriteString("one", "single");
    file.WriteFloat("numbers", {2}, FloatValues(2).data());
  }
  const Hdf5File file = Hdf5File::Open(dir.file("s.h5"));
  EXPECT_EQ(file.Shape("ids"), (std::vector<int64_t>{4}));
  EXPECT_EQ(file.ReadStrings("ids"), values);
  EXPECT_TRUE(file.ReadStrings("none").empty());
  // A fixed-length scalar string reads as a list of one.
  EXPECT_EQ(file.ReadStrings("one"), (std::vector<std::string>{"single"}));
  ExpectError([&] { file.ReadStrings("numbers"); }, ErrorCode::kCorruption,
              {"'numbers'", "s.h5", "not strings"});
}

TEST(Hdf5DatasetTest, GrowableDatasetsAppendRowsAcrossChunks) {
  TempDir dir;
  const std::vector<float> values = FloatValues(3 * 2 * 700);
  std::vector<std::string> ids;
  for (int i = 0; i < 700; ++i) ids.push_back("id" + std::to_string(i));
  {
    Hdf5File file = Hdf5File::Create(dir.file("g.h5"));
    file.CreateFloatRows("rows", {3, 2});
    file.CreateStringRows("group/ids");
    file.CreateFloatRows("empty", {5});
    // Uneven appends, including an empty one.
    int64_t done = 0;
    for (int64_t n : {1, 0, 250, 449}) {
      file.AppendFloatRows("rows", n, values.data() + done * 6);
      file.AppendStrings("group/ids", std::vector<std::string>(ids.begin() + done,
                                                               ids.begin() + done + n));
      done += n;
    }
    ExpectError([&] { file.AppendFloatRows("group/ids", 1, values.data()); },
                ErrorCode::kInvalidArgument, {"'group/ids'", "g.h5", "not a growable dataset"});
    ExpectError([&] { file.CreateFloatRows("rows", {3, 2}); }, ErrorCode::kInvalidArgument,
                {"already has an object named 'rows'"});
    ExpectError([&] { file.CreateFloatRows("zero", {0}); }, ErrorCode::kInvalidArgument,
                {"'zero'", "not positive"});
    file.Close();
  }
  const Hdf5File file = Hdf5File::Open(dir.file("g.h5"));
  EXPECT_EQ(file.Shape("rows"), (std::vector<int64_t>{700, 3, 2}));
  EXPECT_EQ(file.ReadFloat("rows"), values);
  EXPECT_EQ(file.ReadStrings("group/ids"), ids);
  EXPECT_EQ(file.Shape("empty"), (std::vector<int64_t>{0, 5}));
  EXPECT_TRUE(file.ReadFloat("empty").empty());
}

TEST(Hdf5DatasetTest, CreateGroupMakesEmptyAndNestedGroupsOnce) {
  TempDir dir;
  const std::string path = dir.file("g.h5");
  {
    Hdf5File file = Hdf5File::Create(path);
    file.CreateGroup("data");
    file.CreateGroup("data/conv1");
    file.CreateGroup("data/conv1");  // already there: nothing happens
    file.CreateGroup("/a/b/c");      // the groups on the path are made too
    file.WriteInt("n", 1);
    ExpectError([&] { file.CreateGroup("n"); }, ErrorCode::kInvalidArgument,
                {path, "'n'", "not a group"});
    ExpectError([&] { file.CreateGroup(""); }, ErrorCode::kInvalidArgument, {path});
    file.Close();
  }
  const Hdf5File file = Hdf5File::Open(path);
  EXPECT_EQ(file.List("/"), (std::vector<std::string>{"a", "data", "n"}));
  EXPECT_EQ(file.List("data"), (std::vector<std::string>{"conv1"}));
  EXPECT_TRUE(file.List("data/conv1").empty());
  EXPECT_TRUE(file.List("a/b/c").empty());
}

// Once HDF5's crashes are reported as errors (what the command-line tool does), a fault
// outside HDF5 and a signal sent with kill() still end the process as they would without:
// the handler gives them to the disposition it replaced. (The HDF5 side is tested with files
// that crash HDF5 in tests/io/fuzz_regression_test.cpp.) Not under AddressSanitizer, whose
// report of the crash would fail the sanitized run (scripts/test --sanitize).
#if defined(__SANITIZE_ADDRESS__)
#define CREMA_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CREMA_TEST_ASAN 1
#endif
#endif

TEST(Hdf5DatasetDeathTest, AFaultOutsideHdf5StaysACrash) {
#ifdef CREMA_TEST_ASAN
  GTEST_SKIP() << "AddressSanitizer reports the fault";
#endif
  EXPECT_EXIT(
      {
        ReportHdf5CrashesAsErrors("test: ");
        volatile int* volatile null = nullptr;
        *null = 1;
      },
      ::testing::KilledBySignal(SIGSEGV), "");
}

TEST(Hdf5DatasetDeathTest, ASentSignalStaysThatSignal) {
#ifdef CREMA_TEST_ASAN
  GTEST_SKIP() << "AddressSanitizer reports the signal";
#endif
  EXPECT_EXIT(
      {
        ReportHdf5CrashesAsErrors("test: ");
        raise(SIGBUS);
      },
      ::testing::KilledBySignal(SIGBUS), "");
}

}  // namespace
}  // namespace crema
