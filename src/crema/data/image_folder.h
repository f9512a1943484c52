// Image collections laid out as one sub-folder per class → an LMDB, a list file and a
// label-name file.
//
//   IMAGE_DIR/cat/001.jpg          classes = the sub-folder names, sorted bytewise;
//   IMAGE_DIR/cat/more/002.png     label i = the i-th class;
//   IMAGE_DIR/dog/001.jpg          images = the files anywhere below a class folder whose
//                                  extension (any case) is jpg, jpeg, png, bmp, ppm, pgm,
//                                  tif, tiff or webp, sorted by path within each class.
// Other files, files directly in IMAGE_DIR, and names starting with '.' (.DS_Store,
// .ipynb_checkpoints/) are ignored. Directory links below a class folder are not followed.
//
// ConvertImageFolder writes, for DB = the database path:
//   DB               what convert imageset writes for the list (imageset.h);
//   DB_list.txt      the written images as an image list, "class/file.jpg label" a line,
//                    paths relative to IMAGE_DIR, in database order (so the same data can
//                    feed an ImageData layer with root_folder IMAGE_DIR);
//   DB_labels.txt    one class name a line; line i (from 0) is the name of label i.
//
// Functions are thread-safe for distinct output paths.
#ifndef CREMA_DATA_IMAGE_FOLDER_H_
#define CREMA_DATA_IMAGE_FOLDER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "crema/data/image_list.h"
#include "crema/data/imageset.h"

namespace crema {

// True when the file name's extension marks an image (see above; case-insensitive).
bool IsImageFileName(const std::string& name);

struct ImageFolder {
  std::vector<std::string> classes;     // sorted; label i = classes[i]
  std::vector<ImageListEntry> entries;  // class by class, paths sorted within each
  int64_t ignored_files = 0;            // non-image and loose files left out
};

// Lists the classes and images of `dir`.
// Throws NotFound naming `dir` when it is not a directory; InvalidArgument naming `dir` when
// it has no class folders or no images in them, and naming the class folder when a class
// name contains a line break (it could not go into the label file); IOError naming the
// folder when it cannot be listed.
ImageFolder ScanImageFolder(const std::string& dir);

struct ImageFolderResult {
  ImagesetResult imageset;
  std::vector<std::string> classes;
  std::string list_path;    // DB_list.txt
  std::string labels_path;  // DB_labels.txt
};

// ScanImageFolder(image_dir), then ConvertImageList into `db_path` with `options`, then the
// two text files beside it (written atomically; an existing pair is replaced). All or
// nothing: when the text files cannot be written the new database is removed again.
// Throws what ScanImageFolder and ConvertImageList throw, and IOError naming a text file
// that cannot be written.
ImageFolderResult ConvertImageFolder(const std::string& image_dir, const std::string& db_path,
                                     const ImagesetOptions& options);

}  // namespace crema

#endif  // CREMA_DATA_IMAGE_FOLDER_H_
