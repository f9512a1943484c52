// `crema features` end to end: a model trained by `crema train` on a tiny LMDB, its features
// written by one process and by a job of three MPI ranks (23 records, so shards and batches
// are uneven), in every format; refusals; ImageData and HDF5Data ids.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "crema/data/hdf5_dataset.h"
#include "crema/io/proto_io.h"
#include "crema/proto/caffe.pb.h"
#include "dataset_helpers.h"
#include "test_helpers.h"
#include "tiny_mnist.h"

namespace crema {
namespace {

using testing::Crema;
using testing::CremaBinary;
using testing::RunCommand;
using testing::TempDir;
using testing::WriteFile;
using Result = testing::CommandResult;

constexpr int kRecords = 23;

// id -> column -> values.
using Records = std::map<std::string, std::map<std::string, std::vector<float>>>;

std::string Key(int i) {
  char key[16];
  std::snprintf(key, sizeof(key), "%08d", i);
  return key;
}

// The mpirun that runs jobs here; fails the test when there is none.
std::string Mpirun() {
  std::string path;
  RunCommand("command -v mpirun", &path);
  path.erase(path.find_last_not_of(" \n") + 1);
  EXPECT_FALSE(path.empty()) << "mpirun not found: scripts/install-deps installs openmpi-bin";
  return path;
}

// Runs `crema features <flags>` as one process, or as a job of `ranks` MPI ranks.
Result Features(const std::string& flags, int ranks = 1) {
  if (ranks == 1) return Crema("features " + flags);
  Result r;
  r.status = RunCommand("OMP_NUM_THREADS=1 " + Mpirun() +
                            " --allow-run-as-root --oversubscribe -np " + std::to_string(ranks) +
                            " " + CremaBinary() + " features " + flags,
                        &r.output);
  return r;
}

std::vector<std::string> Files(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> PartNames(int ranks, const std::string& extension) {
  std::vector<std::string> names = {"_SUCCESS"};
  for (int r = 0; r < ranks; ++r) {
    char name[32];
    std::snprintf(name, sizeof(name), "part-%05d.%s", r, extension.c_str());
    names.push_back(name);
  }
  return names;
}

// Adds a record, failing the test when its id was seen before.
void AddRecord(const std::string& id, std::map<std::string, std::vector<float>> row,
               Records* records) {
  EXPECT_TRUE(records->emplace(id, std::move(row)).second) << "id " << id << " appears twice";
}

// Every record of the JSON-lines parts in `dir`; *per_part gets each part's count.
Records ReadJson(const std::string& dir, std::vector<int>* per_part = nullptr) {
  Records records;
  for (const std::string& name : Files(dir)) {
    if (name.rfind("part-", 0) != 0) continue;
    std::ifstream in(dir + "/" + name);
    std::string line;
    int count = 0;
    while (std::getline(in, line)) {
      const nlohmann::json j = nlohmann::json::parse(line);
      EXPECT_EQ(j.begin().key(), "SampleID") << "SampleID comes first: " << line;
      std::map<std::string, std::vector<float>> row;
      for (auto it = j.begin(); it != j.end(); ++it) {
        if (it.key() == "SampleID") continue;
        for (const auto& v : it.value()) row[it.key()].push_back(v.get<float>());
      }
      AddRecord(j["SampleID"].get<std::string>(), std::move(row), &records);
      ++count;
    }
    if (per_part != nullptr) per_part->push_back(count);
  }
  return records;
}

// One CSV line as fields (RFC 4180 quotes).
std::vector<std::string> CsvFields(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back().push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back().push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields.emplace_back();
    } else {
      fields.back().push_back(c);
    }
  }
  return fields;
}

Records ReadCsv(const std::string& dir) {
  Records records;
  for (const std::string& name : Files(dir)) {
    if (name.rfind("part-", 0) != 0) continue;
    std::ifstream in(dir + "/" + name);
    std::string line;
    EXPECT_TRUE(std::getline(in, line)) << name << " has no header";
    const std::vector<std::string> header = CsvFields(line);
    EXPECT_EQ(header[0], "SampleID");
    while (std::getline(in, line)) {
      const std::vector<std::string> fields = CsvFields(line);
      EXPECT_EQ(fields.size(), header.size()) << line;
      std::map<std::string, std::vector<float>> row;
      for (size_t f = 1; f < std::min(fields.size(), header.size()); ++f) {
        row[header[f].substr(0, header[f].rfind('_'))].push_back(std::stof(fields[f]));
      }
      AddRecord(fields[0], std::move(row), &records);
    }
  }
  return records;
}

Records ReadHdf5(const std::string& dir) {
  Records records;
  for (const std::string& name : Files(dir)) {
    if (name.rfind("part-", 0) != 0) continue;
    const Hdf5File file = Hdf5File::Open(dir + "/" + name);
    const std::vector<std::string> ids = file.ReadStrings("SampleID");
    std::vector<std::map<std::string, std::vector<float>>> rows(ids.size());
    for (const std::string& column : file.List("/")) {
      if (column == "SampleID") continue;
      const std::vector<int64_t> shape = file.Shape(column);
      EXPECT_EQ(shape.size(), 2u) << column;
      EXPECT_EQ(shape[0], static_cast<int64_t>(ids.size())) << column;
      const std::vector<float> values = file.ReadFloat(column);
      for (size_t i = 0; i < ids.size(); ++i) {
        rows[i][column].assign(values.begin() + static_cast<ptrdiff_t>(i * shape[1]),
                               values.begin() + static_cast<ptrdiff_t>((i + 1) * shape[1]));
      }
    }
    for (size_t i = 0; i < ids.size(); ++i) AddRecord(ids[i], std::move(rows[i]), &records);
  }
  return records;
}

// Same ids, same columns, values equal to 1e-6 relative.
void ExpectSameRecords(const Records& expected, const Records& actual) {
  ASSERT_EQ(expected.size(), actual.size());
  for (const auto& [id, row] : expected) {
    const auto it = actual.find(id);
    ASSERT_NE(it, actual.end()) << "missing id " << id;
    ASSERT_EQ(row.size(), it->second.size()) << id;
    for (const auto& [column, values] : row) {
      const auto other = it->second.find(column);
      ASSERT_NE(other, it->second.end()) << id << " lacks " << column;
      ASSERT_EQ(values.size(), other->second.size()) << id << " " << column;
      for (size_t k = 0; k < values.size(); ++k) {
        const float a = values[k], b = other->second[k];
        EXPECT_LE(std::abs(a - b), 1e-6f * std::max({std::abs(a), std::abs(b), 1e-3f}))
            << id << " " << column << "[" << k << "]: " << a << " vs " << b;
      }
    }
  }
}

// A conv → pool → ip net over the tiny LMDB, trained for a few iterations by `crema train`.
class FeaturesCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir;
    testing::WriteTinyMnist(dir_->file("images"), dir_->file("labels"), kRecords, 4);
    const Result convert = Crema("convert mnist " + dir_->file("images") + " " +
                                 dir_->file("labels") + " " + dir_->file("db"));
    ASSERT_EQ(convert.status, 0) << convert.output;
    const std::string data = R"(
  transform_param { scale: 0.00390625 }
  data_param { source: ")" + dir_->file("db") + R"(" backend: LMDB )";
    WriteFile(dir_->file("net.prototxt"), R"(name: "FxNet"
layer { name: "mnist" type: "Data" top: "data" top: "label" include { phase: TRAIN })" +
                                              data + R"(batch_size: 10 } }
layer { name: "mnist" type: "Data" top: "data" top: "label" include { phase: TEST })" +
                                              data + R"(batch_size: 5 } }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 3 kernel_size: 5 stride: 2 weight_filler { type: "xavier" } } }
layer { name: "pool1" type: "Pooling" bottom: "conv1" top: "pool1"
  pooling_param { pool: MAX kernel_size: 2 stride: 2 } }
layer { name: "ip1" type: "InnerProduct" bottom: "pool1" top: "ip1"
  inner_product_param { num_output: 10 weight_filler { type: "xavier" } } }
layer { name: "accuracy" type: "Accuracy" bottom: "ip1" bottom: "label" top: "accuracy"
  include { phase: TEST } }
layer { name: "loss" type: "SoftmaxWithLoss" bottom: "ip1" bottom: "label" top: "loss" }
)");
    WriteFile(dir_->file("solver.prototxt"),
              "net: \"" + dir_->file("net.prototxt") +
                  "\"\nbase_lr: 0.01\nmomentum: 0.9\nlr_policy: \"fixed\"\nmax_iter: 3\n"
                  "random_seed: 5\nsnapshot_prefix: \"" + dir_->file("fx") + "\"\n");
    const Result train = Crema("train -solver " + dir_->file("solver.prototxt"));
    ASSERT_EQ(train.status, 0) << train.output;
    ASSERT_TRUE(std::filesystem::exists(Model()));
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }

  static std::string Model() { return dir_->file("fx_iter_3.caffemodel"); }
  // -model and -weights of the trained net.
  static std::string Net() {
    return "-model " + dir_->file("net.prototxt") + " -weights " + Model();
  }

  static TempDir* dir_;
};

