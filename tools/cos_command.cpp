// CaffeOnSpark's command line: `crema -train -conf S -model M [-features b1,b2 -label l]
// [-test] -output O …` runs what CaffeOnSpark ran, on the ranks of this MPI job.
//
//   -train            train with the solver -conf; the final model is written to -model
//                     (snapshots go beside it, named by the solver's snapshot_prefix)
//   -test             score the model over the solver's test set; "name: values" lines at -output
//   -features b1,b2   extract features with the model (-label l appends the label) into -output,
//                     in -outputFormat (json default, csv, hdf5)
// With -train and -test/-features, the freshly trained model is used. -snapshot/-weights
// resume or fine-tune as in CaffeOnSpark. -clusterSize must equal the number of ranks the
// launcher started; -devices, -resize, -lmdb_partitions and -persistent have no role here
// (a CPU rank is one device; layers resize images; every rank reads its own shard) and are
// accepted with a note.
#include <glog/logging.h>

#include <filesystem>

#include "commands.h"
#include "crema/core/error.h"
#include "crema/io/proto_io.h"
#include "job.h"

DEFINE_bool(train, false, "CaffeOnSpark: train with the solver -conf.");
DEFINE_bool(test, false, "CaffeOnSpark: score the model -model over the solver's test set.");
DEFINE_string(conf, "", "CaffeOnSpark: the solver prototxt.");
DEFINE_int32(clusterSize, 0, "CaffeOnSpark: the number of ranks (must match the launcher's).");
DEFINE_int32(devices, 1, "CaffeOnSpark: devices per executor (a CPU rank is one device).");
DEFINE_bool(resize, false, "CaffeOnSpark: resize images (layers' new_height/new_width do it).");
DEFINE_int32(lmdb_partitions, 0, "CaffeOnSpark: LMDB partitions (each rank reads its shard).");
DEFINE_bool(persistent, false, "CaffeOnSpark: persist the training data (no effect).");

namespace crema::tools {

bool CaffeOnSparkRequested() {
  return FLAGS_train || FLAGS_test || !FLAGS_conf.empty();
}

namespace {

// The solver's net as a file the test and features commands can read.
std::string NetFileOf(const caffe::SolverParameter& solver, const std::string& scratch_dir) {
  if (solver.has_net()) return solver.net();
  if (solver.has_train_net()) return solver.train_net();
  CREMA_REQUIRE(solver.has_net_param() || solver.has_train_net_param(), "the solver -conf '",
                FLAGS_conf, "' names no net");
  const std::string path = scratch_dir + "/crema_cos_net.prototxt";
  WriteTextProto(path, solver.has_net_param() ? solver.net_param() : solver.train_net_param());
  return path;
}

}  // namespace

int CaffeOnSpark() {
  CREMA_REQUIRE(!FLAGS_conf.empty(), "give the solver with -conf SOLVER.prototxt");
  CREMA_REQUIRE(FLAGS_train || FLAGS_test || !FLAGS_features.empty(),
                "say what to do: -train, -test and/or -features b1,b2");
  Communicator& job = Job();
  if (FLAGS_clusterSize > 0 && FLAGS_clusterSize != job.world_size()) {
    throw InvalidArgument(StrCat("-clusterSize ", FLAGS_clusterSize, " but the launcher started ",
                                 job.world_size(), " rank", job.world_size() == 1 ? "" : "s",
                                 "; start as many ranks as -clusterSize (mpirun -np ",
                                 FLAGS_clusterSize, ")"));
  }
  if (FLAGS_devices != 1) {
    LOG(WARNING) << "-devices " << FLAGS_devices
                 << ": a CPU rank is one device; use more ranks, or -threads for more cores";
  }
  if (FLAGS_resize) LOG(INFO) << "-resize: images are resized by the layers' new_height/new_width";
  if (FLAGS_lmdb_partitions > 0) LOG(INFO) << "-lmdb_partitions: every rank reads its own shard";
  if (FLAGS_test && !FLAGS_features.empty()) {
    LOG(WARNING) << "both -test and -features given: running -features, as CaffeOnSpark did";
  }
  const std::string cos_model = FLAGS_model;
  caffe::SolverParameter solver = ReadSolverParamsFromTextFile(FLAGS_conf);

  if (FLAGS_train) {
    FLAGS_solver = FLAGS_conf;
    FLAGS_model = "";
    const int status = TrainTo(cos_model);
    if (status != 0) return status;
  }
  if (FLAGS_test || !FLAGS_features.empty()) {
    CREMA_REQUIRE(!cos_model.empty() || !FLAGS_weights.empty(),
                  "-test and -features need the model: -model M.caffemodel");
    FLAGS_weights = cos_model.empty() ? FLAGS_weights : cos_model;
    namespace fs = std::filesystem;
    FLAGS_model = NetFileOf(solver, fs::temp_directory_path().string());
    if (!FLAGS_features.empty()) return Features({});
    // CaffeOnSpark's test ran the test source once: test_iter[0] batches.
    CREMA_REQUIRE(solver.test_iter_size() > 0, "-test needs test_iter in the solver -conf");
    FLAGS_iterations = solver.test_iter(0);
    gflags::SetCommandLineOption("output", FLAGS_output.c_str());  // mark -output as given
    return Test({});
  }
  return 0;
}

}  // namespace crema::tools
