#include "crema/solver/solver_state_io.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "crema/core/error.h"
#include "crema/data/hdf5_dataset.h"
#include "crema/io/proto_io.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::ExpectError;
using testing::TempDir;

caffe::SolverState SampleState() {
  caffe::SolverState state;
  state.set_iter(1234);
  state.set_learned_net("out/model_iter_1234.caffemodel.h5");
  state.set_current_step(3);
  const std::vector<std::vector<int>> shapes = {{5, 3}, {5}, {2, 1, 3, 3}, {5, 3}};
  float v = 0.5f;
  for (const auto& shape : shapes) {
    caffe::BlobProto* blob = state.add_history();
    int count = 1;
    for (int d : shape) {
      blob->mutable_shape()->add_dim(d);
      count *= d;
    }
    for (int i = 0; i < count; ++i, v *= -1.0625f) blob->add_data(v);
  }
  return state;
}

TEST(SolverStateIoTest, Hdf5RoundTripInCaffesLayout) {
  TempDir dir;
  const std::string path = dir.file("s_iter_1234.solverstate.h5");
  const caffe::SolverState state = SampleState();
  WriteSolverState(path, state, caffe::SolverParameter::HDF5);
  {
    const Hdf5File file = Hdf5File::Open(path);
    EXPECT_EQ(file.List("/"),
              (std::vector<std::string>{"current_step", "history", "iter", "learned_net"}));
    EXPECT_EQ(file.Shape("iter"), (std::vector<int64_t>{1}));
    EXPECT_EQ(file.ReadInt("iter"), 1234);
    EXPECT_EQ(file.ReadInt("current_step"), 3);
    EXPECT_EQ(file.ReadString("learned_net"), "out/model_iter_1234.caffemodel.h5");
    EXPECT_EQ(file.List("history"), (std::vector<std::string>{"0", "1", "2", "3"}));
    EXPECT_EQ(file.Shape("history/2"), (std::vector<int64_t>{2, 1, 3, 3}));
  }
  const caffe::SolverState read = ReadSolverState(path);
  EXPECT_TRUE(testing::SameMessage(state, read));
}

TEST(SolverStateIoTest, BinaryRoundTrip) {
  TempDir dir;
  const caffe::SolverState state = SampleState();
  WriteSolverState(dir.file("s.solverstate"), state, caffe::SolverParameter::BINARYPROTO);
  caffe::SolverState raw;
  ReadBinaryProto(dir.file("s.solverstate"), &raw);
  EXPECT_TRUE(testing::SameMessage(state, raw));
  EXPECT_TRUE(testing::SameMessage(state, ReadSolverState(dir.file("s.solverstate"))));
}

TEST(SolverStateIoTest, ManyHistoryBlobsKeepTheirNumericOrder) {
  // HDF5 lists "10" before "2"; the history must come back as 0, 1, 2, …, 11.
  TempDir dir;
  caffe::SolverState state;
  for (int k = 0; k < 12; ++k) {
    caffe::BlobProto* blob = state.add_history();
    blob->mutable_shape()->add_dim(1);
    blob->add_data(static_cast<float>(k));
  }
  WriteSolverState(dir.file("s.h5"), state, caffe::SolverParameter::HDF5);
  const caffe::SolverState read = ReadSolverState(dir.file("s.h5"));
  ASSERT_EQ(read.history_size(), 12);
  for (int k = 0; k < 12; ++k) EXPECT_EQ(read.history(k).data(0), static_cast<float>(k));
}

TEST(SolverStateIoTest, BrokenHdf5StatesNameTheFile) {
  TempDir dir;
  WriteSolverState(dir.file("good.solverstate.h5"), SampleState(), caffe::SolverParameter::HDF5);
  const std::string bytes = ReadFileToString(dir.file("good.solverstate.h5"));
  testing::WriteFile(dir.file("cut.solverstate.h5"), bytes.substr(0, bytes.size() * 2 / 3));
  testing::WriteFile(dir.file("text.solverstate.h5"), "iter: 3\n");
  for (const char* name : {"cut.solverstate.h5", "text.solverstate.h5"}) {
    try {
      ReadSolverState(dir.file(name));
      ADD_FAILURE() << name << " was read";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kCorruption) << e.what();
      EXPECT_NE(std::string(e.what()).find(dir.file(name)), std::string::npos) << e.what();
    }
  }
  {
    Hdf5File file = Hdf5File::Create(dir.file("gap.h5"));
    file.WriteInt("iter", 1);
    file.WriteInt("current_step", 0);
    const float one = 1;
    file.WriteFloat("history/0", {1}, &one);
    file.WriteFloat("history/2", {1}, &one);
  }
  ExpectError([&] { ReadSolverState(dir.file("gap.h5")); }, ErrorCode::kCorruption,
              {dir.file("gap.h5"), "none named '1'"});
  {
    Hdf5File file = Hdf5File::Create(dir.file("nohistory.h5"));
    file.WriteInt("iter", 1);
    file.WriteInt("current_step", 0);
  }
  ExpectError([&] { ReadSolverState(dir.file("nohistory.h5")); }, ErrorCode::kCorruption,
              {dir.file("nohistory.h5"), "no group 'history'"});
  {
    Hdf5File file = Hdf5File::Create(dir.file("noiter.h5"));
    file.CreateGroup("history");
  }
  ExpectError([&] { ReadSolverState(dir.file("noiter.h5")); }, ErrorCode::kCorruption,
              {dir.file("noiter.h5"), "'iter'"});
}

}  // namespace
}  // namespace crema
