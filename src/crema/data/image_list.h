// Image list files: the text files Caffe's convert_imageset and ImageData layer read
// (docs/CAFFE_COMPAT.md §4.6).
//
// One image a line: "relative/path label". The label is the integer after the LAST space,
// so paths may themselves contain spaces ("my photos/cat 1.jpg 3"). Trailing whitespace and
// a Windows '\r' are ignored; blank lines are skipped.
//
// All functions are thread-safe (they touch only their arguments and the named files).
#ifndef CREMA_DATA_IMAGE_LIST_H_
#define CREMA_DATA_IMAGE_LIST_H_

#include <string>
#include <string_view>
#include <vector>

namespace crema {

struct ImageListEntry {
  std::string path;  // as written in the list (relative to a root folder)
  int label = 0;
  bool operator==(const ImageListEntry&) const = default;
};

// Parses one line; `source` ("list.txt:7") names it in errors. Returns false for a blank
// line. Throws InvalidArgument "<source>: ..." when the line has no label (no space), no
// path (nothing before the last space) or a label that is not an integer in int32 range.
bool ParseImageListLine(std::string_view line, const std::string& source,
                        ImageListEntry* entry);

// Reads a whole list file, in file order.
// Throws IOError naming the file when it cannot be read, and the InvalidArgument of
// ParseImageListLine, with "<path>:<line number>", for the first bad line.
std::vector<ImageListEntry> ReadImageList(const std::string& path);

// "path label\n" per entry. Throws InvalidArgument when a path contains a newline (it could
// not be read back).
std::string FormatImageList(const std::vector<ImageListEntry>& entries);

// What to put before a list entry's path to get its file: `root`, plus a '/' when `root`
// names a directory and does not end in one. (Caffe concatenates plainly, so "ROOT/" works
// the same in both; a root that is a file-name prefix still concatenates plainly.)
std::string ImageRootPrefix(const std::string& root);

}  // namespace crema

#endif  // CREMA_DATA_IMAGE_LIST_H_
