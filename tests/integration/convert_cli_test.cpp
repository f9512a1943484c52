// `crema convert` and `crema mean` end to end: each converter through the binary, flags in
// Caffe's forms, and one sentence with exit status 1 for each kind of bad argument.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>

#include "crema/io/proto_io.h"
#include "crema/proto/caffe.pb.h"
#include "dataset_helpers.h"
#include "test_helpers.h"

namespace crema {
namespace {

namespace fs = std::filesystem;
using testing::Crema;
using testing::PatternImage;
using testing::ReadDatums;
using testing::TempDir;
using testing::WriteImageFile;

// Single-quoted for the shell.
std::string Quote(const std::string& s) { return "'" + s + "'"; }

// A failed command: status 1 and exactly one line of output containing `needle`.
void ExpectOneLineError(const std::string& arguments, const std::string& needle) {
  const testing::CommandResult r = Crema(arguments);
  EXPECT_EQ(r.status, 1) << arguments << "\n" << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << arguments << "\n"
                                                                   << r.output;
  EXPECT_CONTAINS(r.output, needle);
}

TEST(ConvertCliTest, Cifar) {
  TempDir dir;
  fs::create_directories(dir.file("in"));
  std::string record(3073, '\x07');
  std::string batch = record + record;  // two records a file
  for (int i = 1; i <= 5; ++i) {
    testing::WriteFile(dir.file("in/data_batch_" + std::to_string(i) + ".bin"), batch);
  }
  testing::WriteFile(dir.file("in/test_batch.bin"), record);
  const auto r = Crema("convert cifar " + dir.file("in") + " " + dir.file("out"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_CONTAINS(r.output, "Wrote 10 items to " + dir.file("out/cifar10_train_lmdb") +
                                " and 1 items to " + dir.file("out/cifar10_test_lmdb"));
  EXPECT_EQ(r.output.find('\r'), std::string::npos);  // no progress line off a terminal
  EXPECT_EQ(ReadDatums(dir.file("out/cifar10_train_lmdb")).size(), 10u);

  ExpectOneLineError("convert cifar " + dir.file("in"), "usage: crema convert cifar");
  ExpectOneLineError("convert cifar -cifar_label medium " + dir.file("in") + " " + dir.file("o2"),
                     "-cifar_label must be fine or coarse, got 'medium'");
  ExpectOneLineError("convert cifar " + dir.file("nowhere") + " " + dir.file("o2"),
                     dir.file("nowhere"));
  // Converting again would overwrite.
  ExpectOneLineError("convert cifar " + dir.file("in") + " " + dir.file("out"), "already exists");
}

class ImageCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteImageFile(dir_.file("root/cat/a b.png"), PatternImage(3, 6, 8, 1));
    WriteImageFile(dir_.file("root/dog/c.jpg"), PatternImage(3, 6, 8, 2));
    testing::WriteFile(dir_.file("list.txt"), "cat/a b.png 0\ndog/c.jpg 1\n");
  }
  TempDir dir_;
};

TEST_F(ImageCliTest, ImagesetAcceptsCaffesFlagForms) {
  int n = 0;
  for (const std::string& flags : {std::string("-gray -resize_width 5 -resize_height 3"),
                                   std::string("--gray --resize_width=5 -resize_height=3"),
                                   std::string("-gray=true --resize_width 5 --resize_height 3")}) {
    const std::string db = dir_.file("db" + std::to_string(n++));
    const auto r = Crema("convert imageset " + flags + " " + dir_.file("root") + "/ " +
                         dir_.file("list.txt") + " " + db);
    ASSERT_EQ(r.status, 0) << flags << "\n" << r.output;
    EXPECT_CONTAINS(r.output, "Wrote 2 images to " + db);
    const auto records = ReadDatums(db);
    ASSERT_EQ(records.size(), 2u);
    EXPECT_EQ(records[0].first, "00000000_cat/a b.png");
    EXPECT_EQ(records[1].second.label(), 1);
    EXPECT_EQ(records[0].second.channels(), 1) << flags;
    EXPECT_EQ(records[0].second.height(), 3) << flags;
    EXPECT_EQ(records[0].second.width(), 5) << flags;
  }
  // Flags after the positional arguments work too; -encoded keeps the files.
  const auto r = Crema("convert imageset " + dir_.file("root") + " " + dir_.file("list.txt") +
                       " " + dir_.file("enc") + " -encoded -shuffle");
  ASSERT_EQ(r.status, 0) << r.output;
  for (const auto& [key, datum] : ReadDatums(dir_.file("enc"))) EXPECT_TRUE(datum.encoded()) << key;
}

TEST_F(ImageCliTest, ImagesetReportsSkippedImages) {
  testing::WriteFile(dir_.file("list.txt"), "cat/a b.png 0\nmissing.png 1\n");
  const auto r = Crema("convert imageset " + dir_.file("root") + "/ " + dir_.file("list.txt") +
                       " " + dir_.file("db"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_CONTAINS(r.output, "Could not open or decode " + dir_.file("root") + "/missing.png");
  EXPECT_CONTAINS(r.output, "Wrote 1 images to " + dir_.file("db") + " (skipped 1 unreadable)");
}

TEST_F(ImageCliTest, ImagesetBadArguments) {
  const std::string args = " " + dir_.file("root") + "/ " + dir_.file("list.txt") + " " +
                           dir_.file("db");
  ExpectOneLineError("convert imageset " + dir_.file("root"), "usage: crema convert imageset");
  ExpectOneLineError("convert imageset -resize_width 5" + args,
                     "-resize_width and -resize_height go together");
  ExpectOneLineError("convert imageset -resize_width -5 -resize_height 3" + args,
                     "must not be negative");
  ExpectOneLineError("convert imageset -encoded -encode_type gif" + args,
                     "-encode_type must be an image format such as png or jpg, got 'gif'");
  ExpectOneLineError("convert imageset -backend leveldb" + args, "LMDB datasets only");
  testing::WriteFile(dir_.file("list.txt"), "cat/a b.png 0\ndog/c.jpg\n");
  ExpectOneLineError("convert imageset" + args, dir_.file("list.txt") + ":2: no label");
  EXPECT_FALSE(fs::exists(dir_.file("db")));
}

TEST_F(ImageCliTest, FolderWritesListAndLabels) {
  const auto r = Crema("convert folder -resize_width 4 -resize_height 4 " + dir_.file("root") +
                       " " + dir_.file("train_lmdb"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_CONTAINS(r.output, "Wrote 2 images of 2 classes to " + dir_.file("train_lmdb"));
  EXPECT_EQ(ReadFileToString(dir_.file("train_lmdb_list.txt")), "cat/a b.png 0\ndog/c.jpg 1\n");
  EXPECT_EQ(ReadFileToString(dir_.file("train_lmdb_labels.txt")), "cat\ndog\n");
  EXPECT_EQ(ReadDatums(dir_.file("train_lmdb")).size(), 2u);

  ExpectOneLineError("convert folder " + dir_.file("root"), "usage: crema convert folder");
  ExpectOneLineError("convert folder " + dir_.file("nowhere") + " " + dir_.file("db"),
                     "image folder '" + dir_.file("nowhere") + "' does not exist");
}

TEST_F(ImageCliTest, MeanOfAConvertedDataset) {
  ASSERT_EQ(Crema("convert imageset " + dir_.file("root") + "/ " + dir_.file("list.txt") + " " +
                  dir_.file("db"))
                .status,
            0);
  // OUTPUT defaults to mean.binaryproto in the working directory.
  std::string output;
  const int status = testing::RunCommand("cd " + Quote(dir_.path()) + " && " +
                                             testing::CremaBinary() + " mean db",
                                         &output);
  ASSERT_EQ(status, 0) << output;
  EXPECT_CONTAINS(output, "Write to mean.binaryproto");
  EXPECT_CONTAINS(output, "Number of channels: 3");
  EXPECT_CONTAINS(output, "mean_value channel [0]: ");
  EXPECT_CONTAINS(output, "mean_value channel [2]: ");
  caffe::BlobProto mean;
  ReadBinaryProto(dir_.file("mean.binaryproto"), &mean);
  EXPECT_EQ(mean.num(), 1);
  EXPECT_EQ(mean.channels(), 3);
  EXPECT_EQ(mean.height(), 6);
  EXPECT_EQ(mean.width(), 8);
  EXPECT_FALSE(mean.has_shape());

  const auto named =
      Crema("mean -backend=lmdb " + dir_.file("db") + " " + dir_.file("m.binaryproto"));
  ASSERT_EQ(named.status, 0) << named.output;
  caffe::BlobProto same;
  ReadBinaryProto(dir_.file("m.binaryproto"), &same);
  EXPECT_TRUE(testing::SameMessage(mean, same));

  ExpectOneLineError("mean", "usage: crema mean [-backend lmdb] DB [OUTPUT]");
  ExpectOneLineError("mean a b c", "usage: crema mean");
  ExpectOneLineError("mean -backend leveldb " + dir_.file("db"), "-backend leveldb");
  ExpectOneLineError("mean -backend rocksdb " + dir_.file("db"), "-backend must be lmdb");
  ExpectOneLineError("mean " + dir_.file("nowhere"), dir_.file("nowhere"));
}

TEST_F(ImageCliTest, ProgressLineOnATerminal) {
  // `script` gives the command a terminal; skip where it is missing.
  std::string ignored;
  if (testing::RunCommand("command -v script", &ignored) != 0) GTEST_SKIP() << "no `script`";
  std::string output;
  const int status = testing::RunCommand(
      "script -qec " + Quote(testing::CremaBinary() + " convert imageset " + dir_.file("root") +
                             "/ " + dir_.file("list.txt") + " " + dir_.file("db")) +
          " /dev/null",
      &output);
  if (status != 0 && output.rfind("script:", 0) == 0) GTEST_SKIP() << output;  // no terminal
  ASSERT_EQ(status, 0) << output;
  EXPECT_CONTAINS(output, "\rconvert imageset: 2/2 images");
}

}  // namespace
}  // namespace crema
