#include "crema/data/progress.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace crema {
namespace {

// Everything written to a temporary file.
std::string Contents(std::FILE* file) {
  std::fflush(file);
  std::rewind(file);
  std::string out;
  int c;
  while ((c = std::fgetc(file)) != EOF) out.push_back(static_cast<char>(c));
  return out;
}

int Count(const std::string& s, const std::string& what) {
  int n = 0;
  for (size_t pos = s.find(what); pos != std::string::npos; pos = s.find(what, pos + 1)) ++n;
  return n;
}

TEST(ProgressTest, RedrawsOnePercentStepsAndEndsTheLine) {
  std::FILE* file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  {
    Progress progress("convert imageset", 1000, "images", file, true);
    for (int i = 1; i <= 1000; ++i) progress.Update(i);
  }  // the destructor ends the line
  const std::string out = Contents(file);
  std::fclose(file);
  // A draw at 1, then every 10 items: 100 redraws; Done() only ends the line.
  EXPECT_EQ(Count(out, "\r"), 101) << out;
  EXPECT_EQ(Count(out, "\n"), 1);
  EXPECT_NE(out.find("\rconvert imageset: 1/1000 images\r"), std::string::npos);
  EXPECT_NE(out.find("\rconvert imageset: 10/1000 images\r"), std::string::npos);
  EXPECT_EQ(out.find("\rconvert imageset: 11/1000 images"), std::string::npos);
  EXPECT_EQ(out.substr(out.size() - 36), "\rconvert imageset: 1000/1000 images\n");
}

TEST(ProgressTest, SmallAndUnevenTotalsReachTheEnd) {
  std::FILE* file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  Progress progress("mean", 1055, "images", file, true);
  for (int i = 1; i <= 1055; ++i) progress.Update(i);
  const std::string before_done = Contents(file);
  EXPECT_NE(before_done.find("mean: 1055/1055 images"), std::string::npos);
  progress.Done();
  progress.Done();  // once only
  const std::string out = Contents(file);
  std::fclose(file);
  EXPECT_EQ(Count(out, "\n"), 1);
}

TEST(ProgressTest, ClearErasesTheLineAndTheNextUpdateRedraws) {
  std::FILE* file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  Progress progress("x", 1000, "items", file, true);
  progress.Update(500);
  progress.Clear();
  progress.Update(501);  // not a 1% step, but the line was cleared
  progress.Done();
  const std::string out = Contents(file);
  std::fclose(file);
  EXPECT_EQ(out, "\rx: 500/1000 items\r\x1b[K\rx: 501/1000 items\n");
}

TEST(ProgressTest, DisabledWritesNothing) {
  std::FILE* file = std::tmpfile();
  ASSERT_NE(file, nullptr);
  {
    Progress progress("x", 10, "items", file, false);
    EXPECT_FALSE(progress.enabled());
    for (int i = 1; i <= 10; ++i) progress.Update(i);
    progress.Clear();
  }
  EXPECT_EQ(Contents(file), "");
  std::fclose(file);
}

}  // namespace
}  // namespace crema
