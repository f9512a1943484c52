#include "crema/data/image_list.h"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "crema/core/error.h"

namespace crema {

namespace {

bool IsTrailingSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

}  // namespace

bool ParseImageListLine(std::string_view line, const std::string& source,
                        ImageListEntry* entry) {
  while (!line.empty() && IsTrailingSpace(line.back())) line.remove_suffix(1);
  if (line.empty()) return false;
  const size_t space = line.rfind(' ');
  if (space == std::string_view::npos) {
    throw InvalidArgument(StrCat(source, ": no label in '", line,
                                 "' (expected 'path label')"));
  }
  if (space == 0) {
    throw InvalidArgument(StrCat(source, ": no image path in '", line,
                                 "' (expected 'path label')"));
  }
  const std::string_view label = line.substr(space + 1);
  int value = 0;
  const auto [end, ec] = std::from_chars(label.data(), label.data() + label.size(), value);
  if (ec != std::errc() || end != label.data() + label.size()) {
    throw InvalidArgument(StrCat(source, ": label '", label, "' is not an integer (expected ",
                                 "'path label')"));
  }
  entry->path.assign(line.substr(0, space));
  entry->label = value;
  return true;
}

std::vector<ImageListEntry> ReadImageList(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw IOErrorFromErrno("open image list", path);
  std::vector<ImageListEntry> entries;
  std::string line;
  ImageListEntry entry;
  for (int number = 1; std::getline(in, line); ++number) {
    if (ParseImageListLine(line, StrCat(path, ":", number), &entry)) entries.push_back(entry);
  }
  if (in.bad()) throw IOErrorFromErrno("read image list", path);
  return entries;
}

std::string FormatImageList(const std::vector<ImageListEntry>& entries) {
  std::string out;
  for (const ImageListEntry& entry : entries) {
    if (entry.path.find_first_of("\r\n") != std::string::npos) {
      throw InvalidArgument(StrCat("image path '", entry.path, "' contains a line break and ",
                                   "cannot go into a list file"));
    }
    out += StrCat(entry.path, " ", entry.label, "\n");
  }
  return out;
}

std::string ImageRootPrefix(const std::string& root) {
  if (root.empty() || root.back() == '/') return root;
  std::error_code ec;
  return std::filesystem::is_directory(root, ec) ? root + "/" : root;
}

}  // namespace crema
