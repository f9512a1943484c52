// Image files → an LMDB of Datums, as Caffe's convert_imageset makes it.
//
// For the i-th entry of the list (after the optional shuffle) the database gets
//   key    printf("%08d_%s", i, path)   (i counts skipped entries too, as Caffe's does; a key
//                                         longer than LMDB's 511-byte limit is cut to it —
//                                         the index prefix keeps keys unique and ordered)
//   value  a Datum with the entry's label and either
//          raw:     channels/height/width and `data` = the decoded pixels, planar C×H×W in
//                   OpenCV's BGR order (1 channel with `gray`), resized bilinearly to
//                   resize_height × resize_width when both are set;
//          encoded: `encoded` = true, channels/height/width unset, `data` = the file's own
//                   bytes when they already are what a reader should decode (no resize
//                   asked, the file's channel count is the one asked for — 3, or 1 with
//                   `gray` — and its extension matches encode_type, "jpeg" matching "jpg";
//                   an empty encode_type matches every file), else the converted image
//                   re-encoded as encode_type (the file's extension when it is empty).
//   Caffe keeps a grey file's bytes in colour mode too; re-encoding it in colour keeps
//   every record of one dataset the same channel count, as raw conversion does.
// Files that cannot be read or decoded are logged with their path and skipped (as Caffe's
// tool does) and counted in the result.
//
// Images are decoded in parallel (OpenMP) and written in list order, so the database does not
// depend on the thread count. Functions are thread-safe for distinct output paths.
#ifndef CREMA_DATA_IMAGESET_H_
#define CREMA_DATA_IMAGESET_H_

#include <cstdint>
#include <string>
#include <vector>

#include "crema/data/image_codec.h"
#include "crema/data/image_list.h"
#include "crema/proto/caffe.pb.h"

namespace crema {

struct ImagesetOptions {
  // One grey channel (OpenCV's grey decode) instead of three (BGR).
  bool gray = false;
  // Both > 0: resize every image to this size. Both 0: keep each image's size.
  int resize_height = 0;
  int resize_width = 0;
  // Every image must have the first written image's channels × height × width.
  bool check_size = false;
  // Store image files (encoded Datums) instead of pixels.
  bool encoded = false;
  // Format of re-encoded images: "png", "jpg", ... ("" = each file's own extension).
  std::string encode_type;
  // Shuffle the entries before writing, with a fixed seed: the same list gives the same
  // database on every run and machine.
  bool shuffle = false;
  uint64_t shuffle_seed = 1;
  // Start of the progress line (progress.h).
  std::string progress_label = "convert imageset";
};

struct ImagesetResult {
  int64_t written = 0;
  int64_t skipped = 0;                          // entries whose file was unreadable
  std::vector<ImageListEntry> written_entries;  // in database order
};

// Throws InvalidArgument naming the option when the options are inconsistent: a negative
// resize, only one of resize_height/resize_width set, or (with `encoded`) an encode_type this
// build cannot encode.
void ValidateImagesetOptions(const ImagesetOptions& options);

// Shuffles `entries` in place (Fisher–Yates driven by a 64-bit Mersenne Twister seeded with
// `seed`, with an unbiased draw of its own): the result depends on the seed only, not on
// the C++ library.
void ShuffleImageList(uint64_t seed, std::vector<ImageListEntry>* entries);

// The Datum for one image file; `channels`/`height`/`width` receive the decoded image's
// size (also for encoded Datums). Returns false when the file cannot be read or is not a
// decodable image. Throws InvalidArgument when re-encoding fails.
// REQUIRES: ValidateImagesetOptions(options) passed.
bool ImageFileToDatum(const std::string& file, int label, const ImagesetOptions& options,
                      caffe::Datum* datum, int* channels, int* height, int* width);

// Writes the images of `entries` (paths relative to `root`, see ImageRootPrefix) to a new
// LMDB at `db_path`, staged under "<db_path>.partial" until complete (staged_lmdb.h).
// Throws what ValidateImagesetOptions throws; InvalidArgument for an empty list, when no
// image could be read, and with check_size when an image's size differs from the first
// (naming the file and both sizes); what StagedLmdb and LmdbWriter throw. On a throw no
// database is left at db_path.
ImagesetResult ConvertImageList(std::vector<ImageListEntry> entries, const std::string& root,
                                const std::string& db_path, const ImagesetOptions& options);

// ReadImageList(list_file), then ConvertImageList. Throws what both throw.
ImagesetResult ConvertImageset(const std::string& root, const std::string& list_file,
                               const std::string& db_path, const ImagesetOptions& options);

}  // namespace crema

#endif  // CREMA_DATA_IMAGESET_H_