TempDir* FeaturesCliTest::dir_ = nullptr;

TEST_F(FeaturesCliTest, OneProcessAndThreeRanksWriteTheSameRecordsOnce) {
  const std::string one = dir_->file("one");
  const std::string three = dir_->file("three");
  const std::string flags = Net() + " -features ip1,pool1 -label label -output ";
  const Result r1 = Features(flags + one);
  ASSERT_EQ(r1.status, 0) << r1.output;
  EXPECT_CONTAINS(r1.output, "Wrote 23 feature records to " + one + " (1 part file, json)");
  const Result r3 = Features(flags + three, 3);
  ASSERT_EQ(r3.status, 0) << r3.output;
  EXPECT_CONTAINS(r3.output, "Wrote 23 feature records to " + three + " (3 part files, json)");

  EXPECT_EQ(Files(one), PartNames(1, "json"));
  EXPECT_EQ(Files(three), PartNames(3, "json"));
  EXPECT_EQ(ReadFileToString(three + "/_SUCCESS"), "");
  std::vector<int> per_part;
  const Records single = ReadJson(one);
  const Records job = ReadJson(three, &per_part);
  // 5 batches of 5 shared out as 1, 2, 2 batches; the last batch has 3 records.
  EXPECT_EQ(per_part, (std::vector<int>{5, 10, 8}));
  ASSERT_EQ(single.size(), static_cast<size_t>(kRecords));
  int i = 0;
  for (const auto& [id, row] : single) {
    EXPECT_EQ(id, Key(i++));
    EXPECT_EQ(row.at("ip1").size(), 10u);
    EXPECT_EQ(row.at("pool1").size(), 3u * 6 * 6);
    EXPECT_EQ(row.at("label"), std::vector<float>{static_cast<float>((i - 1) % 10)});
  }
  ExpectSameRecords(single, job);
}

