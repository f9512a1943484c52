#include "crema/data/feature_writer.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "crema/core/error.h"
#include "crema/data/hdf5_dataset.h"
#include "crema/io/proto_io.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::ExpectError;
using testing::TempDir;

const std::vector<FeatureColumn> kColumns = {{"ip1", 3}, {"label", 1}};

struct Record {
  std::string id;
  std::vector<float> ip1;
  float label;
};

// Writes `records` with kColumns and commits.
void WriteAll(FeatureFormat format, const std::string& path, const std::vector<Record>& records) {
  auto writer = FeatureWriter::Create(format, path, kColumns);
  for (const Record& r : records) writer->Append(r.id, {r.ip1.data(), &r.label});
  EXPECT_EQ(writer->records(), static_cast<int64_t>(records.size()));
  writer->Commit();
}

// The files in `dir`, by name.
std::vector<std::string> Files(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

const float kNan = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

TEST(FeatureWriterTest, JsonLinesHoldTheIdFirstThenOneArrayPerColumn) {
  TempDir dir;
  WriteAll(FeatureFormat::kJson, dir.file("part-00000.json"),
           {{"00000000", {0.5f, -1.25f, 3.f}, 7.f},
            {"a\"b\\c\nd\x01", {0.1f, 1e-7f, 3.4028235e38f}, 0.f},
            {"x", {kNan, kInf, -kInf}, -0.f}});
  EXPECT_EQ(ReadFileToString(dir.file("part-00000.json")),
            "{\"SampleID\":\"00000000\",\"ip1\":[0.5,-1.25,3],\"label\":[7]}\n"
            "{\"SampleID\":\"a\\\"b\\\\c\\nd\\u0001\",\"ip1\":[0.1,1e-07,3.4028235e+38],"
            "\"label\":[0]}\n"
            "{\"SampleID\":\"x\",\"ip1\":[null,null,null],\"label\":[-0]}\n");
}

TEST(FeatureWriterTest, CsvHasAHeaderAndQuotesIdsThatNeedIt) {
  TempDir dir;
  WriteAll(FeatureFormat::kCsv, dir.file("part-00000.csv"),
           {{"00000000", {0.5f, -1.25f, 3.f}, 7.f},
            {"x,y", {0.1f, 2.f, 0.f}, 1.f},
            {"say \"hi\"", {kNan, kInf, -kInf}, 2.f},
            {"two\nlines", {1.f, 2.f, 3.f}, 3.f}});
  EXPECT_EQ(ReadFileToString(dir.file("part-00000.csv")),
            "SampleID,ip1_0,ip1_1,ip1_2,label_0\n"
            "00000000,0.5,-1.25,3,7\n"
            "\"x,y\",0.1,2,0,1\n"
            "\"say \"\"hi\"\"\",nan,inf,-inf,2\n"
            "\"two\nlines\",1,2,3,3\n");
}

TEST(FeatureWriterTest, Hdf5HasAnIdDatasetAndOneMatrixPerColumn) {
  TempDir dir;
  // More records than one appended batch (4096), so rows cross batches.
  std::vector<Record> records;
  for (int i = 0; i < 5000; ++i) {
    records.push_back({"id" + std::to_string(i),
                       {static_cast<float>(i) * 0.5f, -static_cast<float>(i), 1.f / (i + 1)},
                       static_cast<float>(i % 10)});
  }
  records[1].id = "a,\"b\"";
  WriteAll(FeatureFormat::kHdf5, dir.file("part-00000.h5"), records);
  const Hdf5File file = Hdf5File::Open(dir.file("part-00000.h5"));
  EXPECT_EQ(file.List("/"), (std::vector<std::string>{"SampleID", "ip1", "label"}));
  EXPECT_EQ(file.Shape("ip1"), (std::vector<int64_t>{5000, 3}));
  EXPECT_EQ(file.Shape("label"), (std::vector<int64_t>{5000, 1}));
  const std::vector<std::string> ids = file.ReadStrings("SampleID");
  const std::vector<float> ip1 = file.ReadFloat("ip1");
  const std::vector<float> label = file.ReadFloat("label");
  ASSERT_EQ(ids.size(), records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(ids[i], records[i].id);
    for (size_t k = 0; k < 3; ++k) EXPECT_EQ(ip1[i * 3 + k], records[i].ip1[k]) << i;
    EXPECT_EQ(label[i], records[i].label) << i;
  }
}

TEST(FeatureWriterTest, NoRecordsStillMakesAWellFormedPart) {
  TempDir dir;
  WriteAll(FeatureFormat::kJson, dir.file("part-00000.json"), {});
  WriteAll(FeatureFormat::kCsv, dir.file("part-00000.csv"), {});
  WriteAll(FeatureFormat::kHdf5, dir.file("part-00000.h5"), {});
  EXPECT_EQ(ReadFileToString(dir.file("part-00000.json")), "");
  EXPECT_EQ(ReadFileToString(dir.file("part-00000.csv")), "SampleID,ip1_0,ip1_1,ip1_2,label_0\n");
  const Hdf5File file = Hdf5File::Open(dir.file("part-00000.h5"));
  EXPECT_EQ(file.Shape("ip1"), (std::vector<int64_t>{0, 3}));
  EXPECT_EQ(file.Shape("SampleID"), (std::vector<int64_t>{0}));
}

TEST(FeatureWriterTest, NumbersReadBackAsTheSameFloats) {
  TempDir dir;
  std::mt19937 gen(5);
  std::vector<Record> records;
  for (int i = 0; i < 2000; ++i) {
    Record r{std::to_string(i), {}, 0.f};
    for (int k = 0; k < 4; ++k) {
      uint32_t bits;
      float value;
      do {
        bits = static_cast<uint32_t>(gen());
        std::memcpy(&value, &bits, sizeof(value));
      } while (!std::isfinite(value));
      if (k < 3) {
        r.ip1.push_back(value);
      } else {
        r.label = value;
      }
    }
    records.push_back(r);
  }
  WriteAll(FeatureFormat::kCsv, dir.file("p.csv"), records);
  const std::string text = ReadFileToString(dir.file("p.csv"));
  size_t pos = text.find('\n') + 1;
  for (const Record& r : records) {
    const size_t end = text.find('\n', pos);
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    std::vector<float> parsed;
    size_t field = line.find(',');
    ASSERT_EQ(line.substr(0, field), r.id);
    while (field != std::string::npos) {
      parsed.push_back(std::strtof(line.c_str() + field + 1, nullptr));
      field = line.find(',', field + 1);
    }
    ASSERT_EQ(parsed.size(), 4u) << line;
    for (size_t k = 0; k < 3; ++k) EXPECT_EQ(parsed[k], r.ip1[k]) << line;
    EXPECT_EQ(parsed[3], r.label) << line;
  }
}

TEST(FeatureWriterTest, NothingUnderTheFinalNameBeforeCommit) {
  for (const FeatureFormat format : {FeatureFormat::kJson, FeatureFormat::kCsv,
                                     FeatureFormat::kHdf5}) {
    TempDir dir;
    const std::string path = dir.file(FeaturePartFileName(2, format));
    const Record r{"k", {1.f, 2.f, 3.f}, 4.f};
    {
      auto writer = FeatureWriter::Create(format, path, kColumns);
      writer->Append(r.id, {r.ip1.data(), &r.label});
      EXPECT_FALSE(std::filesystem::exists(path));
      // A hidden temporary beside it, which directory readers skip.
      EXPECT_EQ(writer->temporary_path(), FeatureTemporaryPath(path));
      EXPECT_EQ(std::filesystem::path(writer->temporary_path()).parent_path().string(),
                dir.path());
      EXPECT_EQ(std::filesystem::path(writer->temporary_path()).filename().string().rfind(
                    "." + FeaturePartFileName(2, format) + ".tmp.", 0),
                0u);
      EXPECT_TRUE(std::filesystem::exists(writer->temporary_path()));
    }
    // Abandoned without Commit: nothing is left.
    EXPECT_TRUE(Files(dir.path()).empty()) << FeatureFileExtension(format);
    // An older part stays until a Commit replaces it.
    testing::WriteFile(path, "older");
    {
      auto writer = FeatureWriter::Create(format, path, kColumns);
      writer->Append(r.id, {r.ip1.data(), &r.label});
      EXPECT_EQ(ReadFileToString(path), "older");
      writer->Commit();
    }
    EXPECT_NE(ReadFileToString(path), "older");
    EXPECT_EQ(Files(dir.path()), std::vector<std::string>{FeaturePartFileName(2, format)});
  }
}

// Runs `body` in a child process whose files cannot grow beyond `limit` bytes (writes past
// it fail with EFBIG); returns the child's exit status, body's return value.
int WithFileSizeLimit(rlim_t limit, const std::function<int()>& body) {
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    std::signal(SIGXFSZ, SIG_IGN);
    const rlimit rl{limit, limit};
    int status = 90;
    if (setrlimit(RLIMIT_FSIZE, &rl) == 0) {
      try {
        status = body();
      } catch (const std::exception& e) {
        std::fprintf(stderr, "unexpected: %s\n", e.what());
        status = 91;
      }
    }
    std::fflush(nullptr);
    _exit(status);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Writes `count` records to `path` (whose directory holds only an older part) and expects
// a write error: afterwards the older part is intact and no temporary is left.
int FailingWrite(FeatureFormat format, const std::string& path, int count) {
  const std::string dir = std::filesystem::path(path).parent_path().string();
  std::vector<float> ip1(3, 0.25f);
  const float label = 1.f;
  try {
    auto writer = FeatureWriter::Create(format, path, kColumns);
    for (int i = 0; i < count; ++i) writer->Append("record-" + std::to_string(i), {ip1.data(), &label});
    writer->Commit();
    std::fprintf(stderr, "no error writing %d records\n", count);
    return 1;
  } catch (const Error& e) {
    if (e.code() != ErrorCode::kIOError) {
      std::fprintf(stderr, "not an IOError: %s\n", e.what());
      return 2;
    }
  }
  if (ReadFileToString(path) != "older") return 3;
  if (Files(dir).size() != 1) {
    for (const std::string& name : Files(dir)) std::fprintf(stderr, "left: %s\n", name.c_str());
    return 4;
  }
  return 0;
}

TEST(FeatureWriterTest, AWriteErrorLeavesNoPartialFileUnderTheFinalName) {
  for (const FeatureFormat format : {FeatureFormat::kJson, FeatureFormat::kCsv,
                                     FeatureFormat::kHdf5}) {
    SCOPED_TRACE(FeatureFileExtension(format));
    TempDir dir;
    const std::string path = dir.file(FeaturePartFileName(0, format));
    testing::WriteFile(path, "older");
    // Fails while records are appended (past the first buffer) ...
    EXPECT_EQ(WithFileSizeLimit(64 << 10, [&] { return FailingWrite(format, path, 200000); }),
              0);
    // ... and when everything was still buffered at Commit.
    EXPECT_EQ(WithFileSizeLimit(300, [&] { return FailingWrite(format, path, 40); }), 0);
    EXPECT_EQ(ReadFileToString(path), "older");
  }
}

TEST(FeatureWriterTest, AfterAnErrorTheWriterRefusesMore) {
  TempDir dir;
  const std::string path = dir.file("part-00000.json");
  EXPECT_EQ(WithFileSizeLimit(4096,
                              [&] {
                                auto writer = FeatureWriter::Create(FeatureFormat::kJson, path,
                                                                    {{"x", 1000}});
                                const std::vector<float> x(1000, 1.f / 3);
                                int i = 0;
                                try {
                                  for (; i < 1000; ++i) writer->Append("r", {x.data()});
                                  return 1;
                                } catch (const Error&) {
                                }
                                try {
                                  writer->Append("r", {x.data()});
                                  return 2;
                                } catch (const Error& e) {
                                  if (std::strstr(e.what(), "after an earlier error") == nullptr)
                                    return 3;
                                }
                                try {
                                  writer->Commit();
                                  return 4;
                                } catch (const Error&) {
                                }
                                return writer->records() == i ? 0 : 5;
                              }),
            0);
  EXPECT_TRUE(Files(dir.path()).empty());
}

TEST(FeatureWriterTest, ColumnsAreChecked) {
  TempDir dir;
  const std::string path = dir.file("p.json");
  ExpectError([&] { FeatureWriter::Create(FeatureFormat::kJson, path, {}); },
              ErrorCode::kInvalidArgument, {"p.json", "at least one column"});
  ExpectError([&] { FeatureWriter::Create(FeatureFormat::kCsv, path, {{"a", 1}, {"a", 2}}); },
              ErrorCode::kInvalidArgument, {"column 'a' twice"});
  ExpectError([&] { FeatureWriter::Create(FeatureFormat::kJson, path, {{"SampleID", 1}}); },
              ErrorCode::kInvalidArgument, {"named 'SampleID'"});
  ExpectError([&] { FeatureWriter::Create(FeatureFormat::kHdf5, path, {{"a", 0}}); },
              ErrorCode::kInvalidArgument, {"column 'a'", "at least one value"});
  ExpectError([&] { FeatureWriter::Create(FeatureFormat::kJson, dir.file("none/p.json"), {{"a", 1}}); },
              ErrorCode::kIOError, {"none/.p.json.tmp."});
  EXPECT_TRUE(Files(dir.path()).empty());
}

TEST(FeatureWriterTest, FormatsAndPartNames) {
  EXPECT_EQ(ParseFeatureFormat("json"), FeatureFormat::kJson);
  EXPECT_EQ(ParseFeatureFormat("csv"), FeatureFormat::kCsv);
  EXPECT_EQ(ParseFeatureFormat("hdf5"), FeatureFormat::kHdf5);
  ExpectError([] { ParseFeatureFormat("parquet"); }, ErrorCode::kInvalidArgument,
              {"'parquet'", "json, csv, hdf5"});
  EXPECT_EQ(FeaturePartFileName(0, FeatureFormat::kJson), "part-00000.json");
  EXPECT_EQ(FeaturePartFileName(12, FeatureFormat::kCsv), "part-00012.csv");
  EXPECT_EQ(FeaturePartFileName(3, FeatureFormat::kHdf5), "part-00003.h5");
}

TEST(FeatureWriterTest, PreparingADirectoryRemovesOnlyAnEarlierRunsOutput) {
  TempDir dir;
  const std::string out = dir.file("a/b/features");
  EXPECT_EQ(PrepareFeatureDirectory(out), 0);  // made, with its parents
  EXPECT_TRUE(std::filesystem::is_directory(out));
  for (const char* name : {"_SUCCESS", "part-00000.json", "part-00007.h5", "part-00001.csv",
                           ".part-00002.json.tmp.123", "notes.txt", "part-1.json",
                           "part-00000.txt", "_logs"}) {
    testing::WriteFile(out + "/" + name, "x");
  }
  EXPECT_EQ(PrepareFeatureDirectory(out), 5);
  EXPECT_EQ(Files(out), (std::vector<std::string>{"_logs", "notes.txt", "part-00000.txt",
                                                  "part-1.json"}));
  MarkFeatureDirectoryComplete(out);
  EXPECT_EQ(ReadFileToString(out + "/_SUCCESS"), "");
  testing::WriteFile(dir.file("file"), "x");
  ExpectError([&] { PrepareFeatureDirectory(dir.file("file")); }, ErrorCode::kInvalidArgument,
              {"'" + dir.file("file") + "' exists and is not a directory"});
}

}  // namespace
}  // namespace crema
