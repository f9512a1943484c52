// crema: train, test, time Caffe-compatible models; convert datasets and compute their mean.
//
//   crema <command> [flags] [arguments]
//
// Flags follow Caffe's tool: -flag value, -flag=value and --flag value all work.
#include <gflags/gflags.h>
#include <glog/logging.h>
#include <omp.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <iostream>
#include <map>

#include "commands.h"
#include "crema/core/error.h"

DEFINE_string(solver, "", "train: the solver prototxt.");
DEFINE_string(model, "", "test, time: the net prototxt.");
DEFINE_string(weights, "",
              "train: .caffemodel files (comma-separated) to initialise from (fine-tuning); "
              "test: the model to score. Cannot be combined with -snapshot.");
DEFINE_string(snapshot, "", "train: a .solverstate to resume from.");
DEFINE_string(gpu, "", "GPU ids; this build computes on CPU only, so leave it empty.");
DEFINE_int32(iterations, 50, "test, time: number of iterations to run.");
DEFINE_string(phase, "", "time: TRAIN (default) or TEST.");
DEFINE_int32(level, 0, "The net state's level, for include/exclude rules.");
DEFINE_string(stage, "", "The net state's stages, comma-separated, for include/exclude rules.");
DEFINE_string(sigint_effect, "stop", "train: what SIGINT does: stop, snapshot or none.");
DEFINE_string(sighup_effect, "snapshot", "train: what SIGHUP does: stop, snapshot or none.");
DEFINE_string(metrics, "",
              "train: JSON-lines metrics file (default <snapshot_prefix>_metrics.jsonl; "
              "'none' writes none).");
DEFINE_int32(threads, 0, "Compute threads (0: OMP_NUM_THREADS if set, else every core).");
DEFINE_string(backend, "lmdb", "convert imageset/folder, mean: the database type (lmdb only).");
DEFINE_bool(gray, false, "convert imageset/folder: store images as 1-channel grey.");
DEFINE_bool(shuffle, false,
            "convert imageset/folder: shuffle the images (fixed seed: reproducible).");
DEFINE_int32(resize_width, 0, "convert imageset/folder: resize images to this width.");
DEFINE_int32(resize_height, 0, "convert imageset/folder: resize images to this height.");
DEFINE_bool(check_size, false,
            "convert imageset/folder: require every image to have the first one's size.");
DEFINE_bool(encoded, false,
            "convert imageset/folder: store the image files (encoded Datums), not pixels.");
DEFINE_string(encode_type, "",
              "convert imageset/folder with -encoded: format of re-encoded images (png, jpg); "
              "empty: each file's own.");
DEFINE_string(cifar_label, "fine", "convert cifar: CIFAR-100 label to store, fine or coarse.");

namespace {

const char kUsage[] =
    "crema <command> [flags] [arguments]\n"
    "commands:\n"
    "  train    -solver S.prototxt [-weights a.caffemodel[,b] | -snapshot s.solverstate]\n"
    "           [-level N] [-stage a,b] [-sigint_effect stop|snapshot|none]\n"
    "           [-sighup_effect stop|snapshot|none] [-metrics FILE] [-threads N]\n"
    "  test     -model NET.prototxt -weights M.caffemodel [-iterations N]\n"
    "  time     -model NET.prototxt [-iterations N] [-phase TRAIN|TEST]\n"
    "  convert  mnist IMAGES LABELS DB   (Caffe's convert_mnist_data)\n"
    "  convert  cifar [-cifar_label fine|coarse] IN_DIR OUT_DIR\n"
    "           CIFAR-10/100 binaries -> OUT_DIR/cifar{10,100}_{train,test}_lmdb\n"
    "  convert  imageset [image flags] ROOT/ LISTFILE DB   (Caffe's convert_imageset;\n"
    "           LISTFILE lines: 'relative/path label')\n"
    "  convert  folder [image flags] IMAGE_DIR DB   (one sub-folder per class; also writes\n"
    "           DB_list.txt and DB_labels.txt)\n"
    "           image flags: [-gray] [-shuffle] [-resize_width W -resize_height H]\n"
    "           [-check_size] [-encoded] [-encode_type png|jpg]\n"
    "  mean     [-backend lmdb] DB [OUTPUT]   (Caffe's compute_image_mean; OUTPUT defaults\n"
    "           to mean.binaryproto)\n"
    "run 'crema --help' for every flag.";

void SetThreads() {
  if (FLAGS_threads < 0) throw crema::InvalidArgument("-threads must be non-negative");
  if (FLAGS_threads > 0) omp_set_num_threads(FLAGS_threads);
}

}  // namespace

int main(int argc, char** argv) {
  gflags::SetUsageMessage(kUsage);
  gflags::SetVersionString("0.1.0");
  gflags::ParseCommandLineFlags(&argc, &argv, true);
  FLAGS_logtostderr = true;
  FLAGS_colorlogtostderr = false;
  google::InitGoogleLogging(argv[0]);

  const std::map<std::string, std::function<int(const crema::tools::Args&)>> commands = {
      {"train", crema::tools::Train},
      {"test", crema::tools::Test},
      {"time", crema::tools::Time},
      {"convert", crema::tools::Convert},
      {"mean", crema::tools::Mean},
  };
  if (argc < 2) {
    std::cerr << "usage: " << kUsage << "\n";
    return 1;
  }
  const std::string name = argv[1];
  auto it = commands.find(name);
  if (it == commands.end()) {
    std::cerr << "crema: unknown command '" << name << "'\nusage: " << kUsage << "\n";
    return 1;
  }
  const crema::tools::Args args(argv + 2, argv + argc);
  try {
    SetThreads();
    return it->second(args);
  } catch (const crema::Error& e) {
    std::cerr << "crema " << name << ": " << e.what() << "\n";
    return 1;
  } catch (const std::bad_alloc&) {
    std::cerr << "crema " << name << ": out of memory\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "crema " << name << ": internal error: " << e.what() << "\n";
    return 2;
  }
}