TEST_F(FeaturesCliTest, CsvAndHdf5HoldTheSameRecordsAsJson) {
  const std::string flags = Net() + " -features ip1 -label label -output ";
  ASSERT_EQ(Features(flags + dir_->file("json")).status, 0);
  const Records json = ReadJson(dir_->file("json"));
  ASSERT_EQ(json.size(), static_cast<size_t>(kRecords));
  for (const int ranks : {1, 3}) {
    SCOPED_TRACE(std::to_string(ranks) + " ranks");
    const std::string csv = dir_->file("csv" + std::to_string(ranks));
    const std::string h5 = dir_->file("h5" + std::to_string(ranks));
    Result r = Features(flags + csv + " -outputFormat csv", ranks);
    ASSERT_EQ(r.status, 0) << r.output;
    r = Features(flags + h5 + " -outputFormat=hdf5", ranks);
    ASSERT_EQ(r.status, 0) << r.output;
    EXPECT_EQ(Files(csv), PartNames(ranks, "csv"));
    EXPECT_EQ(Files(h5), PartNames(ranks, "h5"));
    ExpectSameRecords(json, ReadCsv(csv));
    ExpectSameRecords(json, ReadHdf5(h5));
  }
}

TEST_F(FeaturesCliTest, ARerunReplacesAnEarlierRunsParts) {
  const std::string out = dir_->file("rerun");
  const std::string flags = Net() + " -features ip1 -output " + out;
  ASSERT_EQ(Features(flags, 3).status, 0);
  EXPECT_EQ(Files(out), PartNames(3, "json"));
  WriteFile(out + "/notes.txt", "mine");
  const Result r = Features(flags);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_CONTAINS(r.output, "Removed 4 files of an earlier run");
  std::vector<std::string> expected = PartNames(1, "json");
  expected.push_back("notes.txt");
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(Files(out), expected);
  EXPECT_EQ(ReadJson(out).size(), static_cast<size_t>(kRecords));
}

