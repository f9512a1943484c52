// snapshot_format: HDF5 through the Solver: file names, equality with binary snapshots, and
// resuming from .solverstate.h5.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "crema/core/error.h"
#include "crema/data/hdf5_dataset.h"
#include "crema/io/proto_io.h"
#include "crema/solver/solver.h"
#include "crema/solver/solver_state_io.h"
#include "solver_helpers.h"
#include "test_helpers.h"

namespace crema {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using testing::TinySolverParam;

TEST(Hdf5SnapshotTest, WritesCaffemodelH5AndSolverstateH5) {
  TempDir dir;
  auto solver = CreateSolver(
      TinySolverParam("SGD", "momentum: 0.9 snapshot_format: HDF5", dir.file("run")));
  testing::FillTinyInputs(solver->net());
  solver->Step(2);
  EXPECT_EQ(solver->Snapshot(), dir.file("run_iter_2.caffemodel.h5"));
  EXPECT_TRUE(fs::exists(dir.file("run_iter_2.caffemodel.h5")));
  EXPECT_TRUE(fs::exists(dir.file("run_iter_2.solverstate.h5")));
  EXPECT_FALSE(fs::exists(dir.file("run_iter_2.caffemodel")));
  EXPECT_FALSE(fs::exists(dir.file("run_iter_2.solverstate")));
  const Hdf5File state = Hdf5File::Open(dir.file("run_iter_2.solverstate.h5"));
  EXPECT_EQ(state.ReadInt("iter"), 2);
  EXPECT_EQ(state.ReadString("learned_net"), dir.file("run_iter_2.caffemodel.h5"));
  EXPECT_EQ(state.List("history"), (std::vector<std::string>{"0", "1"}));
}

TEST(Hdf5SnapshotTest, BinaryAndHdf5SnapshotsOfTheSameRunAgree) {
  TempDir dir;
  const std::string common = "base_lr: 0.01 momentum: 0.9";
  auto binary = CreateSolver(TinySolverParam("Adam", common, dir.file("bin")));
  auto hdf5 = CreateSolver(
      TinySolverParam("Adam", common + " snapshot_format: HDF5 snapshot_diff: true",
                      dir.file("h5")));
  for (Solver* s : {binary.get(), hdf5.get()}) {
    testing::FillTinyInputs(s->net());
    s->Step(3);
    s->Snapshot();
  }
  // The weights, loaded back into fresh nets, are the same bits.
  auto from_binary = CreateSolver(TinySolverParam("Adam", common, dir.file("x")));
  auto from_hdf5 = CreateSolver(TinySolverParam("Adam", common, dir.file("y")));
  from_binary->net()->CopyTrainedLayersFromFile(dir.file("bin_iter_3.caffemodel"));
  from_hdf5->net()->CopyTrainedLayersFromFile(dir.file("h5_iter_3.caffemodel.h5"));
  testing::ExpectBitEqual(testing::ParamValues(from_binary->net()),
                          testing::ParamValues(from_hdf5->net()), "weight");
  testing::ExpectBitEqual(testing::ParamValues(binary->net()),
                          testing::ParamValues(from_hdf5->net()), "weight");
  // So are the states, apart from the model's name.
  caffe::SolverState a = ReadSolverState(dir.file("bin_iter_3.solverstate"));
  caffe::SolverState b = ReadSolverState(dir.file("h5_iter_3.solverstate.h5"));
  EXPECT_EQ(b.learned_net(), dir.file("h5_iter_3.caffemodel.h5"));
  a.clear_learned_net();
  b.clear_learned_net();
  EXPECT_TRUE(testing::SameMessage(a, b));
  EXPECT_EQ(b.history_size(), 4);  // Adam: m of both parameters, then v of both
  // snapshot_diff adds the gradients.
  EXPECT_TRUE(Hdf5File::Open(dir.file("h5_iter_3.caffemodel.h5")).Exists("diff/ip/0"));
}

TEST(Hdf5SnapshotTest, ResumeFromSolverstateH5IsBitExact) {
  for (const char* type : {"SGD", "AdaDelta", "Adam"}) {
    SCOPED_TRACE(type);
    TempDir dir;
    testing::ExpectResumeEqualsUninterrupted(
        TinySolverParam(type, "base_lr: 0.01 momentum: 0.9 snapshot_format: HDF5", ""),
        dir.path(), 3, 6);
  }
}

TEST(Hdf5SnapshotTest, RestoreFindsTheModelBesideAMovedState) {
  TempDir dir, moved;
  const auto param =
      TinySolverParam("RMSProp", "base_lr: 0.01 snapshot_format: HDF5", dir.file("m"));
  auto solver = CreateSolver(param);
  testing::FillTinyInputs(solver->net());
  solver->Step(1);
  solver->Snapshot();
  for (const char* f : {"m_iter_1.caffemodel.h5", "m_iter_1.solverstate.h5"}) {
    fs::rename(dir.file(f), moved.file(f));
  }
  auto resumed = CreateSolver(param);
  resumed->Restore(moved.file("m_iter_1.solverstate.h5"));
  EXPECT_EQ(resumed->iter(), 1);
  testing::ExpectBitEqual(testing::ParamValues(solver->net()),
                          testing::ParamValues(resumed->net()), "weight");
}

TEST(Hdf5SnapshotTest, RestoreRefusesAStateOfAnotherSolverType) {
  TempDir dir;
  auto sgd = CreateSolver(TinySolverParam("SGD", "snapshot_format: HDF5", dir.file("s")));
  testing::FillTinyInputs(sgd->net());
  sgd->Step(1);
  sgd->Snapshot();
  auto adam = CreateSolver(TinySolverParam("Adam", "", dir.file("a")));
  testing::ExpectError([&] { adam->Restore(dir.file("s_iter_1.solverstate.h5")); },
                       ErrorCode::kInvalidArgument,
                       {dir.file("s_iter_1.solverstate.h5"), "holds 2 history blobs",
                        "Adam solver for this net keeps 4"});
}

TEST(Hdf5SnapshotTest, TruncatedStateGivesOneErrorNamingTheFile) {
  TempDir dir;
  auto solver = CreateSolver(TinySolverParam("SGD", "snapshot_format: HDF5", dir.file("t")));
  testing::FillTinyInputs(solver->net());
  solver->Step(1);
  solver->Snapshot();
  const std::string state = dir.file("t_iter_1.solverstate.h5");
  const std::string bytes = ReadFileToString(state);
  testing::WriteFile(state, bytes.substr(0, bytes.size() / 2));
  auto fresh = CreateSolver(TinySolverParam("SGD", "", dir.file("u")));
  testing::ExpectError([&] { fresh->Restore(state); }, ErrorCode::kCorruption, {state});
}

}  // namespace
}  // namespace crema
