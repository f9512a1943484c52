#include "crema/data/image_folder.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <system_error>

#include <glog/logging.h>

#include "crema/core/error.h"
#include "crema/data/staged_lmdb.h"
#include "crema/io/proto_io.h"

namespace crema {

namespace {

namespace fs = std::filesystem;

bool IsHidden(const fs::path& path) {
  const std::string name = path.filename().string();
  return !name.empty() && name[0] == '.';
}

bool HasLineBreak(const std::string& s) { return s.find_first_of("\r\n") != std::string::npos; }

// Appends the images below `class_dir` (paths relative to the image folder, via `prefix`).
void ScanClass(const fs::path& class_dir, const std::string& prefix, int label,
               ImageFolder* folder) {
  std::error_code ec;
  std::vector<ImageListEntry> images;
  fs::recursive_directory_iterator it(class_dir, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    const fs::directory_entry& entry = *it;
    if (IsHidden(entry.path())) {
      if (entry.is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (!entry.is_regular_file(ec)) continue;  // directories are walked into; others skipped
    const std::string relative =
        prefix + "/" + entry.path().lexically_relative(class_dir).generic_string();
    if (!IsImageFileName(relative)) {
      ++folder->ignored_files;
      continue;
    }
    if (HasLineBreak(relative)) {
      LOG(WARNING) << "Ignoring '" << relative << "': a path with a line break cannot go into "
                   << "a list file";
      ++folder->ignored_files;
      continue;
    }
    images.push_back({relative, label});
  }
  if (ec) {
    throw IOError(StrCat("cannot list image folder '", class_dir.string(), "': ", ec.message()));
  }
  std::sort(images.begin(), images.end(),
            [](const ImageListEntry& a, const ImageListEntry& b) { return a.path < b.path; });
  if (images.empty()) {
    LOG(WARNING) << "Class '" << prefix << "' (label " << label << ") has no images";
  }
  folder->entries.insert(folder->entries.end(), images.begin(), images.end());
}

}  // namespace

bool IsImageFileName(const std::string& name) {
  const size_t dot = name.rfind('.');
  if (dot == std::string::npos || name.find('/', dot) != std::string::npos) return false;
  std::string ext = name.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* known : {"jpg", "jpeg", "png", "bmp", "ppm", "pgm", "tif", "tiff", "webp"}) {
    if (ext == known) return true;
  }
  return false;
}

ImageFolder ScanImageFolder(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw NotFound(StrCat("image folder '", dir, "' does not exist or is not a directory"));
  }
  ImageFolder folder;
  for (fs::directory_iterator it(dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    if (IsHidden(it->path())) continue;
    if (it->is_directory(ec)) {
      folder.classes.push_back(it->path().filename().string());
    } else {
      ++folder.ignored_files;  // loose files belong to no class
    }
  }
  if (ec) throw IOError(StrCat("cannot list image folder '", dir, "': ", ec.message()));
  std::sort(folder.classes.begin(), folder.classes.end());
  if (folder.classes.empty()) {
    throw InvalidArgument(StrCat("image folder '", dir, "' has no class folders (expected ",
                                 "one sub-folder of images per class)"));
  }
  for (size_t label = 0; label < folder.classes.size(); ++label) {
    const std::string& name = folder.classes[label];
    if (HasLineBreak(name)) {
      throw InvalidArgument(StrCat("class folder '", (fs::path(dir) / name).string(),
                                   "' has a line break in its name, which a label file ",
                                   "cannot hold; rename it"));
    }
    ScanClass(fs::path(dir) / name, name, static_cast<int>(label), &folder);
  }
  if (folder.entries.empty()) {
    throw InvalidArgument(StrCat("image folder '", dir, "' holds no images in its ",
                                 folder.classes.size(), " class folders (looked for .jpg, ",
                                 ".jpeg, .png, .bmp, .ppm, .pgm, .tif, .tiff, .webp files)"));
  }
  return folder;
}

ImageFolderResult ConvertImageFolder(const std::string& image_dir, const std::string& db_path,
                                     const ImagesetOptions& options) {
  ValidateImagesetOptions(options);
  ImageFolder folder = ScanImageFolder(image_dir);
  LOG(INFO) << "Found " << folder.entries.size() << " images in " << folder.classes.size()
            << " classes in " << image_dir;
  if (folder.ignored_files > 0) {
    LOG(INFO) << "Ignored " << folder.ignored_files << " files that are not images in a class "
              << "folder";
  }
  ImageFolderResult result;
  result.classes = folder.classes;
  const std::string base = StripTrailingSlashes(db_path);
  result.list_path = base + "_list.txt";
  result.labels_path = base + "_labels.txt";
  result.imageset = ConvertImageList(std::move(folder.entries), image_dir, db_path, options);
  try {
    std::string labels;
    for (const std::string& name : result.classes) labels += name + "\n";
    WriteStringToFile(result.list_path, FormatImageList(result.imageset.written_entries));
    WriteStringToFile(result.labels_path, labels);
  } catch (...) {
    std::error_code ec;
    fs::remove_all(base, ec);
    fs::remove(result.list_path, ec);
    throw;
  }
  LOG(INFO) << "Wrote " << result.list_path << " and " << result.labels_path;
  return result;
}

}  // namespace crema