TEST_F(FeaturesCliTest, RefusalsAreOneSentenceAndWriteNothing) {
  const std::string out = dir_->file("refused");
  struct Case {
    std::string flags;
    std::string sentence;
  };
  const std::vector<Case> cases = {
      {"-features accuracy",
       "crema features: blob 'accuracy' holds one value per batch, not one per sample, so it "
       "cannot be extracted as a feature (it is a scalar; a feature's first dimension is the "
       "batch size, 5)"},
      {"-features ip1,loss", "blob 'loss' holds one value per batch, not one per sample"},
      {"-features ip1 -label accuracy", "blob 'accuracy' holds one value per batch"},
      {"-features fc7",
       "net 'FxNet' has no blob 'fc7' (its blobs: data, label, label_mnist_1_split_0, "
       "label_mnist_1_split_1, conv1, pool1, ip1, "},
      {"-features ip1 -outputFormat parquet",
       "unknown feature output format 'parquet' (known formats: json, csv, hdf5)"},
      {"-label label", "features needs -features with the blobs to extract"},
  };
  for (const Case& c : cases) {
    const Result r = Features(Net() + " " + c.flags + " -output " + out);
    EXPECT_EQ(r.status, 1) << c.flags;
    EXPECT_CONTAINS(r.output, c.sentence);
    EXPECT_FALSE(std::filesystem::exists(out)) << c.flags;
  }
  // In a job too: the job ends with the sentence, and no rank writes anything.
  const Result job = Features(Net() + " -features accuracy -output " + out, 3);
  EXPECT_NE(job.status, 0);
  EXPECT_CONTAINS(job.output, "blob 'accuracy' holds one value per batch, not one per sample");
  EXPECT_FALSE(std::filesystem::exists(out));

  WriteFile(dir_->file("a_file"), "x");
  Result r = Features(Net() + " -features ip1 -output " + dir_->file("a_file"));
  EXPECT_EQ(r.status, 1);
  EXPECT_CONTAINS(r.output, "output '" + dir_->file("a_file") + "' exists and is not a directory");

  WriteFile(dir_->file("input.prototxt"),
            "name: 'deploy' layer { name: 'data' type: 'Input' top: 'data' "
            "input_param { shape { dim: 1 dim: 1 dim: 28 dim: 28 } } }\n"
            "layer { name: 'ip1' type: 'InnerProduct' bottom: 'data' top: 'ip1' "
            "inner_product_param { num_output: 10 } }\n");
  r = Features("-model " + dir_->file("input.prototxt") + " -weights " + Model() +
               " -features ip1 -output " + out);
  EXPECT_EQ(r.status, 1);
  EXPECT_CONTAINS(r.output,
                  "features needs a data layer that reads a dataset (Data, ImageData or "
                  "HDF5Data), but net 'deploy' has none (it is fed by Layer 'data' (Input))");
  EXPECT_FALSE(std::filesystem::exists(out));
}

// A net reading `data_layer` into ip (2 outputs), and a model for it: ip's weights are
// w[o][p] = (o + 1) · (p mod 5) / 100, bias o.
void WriteIpNet(const TempDir& dir, const std::string& data_layer, int inputs) {
  WriteFile(dir.file("ipnet.prototxt"),
            "name: 'ipnet' " + data_layer +
                " layer { name: 'ip' type: 'InnerProduct' bottom: 'data' top: 'ip' "
                "inner_product_param { num_output: 2 } }\n");
  caffe::NetParameter model;
  caffe::LayerParameter* ip = model.add_layer();
  ip->set_name("ip");
  ip->set_type("InnerProduct");
  caffe::BlobProto* weight = ip->add_blobs();
  weight->mutable_shape()->add_dim(2);
  weight->mutable_shape()->add_dim(inputs);
  for (int o = 0; o < 2; ++o) {
    for (int p = 0; p < inputs; ++p) weight->add_data(static_cast<float>((o + 1) * (p % 5)) / 100);
  }
  caffe::BlobProto* bias = ip->add_blobs();
  bias->mutable_shape()->add_dim(2);
  bias->add_data(0);
  bias->add_data(1);
  WriteBinaryProto(dir.file("ipnet.caffemodel"), model);
}

