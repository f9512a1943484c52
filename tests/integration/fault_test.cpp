// Faults during training lose at most the work since the last snapshot: a run killed with
// SIGKILL at any moment leaves a loadable latest snapshot, and resuming from it ends with the
// weights of an uninterrupted run; a disk that fills up while snapshotting is reported and
// training goes on. (A rank that dies in a job: distributed_test.cpp.)
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "crema/core/error.h"
#include "crema/io/proto_io.h"
#include "crema/proto/caffe.pb.h"
#include "crema/solver/solver.h"
#include "test_helpers.h"
#include "tiny_training.h"

namespace crema {
namespace {

namespace fs = std::filesystem;
using testing::CremaBinary;
using testing::RunCommand;
using testing::TempDir;

class FaultTest : public ::testing::Test {
 protected:
  // Every file under a final snapshot name in the directory (temporaries excluded).
  std::vector<std::string> SnapshotFiles(const std::string& prefix) const {
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(dir_.path())) {
      const std::string name = entry.path().filename().string();
      if (name.rfind(prefix + "_iter_", 0) != 0) continue;
      files.push_back(name);
    }
    std::sort(files.begin(), files.end());
    return files;
  }

  // Nothing under a final snapshot name is partial: each .caffemodel holds both learnable
  // layers whole, each .solverstate its four history blobs; and the latest state restores
  // into a fresh solver, with the weights of its .caffemodel. Returns its iteration (0 when
  // there is no snapshot yet).
  int ExpectEverySnapshotWhole(const std::string& solver_file, const std::string& prefix) const {
    int latest = 0;
    for (const std::string& name : SnapshotFiles(prefix)) {
      SCOPED_TRACE(name);
      if (name.find(".tmp.") != std::string::npos) continue;
      const std::string path = dir_.file(name);
      try {
        if (name.ends_with(".solverstate")) {
          caffe::SolverState state;
          ReadBinaryProto(path, &state);
          EXPECT_EQ(state.history_size(), 4);
          latest = std::max(latest, state.iter());
        } else if (name.ends_with(".caffemodel")) {
          caffe::NetParameter model;
          ReadBinaryProto(path, &model);
          int whole = 0;
          for (const auto& layer : model.layer()) {
            const bool conv = layer.name() == "conv1" && layer.blobs_size() == 2 &&
                              layer.blobs(0).data_size() == 4 * 5 * 5 &&
                              layer.blobs(1).data_size() == 4;
            const bool ip = layer.name() == "ip1" && layer.blobs_size() == 2 &&
                            layer.blobs(0).data_size() == 10 * 4 * 12 * 12 &&
                            layer.blobs(1).data_size() == 10;
            whole += conv || ip;
          }
          EXPECT_EQ(whole, 2) << name << " is not a whole model";
        } else {
          ADD_FAILURE() << "unexpected file " << name;
        }
      } catch (const Error& e) {
        ADD_FAILURE() << "cannot read " << name << ": " << e.what();
      }
    }
    if (latest == 0) return 0;
    // Restored as `-snapshot latest` does, by a solver that writes no snapshots (it would
    // clean up the killed runs' temporaries, which the next run must do).
    caffe::SolverParameter param = ReadSolverParamsFromTextFile(solver_file);
    param.set_snapshot(0);
    param.set_snapshot_after_train(false);
    std::unique_ptr<Solver> solver = CreateSolver(param);
    const std::string state = dir_.file(prefix + "_iter_" + std::to_string(latest) + ".solverstate");
    try {
      solver->Restore(state);
    } catch (const Error& e) {
      ADD_FAILURE() << "cannot restore the latest snapshot: " << e.what();
    }
    EXPECT_EQ(solver->iter(), latest);
    return latest;
  }

