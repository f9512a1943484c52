// crema convert: dataset converters that write Caffe-format LMDBs.
//
//   crema convert mnist IMAGES LABELS DB                  Caffe's convert_mnist_data
//   crema convert cifar [-cifar_label fine|coarse] IN_DIR OUT_DIR
//                                                        Caffe's convert_cifar_data (+ CIFAR-100)
//   crema convert imageset [image flags] ROOT/ LISTFILE DB   Caffe's convert_imageset
//   crema convert folder [image flags] IMAGE_DIR DB       one sub-folder per class
#include <glog/logging.h>

#include "commands.h"
#include "crema/core/error.h"
#include "crema/data/cifar.h"
#include "crema/data/image_folder.h"
#include "crema/data/imageset.h"
#include "crema/data/mnist.h"

namespace crema::tools {

namespace {

const char kImageFlags[] =
    "[-gray] [-shuffle] [-resize_width W -resize_height H] [-check_size] [-encoded] "
    "[-encode_type png|jpg]";

// The image flags as options; throws InvalidArgument naming a bad flag.
ImagesetOptions ImagesetOptionsFromFlags(const std::string& progress_label) {
  CheckBackendFlag();
  ImagesetOptions options;
  options.gray = FLAGS_gray;
  options.shuffle = FLAGS_shuffle;
  options.resize_width = FLAGS_resize_width;
  options.resize_height = FLAGS_resize_height;
  options.check_size = FLAGS_check_size;
  options.encoded = FLAGS_encoded;
  options.encode_type = FLAGS_encode_type;
  options.progress_label = progress_label;
  CREMA_REQUIRE(FLAGS_resize_width >= 0 && FLAGS_resize_height >= 0,
                "-resize_width and -resize_height must not be negative, got ",
                FLAGS_resize_width, " and ", FLAGS_resize_height);
  CREMA_REQUIRE((FLAGS_resize_width > 0) == (FLAGS_resize_height > 0),
                "-resize_width and -resize_height go together: set both or neither (got ",
                FLAGS_resize_width, " and ", FLAGS_resize_height, ")");
  if (!FLAGS_encode_type.empty() && !FLAGS_encoded) {
    LOG(WARNING) << "-encode_type " << FLAGS_encode_type << " has no effect without -encoded";
  }
  if (options.encoded && !options.encode_type.empty()) {
    try {
      ValidateImagesetOptions(options);
    } catch (const Error&) {
      throw InvalidArgument(StrCat("-encode_type must be an image format such as png or jpg, ",
                                   "got '", FLAGS_encode_type, "'"));
    }
  }
  return options;
}

int ConvertCifarCommand(const Args& args) {
  CREMA_REQUIRE(args.size() == 3, "usage: crema convert cifar [-cifar_label fine|coarse] ",
                "IN_DIR OUT_DIR (got ", args.size() - 1, " arguments)");
  CREMA_REQUIRE(FLAGS_cifar_label == "fine" || FLAGS_cifar_label == "coarse",
                "-cifar_label must be fine or coarse, got '", FLAGS_cifar_label, "'");
  const CifarResult result = ConvertCifar(
      args[1], args[2], FLAGS_cifar_label == "coarse" ? CifarLabel::kCoarse : CifarLabel::kFine);
  LOG(INFO) << "Wrote " << result.train_count << " items to " << result.train_db << " and "
            << result.test_count << " items to " << result.test_db;
  return 0;
}

int ConvertImagesetCommand(const Args& args) {
  CREMA_REQUIRE(args.size() == 4, "usage: crema convert imageset ", kImageFlags,
                " ROOT/ LISTFILE DB (got ", args.size() - 1, " arguments)");
  const ImagesetResult result =
      ConvertImageset(args[1], args[2], args[3], ImagesetOptionsFromFlags("convert imageset"));
  LOG(INFO) << "Wrote " << result.written << " images to " << args[3]
            << (result.skipped > 0 ? StrCat(" (skipped ", result.skipped, " unreadable)") : "");
  return 0;
}

int ConvertFolderCommand(const Args& args) {
  CREMA_REQUIRE(args.size() == 3, "usage: crema convert folder ", kImageFlags,
                " IMAGE_DIR DB (got ", args.size() - 1, " arguments)");
  const ImageFolderResult result =
      ConvertImageFolder(args[1], args[2], ImagesetOptionsFromFlags("convert folder"));
  LOG(INFO) << "Wrote " << result.imageset.written << " images of " << result.classes.size()
            << " classes to " << args[2]
            << (result.imageset.skipped > 0
                    ? StrCat(" (skipped ", result.imageset.skipped, " unreadable)")
                    : "");
  return 0;
}

}  // namespace

void CheckBackendFlag() {
  if (FLAGS_backend == "lmdb") return;
  if (FLAGS_backend == "leveldb") {
    throw Unsupported("-backend leveldb: Crema reads and writes LMDB datasets only; use "
                      "-backend lmdb");
  }
  throw InvalidArgument(StrCat("-backend must be lmdb, got '", FLAGS_backend, "'"));
}

int Convert(const Args& args) {
  CREMA_REQUIRE(!args.empty(),
                "convert needs a format: crema convert mnist|cifar|imageset|folder ...");
  const std::string& format = args[0];
  if (format == "mnist") {
    CREMA_REQUIRE(args.size() == 4, "usage: crema convert mnist IMAGES LABELS DB (got ",
                  args.size() - 1, " arguments)");
    const int64_t count = ConvertMnist(args[1], args[2], args[3]);
    LOG(INFO) << "Wrote " << count << " items to " << args[3];
    return 0;
  }
  if (format == "cifar") return ConvertCifarCommand(args);
  if (format == "imageset") return ConvertImagesetCommand(args);
  if (format == "folder") return ConvertFolderCommand(args);
  throw InvalidArgument(
      StrCat("unknown format '", format, "' (known: mnist, cifar, imageset, folder)"));
}

}  // namespace crema::tools
