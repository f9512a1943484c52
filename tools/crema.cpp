// crema: train, test, time Caffe-compatible models; convert datasets and compute their mean.
//
//   crema <command> [flags] [arguments]
//
// Flags follow Caffe's tool: -flag value, -flag=value and --flag value all work.
#include <gflags/gflags.h>
#include <glog/logging.h>
#include <omp.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <iostream>
#include <map>
#include <string>

#include "commands.h"
#include "job.h"
#include "crema/core/error.h"
#include "crema/data/hdf5_dataset.h"

DEFINE_string(solver, "", "train: the solver prototxt.");
DEFINE_string(model, "", "test, time, info: the net prototxt.");
DEFINE_string(weights, "",
              "train: .caffemodel files (comma-separated) to initialise from (fine-tuning); "
              "test: the model to score. Cannot be combined with -snapshot.");
DEFINE_string(snapshot, "",
              "train: a .solverstate (or .solverstate.h5) to resume from, or 'latest'.");
DEFINE_string(gpu, "", "GPU ids; this build computes on CPU only, so leave it empty.");
DEFINE_int32(iterations, 50, "test, time: number of iterations to run.");
DEFINE_string(phase, "", "time, info: TRAIN (default) or TEST (inference, as test runs it).");
DEFINE_int32(level, 0, "The net state's level, for include/exclude rules.");
DEFINE_string(stage, "", "The net state's stages, comma-separated, for include/exclude rules.");
DEFINE_string(sigint_effect, "stop", "train: what SIGINT does: stop, snapshot or none.");
DEFINE_string(sighup_effect, "snapshot", "train: what SIGHUP does: stop, snapshot or none.");
DEFINE_string(metrics, "",
              "train: JSON-lines metrics file (default <snapshot_prefix>_metrics.jsonl; "
              "'none' writes none).");
DEFINE_int32(threads, 0,
             "Compute threads per rank (0: OMP_NUM_THREADS if set, else this host's cores "
             "divided among its ranks).");
DEFINE_string(sync, "bsp",
              "train on several ranks: bsp (gradients averaged every iteration, overlapped "
              "with backward), local_sgd:K (weights averaged every K iterations) or async "
              "(gradients applied one step late, never waiting).");
DEFINE_bool(global_batch, false,
            "train on several ranks: a TRAIN data layer's batch_size is the job's batch, split "
            "evenly between the ranks (without it every rank takes batch_size, as CaffeOnSpark "
            "did, and the job's batch grows with the ranks).");
DEFINE_double(bucket_mb, 4, "train, -sync bsp: size of a gradient bucket in MB.");
DEFINE_double(sync_timeout, 300,
              "Seconds a rank waits for the others at any synchronisation before the job "
              "stops with a message naming the ranks it waited for.");
DEFINE_double(startup_timeout, 600,
              "Seconds a rank waits for every rank to join the job (MPI's start-up) before it "
              "stops with a message saying so.");
DEFINE_string(output, "output",
              "test: file for the mean of every output ('name: v1,v2' lines, written only when "
              "given); features: the output directory.");
DEFINE_string(features, "",
              "features: the blobs to extract, comma-separated (each must hold one row per "
              "sample: its first dimension is the batch).");
DEFINE_string(label, "", "features: a label blob to append to every record (e.g. label).");
DEFINE_string(outputFormat, "json",
              "features: the part files' format: json (JSON lines), csv or hdf5.");
DEFINE_string(connection, "auto",
              "MPI transport: ethernet (TCP between hosts), infiniband (UCX: InfiniBand or "
              "RoCE RDMA) or auto (MPI's choice). Shared memory is used within a host.");
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
    "  time     -model NET.prototxt [-iterations N] [-phase TRAIN|TEST]   per-layer times:\n"
    "           TRAIN forward and backward, TEST forward as test runs it (layers fused)\n"
    "  info     -model NET.prototxt [-weights M.caffemodel] [-phase TRAIN|TEST]   per layer:\n"
    "           type, top shapes, learnable parameters, forward FLOPs; and their totals\n"
    "  features -model NET.prototxt -weights M.caffemodel -features b1[,b2] [-label l]\n"
    "           [-output DIR] [-outputFormat json|csv|hdf5]   one record per sample of the\n"
    "           TEST data layer's dataset (each rank its shard) -> DIR/part-<rank>.<ext>,\n"
    "           then DIR/_SUCCESS\n"
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
    "  upgrade  net-text|net-binary|solver-text IN OUT   legacy net or solver file -> the\n"
    "           current format (Caffe's upgrade_*_proto_* tools; OUT may be IN)\n"
    "CaffeOnSpark's spelling also works, e.g. under mpirun:\n"
    "  crema -train -conf S.prototxt -model M.caffemodel [-features b1,b2 -label l -output O\n"
    "        -outputFormat json] [-test] [-clusterSize N] [-connection ethernet|infiniband]\n"
    "run 'crema --help' for every flag.";

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
      {"info", crema::tools::Info},
      {"convert", crema::tools::Convert},
      {"mean", crema::tools::Mean},
      {"features", crema::tools::Features},
      {"upgrade", crema::tools::Upgrade},
  };
  const bool cos = argc < 2 && crema::tools::CaffeOnSparkRequested();
  if (argc < 2 && !cos) {
    std::cerr << "usage: " << kUsage << "\n";
    return 1;
  }
  const std::string name = cos ? "(CaffeOnSpark)" : argv[1];
  auto it = commands.find(name);
  if (!cos && it == commands.end()) {
    std::cerr << "crema: unknown command '" << name << "'\nusage: " << kUsage << "\n";
    return 1;
  }
  const crema::tools::Args args(argv + std::min(argc, 2), argv + argc);
  int status = 0;
  std::string failure;
  try {
    crema::ReportHdf5CrashesAsErrors("crema " + name + ": ");
    crema::tools::StartJob("crema " + name + ": ");
    if (crema::tools::Job().distributed()) {
      crema::ReportHdf5CrashesAsErrors("crema " + name + ": rank " +
                                       std::to_string(crema::tools::Job().rank()) + ": ");
    }
    status = cos ? crema::tools::CaffeOnSpark() : it->second(args);
  } catch (const crema::Error& e) {
    failure = e.what();
    status = 1;
  } catch (const std::bad_alloc&) {
    failure = "out of memory";
    status = 1;
  } catch (const std::exception& e) {
    failure = std::string("internal error: ") + e.what();
    status = 2;
  }
  if (status != 0 && !failure.empty()) {
    const bool in_job = crema::tools::JobStarted() && crema::tools::Job().distributed();
    // One write for the whole line: under mpirun the other ranks and the launcher write to
    // the same stream, and a line written piece by piece comes out cut in two.
    const std::string line =
        "crema " + name + ": " +
        (in_job ? "rank " + std::to_string(crema::tools::Job().rank()) + ": " : "") + failure +
        "\n";
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
    // One rank failing ends the whole job, so no other rank waits for it.
    if (in_job) crema::tools::Job().Abort(status);
  }
  crema::tools::EndJob();
  return status;
}