  TempDir dir_;
  testing::TinyTrainingJob job_{dir_};
};

TEST_F(FaultTest, SigkillAtRandomMomentsLeavesALoadableSnapshotAndResumingEndsLikeAStraightRun) {
  // Long enough never to finish within 20 kills: the final leg below ends the run.
  const std::string solver = job_.WriteSolver("killed.prototxt", "max_iter: 100000000\nsnapshot: 4\n", "k");

  // 20 runs, each resumed from the latest snapshot and killed at a random moment: every
  // fourth during start-up, the others while training (possibly in the middle of writing a
  // snapshot, which happens every few milliseconds). A training run's clock starts once it
  // has begun its second snapshot, so its first is whole and every such run moves the
  // latest snapshot on however slow the build (sanitizers make start-up take seconds).
  std::mt19937 gen(std::random_device{}());
  std::uniform_int_distribution<int> delay_ms(0, 300);
  int resumed = 0, progressed = 0, last_iter = 0;
  for (int run = 0; run < 20; ++run) {
    const bool in_startup = run % 4 == 3;
    const int delay = delay_ms(gen) / (in_startup ? 2 : 1);
    SCOPED_TRACE("run " + std::to_string(run) + ", killed " + std::to_string(delay) + " ms after " +
                 (in_startup ? "its start" : "its first snapshot"));
    const std::string log = dir_.file("run" + std::to_string(run) + ".log");
    const std::string wait_for_training =
        in_startup ? ""
                   : "for i in $(seq 1500); do [ \"$(grep -c 'Snapshotting to' " + log +
                         " 2>/dev/null)\" -ge 2 ] && break; sleep 0.02; done; ";
    std::string output;
    const int status = RunCommand(
        "OMP_NUM_THREADS=1 " + CremaBinary() + " train -solver " + solver +
            " -snapshot latest > " + log + " 2>&1 & pid=$!; " + wait_for_training + "sleep " +
            std::to_string(delay / 1000.0) + "; kill -KILL $pid 2>/dev/null; wait $pid",
        &output);
    ASSERT_NE(status, 0) << "run " << run << " ended before it was killed\n" << ReadFileToString(log);
    const std::string text = ReadFileToString(log);
    if (text.find("Restoring previous solver status") != std::string::npos) ++resumed;
    const int iter = ExpectEverySnapshotWhole(solver, "k");
    ASSERT_GE(iter, last_iter) << "the latest snapshot went back";
    if (iter > last_iter) ++progressed;
    last_iter = iter;
  }
  EXPECT_GE(resumed, 10) << "too few runs resumed from a snapshot to test anything";
  EXPECT_GE(progressed, 15) << "every run killed in training should have moved the latest snapshot on";

  // A last leg resumes from the latest snapshot and trains 40 iterations more (removing the
  // temporaries the killed runs left); it must end where an uninterrupted run of as many
  // iterations ends, bit for bit.
  int temporaries = 0;
  for (const std::string& name : SnapshotFiles("k")) temporaries += name.find(".tmp.") != std::string::npos;
  const std::string max_iter = "max_iter: " + std::to_string(last_iter + 40) + "\n";
  const testing::CommandResult last = testing::Crema(
      "train -solver " + job_.WriteSolver("last.prototxt", max_iter + "snapshot: 4\n", "k") +
      " -snapshot latest");
  ASSERT_EQ(last.status, 0) << last.output;
  if (last_iter > 0) {
    EXPECT_CONTAINS(last.output, "Data layers skip " + std::to_string(last_iter) + " batches");
  }
  if (temporaries > 0) {
    EXPECT_CONTAINS(last.output, "temporary snapshot file(s) left by an interrupted run");
  }
  for (const std::string& name : SnapshotFiles("k")) {
    EXPECT_EQ(name.find(".tmp."), std::string::npos) << name << " was left behind";
  }
  ASSERT_EQ(testing::Crema("train -solver " + job_.WriteSolver("straight.prototxt", max_iter, "s")).status, 0);
  const std::string final_model = "_iter_" + std::to_string(last_iter + 40) + ".caffemodel";
  EXPECT_EQ(testing::ExpectSameWeights(dir_.file("s" + final_model), dir_.file("k" + final_model)),
            4);
}

// Runs `crema_command` with the snapshots in a 96 kB file system of its own (a tmpfs in a
// private mount namespace); afterwards dir/out holds a copy of what was on it and dir/listing
// its names. Returns false when this machine cannot make such a file system.
bool RunOnASmallDisk(const TempDir& dir, const std::string& crema_command, std::string* output,
                     int* status) {
  // As root a mount namespace is enough; otherwise a user namespace maps us to root in it.
  const std::string unshare = ::geteuid() == 0 ? "unshare --mount" : "unshare -rm";
  std::string probe;
  if (RunCommand(unshare + " true", &probe) != 0) return false;
  fs::create_directories(dir.file("disk"));
  fs::create_directories(dir.file("out"));
  const std::string script = dir.file("small_disk.sh");
  testing::WriteFile(script, "set -u\nmount -t tmpfs -o size=96k tmpfs " + dir.file("disk") +
                                 " || exit 99\n" + crema_command + "\nstatus=$?\nls -A " +
                                 dir.file("disk") + " > " + dir.file("listing") + "\ncp " +
                                 dir.file("disk") + "/* " + dir.file("out") +
                                 " 2>/dev/null\nexit $status\n");
  *status = RunCommand(unshare + " sh " + script, output);
  return *status != 99;
}

TEST_F(FaultTest, AFullDiskWhileSnapshottingIsReportedAndTrainingGoesOn) {
  // One snapshot of the tiny net (model + state) takes about 47 kB: the one at iteration 10
  // fits, the later ones find the disk full.
  const std::string solver =
      job_.WriteSolver("full.prototxt", "max_iter: 40\nsnapshot: 10\n", "disk/f");
  std::string output;
  int status = 0;
  if (!RunOnASmallDisk(dir_, "OMP_NUM_THREADS=1 " + CremaBinary() + " train -solver " + solver,
                       &output, &status)) {
    GTEST_SKIP() << "no private mount namespace on this machine: " << output;
  }
  // Every failed snapshot is reported with its reason, and training goes on to max_iter.
  EXPECT_CONTAINS(output, "Snapshot at iteration 20 failed, training goes on");
  EXPECT_CONTAINS(output, "Snapshot at iteration 40 failed, training goes on");
  EXPECT_CONTAINS(output, "No space left on device");
  EXPECT_CONTAINS(output, "Iteration 30, lr = ");
  // The last weights are on no disk: the run ends non-zero, saying so.
  EXPECT_EQ(status, 1) << output;
  EXPECT_CONTAINS(output, "training reached iteration 40 but its snapshot could not be written");
  // The snapshot at 10 is intact; nothing partial or temporary is left on the full disk.
  EXPECT_EQ(ReadFileToString(dir_.file("listing")),
            "f_iter_10.caffemodel\nf_iter_10.solverstate\nf_metrics.jsonl\n");
  caffe::SolverState state;
  ReadBinaryProto(dir_.file("out/f_iter_10.solverstate"), &state);
  EXPECT_EQ(state.iter(), 10);
  caffe::NetParameter model;
  ReadBinaryProto(dir_.file("out/f_iter_10.caffemodel"), &model);
  EXPECT_EQ(model.layer_size(), 5);
}

}  // namespace
}  // namespace crema
