#include "crema/data/image_folder.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "crema/core/error.h"
#include "crema/io/proto_io.h"
#include "dataset_helpers.h"
#include "test_helpers.h"

namespace crema {
namespace {

namespace fs = std::filesystem;
using testing::ExpectError;
using testing::PatternImage;
using testing::TempDir;
using testing::WriteImageFile;

// images/{dog,cat,bird}/ with images, a nested folder, an upper-case extension, and things
// that must be ignored.
void MakeFolder(const std::string& dir) {
  WriteImageFile(dir + "/dog/d1.png", PatternImage(3, 4, 4, 1));
  WriteImageFile(dir + "/dog/a0.jpg", PatternImage(3, 4, 4, 2));
  WriteImageFile(dir + "/cat/c1.png", PatternImage(3, 4, 4, 3));
  WriteImageFile(dir + "/cat/more/c0 x.png", PatternImage(3, 4, 4, 4));
  WriteImageFile(dir + "/bird/B.PNG", PatternImage(3, 4, 4, 5));
  testing::WriteFile(dir + "/bird/notes.txt", "not an image");
  testing::WriteFile(dir + "/bird/.hidden.png", "hidden");
  WriteImageFile(dir + "/.ipynb_checkpoints/x.png", PatternImage(3, 4, 4, 6));
  WriteImageFile(dir + "/cat/.cache/y.png", PatternImage(3, 4, 4, 7));
  testing::WriteFile(dir + "/README.txt", "a loose file");
}

TEST(ImageFolderTest, ClassesAreSortedSubFolders) {
  TempDir dir;
  MakeFolder(dir.file("images"));
  const ImageFolder folder = ScanImageFolder(dir.file("images"));
  EXPECT_EQ(folder.classes, (std::vector<std::string>{"bird", "cat", "dog"}));
  const std::vector<ImageListEntry> expected = {
      {"bird/B.PNG", 0}, {"cat/c1.png", 1}, {"cat/more/c0 x.png", 1}, {"dog/a0.jpg", 2},
      {"dog/d1.png", 2}};
  EXPECT_EQ(folder.entries, expected);
  EXPECT_EQ(folder.ignored_files, 2);  // notes.txt and README.txt
}

TEST(ImageFolderTest, WritesDatabaseListAndLabels) {
  TempDir dir;
  MakeFolder(dir.file("images"));
  ImagesetOptions options;
  options.resize_height = 2;
  options.resize_width = 3;
  const ImageFolderResult result =
      ConvertImageFolder(dir.file("images"), dir.file("out/train_lmdb/"), options);
  EXPECT_EQ(result.list_path, dir.file("out/train_lmdb_list.txt"));
  EXPECT_EQ(result.labels_path, dir.file("out/train_lmdb_labels.txt"));
  EXPECT_EQ(result.imageset.written, 5);
  EXPECT_EQ(ReadFileToString(result.list_path),
            "bird/B.PNG 0\ncat/c1.png 1\ncat/more/c0 x.png 1\ndog/a0.jpg 2\ndog/d1.png 2\n");
  EXPECT_EQ(ReadFileToString(result.labels_path), "bird\ncat\ndog\n");

  const auto records = testing::ReadDatums(dir.file("out/train_lmdb"));
  ASSERT_EQ(records.size(), 5u);
  EXPECT_EQ(records[2].first, "00000002_cat/more/c0 x.png");
  EXPECT_EQ(records[2].second.label(), 1);
  EXPECT_EQ(records[4].second.label(), 2);
  EXPECT_EQ(records[0].second.height(), 2);
  EXPECT_EQ(records[0].second.width(), 3);
}

TEST(ImageFolderTest, ListHoldsOnlyWrittenImagesInDatabaseOrder) {
  TempDir dir;
  MakeFolder(dir.file("images"));
  testing::WriteFile(dir.file("images/dog/broken.png"), "not a png");
  ImagesetOptions options;
  options.shuffle = true;
  const ImageFolderResult result =
      ConvertImageFolder(dir.file("images"), dir.file("db"), options);
  EXPECT_EQ(result.imageset.skipped, 1);
  const std::vector<ImageListEntry> list = ReadImageList(result.list_path);
  const auto records = testing::ReadDatums(dir.file("db"));
  ASSERT_EQ(list.size(), 5u);
  ASSERT_EQ(records.size(), 5u);
  for (size_t i = 0; i < list.size(); ++i) {
    EXPECT_EQ(records[i].first.substr(9), list[i].path);
    EXPECT_EQ(records[i].second.label(), list[i].label);
  }
}

TEST(ImageFolderTest, ExtensionsThatCount) {
  for (const char* name : {"a.jpg", "a.JPEG", "x/y.png", "b.bmp", "c.ppm", "d.pgm", "e.tif",
                           "f.TIFF", "g.webp"}) {
    EXPECT_TRUE(IsImageFileName(name)) << name;
  }
  for (const char* name : {"a.txt", "png", "a.png/readme", "a.gif", "a.jpg.bak", ""}) {
    EXPECT_FALSE(IsImageFileName(name)) << name;
  }
}

TEST(ImageFolderTest, EmptyOrMissingFoldersAreErrors) {
  TempDir dir;
  ExpectError([&] { ScanImageFolder(dir.file("nowhere")); }, ErrorCode::kNotFound,
              {dir.file("nowhere"), "does not exist"});
  testing::WriteFile(dir.file("loose.png"), "x");
  ExpectError([&] { ScanImageFolder(dir.path()); }, ErrorCode::kInvalidArgument,
              {dir.path(), "no class folders"});
  fs::create_directories(dir.file("a"));
  testing::WriteFile(dir.file("a/readme.txt"), "x");
  ExpectError([&] { ConvertImageFolder(dir.path(), dir.file("db"), {}); },
              ErrorCode::kInvalidArgument, {"holds no images in its 1 class folders"});
  EXPECT_FALSE(fs::exists(dir.file("db")));
  EXPECT_FALSE(fs::exists(dir.file("db_list.txt")));
}

}  // namespace
}  // namespace crema