std::vector<std::string> Ids(const Records& records) {
  std::vector<std::string> ids;
  for (const auto& [id, row] : records) ids.push_back(id);
  return ids;
}

TEST(FeaturesCliDataTest, ImageDataIdsAreTheListPaths) {
  TempDir dir;
  std::string list;
  std::vector<std::string> paths;
  for (int i = 0; i < 7; ++i) {
    const std::string path = "imgs/class" + std::to_string(i % 2) + "/p" + std::to_string(i) + ".png";
    testing::WriteImageFile(dir.file(path), testing::PatternImage(1, 6, 6, i));
    list += path + " " + std::to_string(i % 2) + "\n";
    paths.push_back(path);
  }
  WriteFile(dir.file("list.txt"), list);
  WriteIpNet(dir,
             "layer { name: 'data' type: 'ImageData' top: 'data' top: 'label' "
             "image_data_param { source: '" + dir.file("list.txt") + "' root_folder: '" +
                 dir.path() + "/' batch_size: 3 is_color: false } }",
             36);
  const std::string flags = "-model " + dir.file("ipnet.prototxt") + " -weights " +
                            dir.file("ipnet.caffemodel") + " -features ip -label label -output ";
  const Result r1 = Features(flags + dir.file("one"));
  ASSERT_EQ(r1.status, 0) << r1.output;
  const Result r3 = Features(flags + dir.file("three"), 3);
  ASSERT_EQ(r3.status, 0) << r3.output;
  const Records one = ReadJson(dir.file("one"));
  std::sort(paths.begin(), paths.end());
  EXPECT_EQ(Ids(one), paths);
  ExpectSameRecords(one, ReadJson(dir.file("three")));
  // ip = W·x + b from the pixels (scale 1).
  for (int i = 0; i < 7; ++i) {
    const Image image = testing::PatternImage(1, 6, 6, i);
    const auto& row = one.at("imgs/class" + std::to_string(i % 2) + "/p" + std::to_string(i) + ".png");
    for (int o = 0; o < 2; ++o) {
      double expected = o;
      for (int p = 0; p < 36; ++p) expected += (o + 1) * (p % 5) / 100.0 * image.pixels[static_cast<size_t>(p)];
      EXPECT_NEAR(row.at("ip")[static_cast<size_t>(o)], expected, 1e-5 * (1 + expected)) << i;
    }
    EXPECT_EQ(row.at("label"), std::vector<float>{static_cast<float>(i % 2)});
  }
}

TEST(FeaturesCliDataTest, Hdf5DataIdsNameTheFileAndRow) {
  TempDir dir;
  int64_t first = 0;
  for (const auto& [name, rows] : std::vector<std::pair<std::string, int64_t>>{{"a.h5", 3}, {"b.h5", 4}}) {
    std::vector<float> data;
    for (int64_t r = 0; r < rows; ++r) {
      for (int k = 0; k < 4; ++k) data.push_back(static_cast<float>((first + r) * 10 + k));
    }
    Hdf5File file = Hdf5File::Create(dir.file(name));
    file.WriteFloat("data", {rows, 4}, data.data());
    first += rows;
  }
  WriteFile(dir.file("list.txt"), "a.h5\nb.h5\n");
  WriteIpNet(dir,
             "layer { name: 'h5' type: 'HDF5Data' top: 'data' "
             "hdf5_data_param { source: '" + dir.file("list.txt") + "' batch_size: 3 } }",
             4);
  const std::string flags = "-model " + dir.file("ipnet.prototxt") + " -weights " +
                            dir.file("ipnet.caffemodel") + " -features data,ip -output ";
  const Result r1 = Features(flags + dir.file("one"));
  ASSERT_EQ(r1.status, 0) << r1.output;
  const Result r3 = Features(flags + dir.file("three"), 3);
  ASSERT_EQ(r3.status, 0) << r3.output;
  const Records one = ReadJson(dir.file("one"));
  EXPECT_EQ(Ids(one), (std::vector<std::string>{"a.h5:0", "a.h5:1", "a.h5:2", "b.h5:0",
                                                "b.h5:1", "b.h5:2", "b.h5:3"}));
  EXPECT_EQ(one.at("b.h5:2").at("data"), (std::vector<float>{50, 51, 52, 53}));
  ExpectSameRecords(one, ReadJson(dir.file("three")));
}

}  // namespace
}  // namespace crema
