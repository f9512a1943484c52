#include "crema/data/image_list.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "crema/core/error.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::ExpectError;
using testing::TempDir;

TEST(ImageListTest, LabelFollowsTheLastSpace) {
  TempDir dir;
  testing::WriteFile(dir.file("list.txt"),
                     "a.png 0\n"
                     "my photos/cat 1.jpg 3\r\n"  // spaces in the path, a Windows line end
                     "\n"                          // blank lines are skipped
                     "b.png -2   \n"               // trailing blanks
                     "c.png 7");                   // no final newline
  const std::vector<ImageListEntry> entries = ReadImageList(dir.file("list.txt"));
  const std::vector<ImageListEntry> expected = {
      {"a.png", 0}, {"my photos/cat 1.jpg", 3}, {"b.png", -2}, {"c.png", 7}};
  EXPECT_EQ(entries, expected);
  EXPECT_EQ(FormatImageList(entries), "a.png 0\nmy photos/cat 1.jpg 3\nb.png -2\nc.png 7\n");
}

TEST(ImageListTest, MissingOrBadLabelNamesFileAndLine) {
  TempDir dir;
  testing::WriteFile(dir.file("list.txt"), "a.png 0\n\nb.png\n");
  ExpectError([&] { ReadImageList(dir.file("list.txt")); }, ErrorCode::kInvalidArgument,
              {dir.file("list.txt") + ":3: no label in 'b.png'"});
  testing::WriteFile(dir.file("list.txt"), "a.png x1\n");
  ExpectError([&] { ReadImageList(dir.file("list.txt")); }, ErrorCode::kInvalidArgument,
              {dir.file("list.txt") + ":1: label 'x1' is not an integer"});
  testing::WriteFile(dir.file("list.txt"), "a b.png 99999999999\n");
  ExpectError([&] { ReadImageList(dir.file("list.txt")); }, ErrorCode::kInvalidArgument,
              {":1: label '99999999999'"});
  testing::WriteFile(dir.file("list.txt"), " 5\n");  // a label and no path
  ExpectError([&] { ReadImageList(dir.file("list.txt")); }, ErrorCode::kInvalidArgument,
              {":1: no image path"});
  ExpectError([&] { ReadImageList(dir.file("absent.txt")); }, ErrorCode::kIOError,
              {dir.file("absent.txt")});
}

TEST(ImageListTest, PathsWithLineBreaksCannotBeWritten) {
  ExpectError([] { FormatImageList({{"a\nb.png", 1}}); }, ErrorCode::kInvalidArgument,
              {"line break"});
}

TEST(ImageListTest, RootPrefixAddsASlashOnlyForDirectories) {
  TempDir dir;
  EXPECT_EQ(ImageRootPrefix(""), "");
  EXPECT_EQ(ImageRootPrefix(dir.path() + "/"), dir.path() + "/");
  EXPECT_EQ(ImageRootPrefix(dir.path()), dir.path() + "/");
  EXPECT_EQ(ImageRootPrefix(dir.file("img_")), dir.file("img_"));  // a name prefix
}

}  // namespace
}  // namespace crema
