// Regression tests for what the fuzz targets of fuzz/ found (scripts/fuzz). Each test names
// the target and the finding; inputs the fuzzer wrote are in tests/testdata/fuzz/, the others
// are built here.
#include <hdf5.h>
#include <sys/resource.h>

#include <climits>
#include <cstdint>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "crema/core/blob.h"
#include "crema/core/error.h"
#include "crema/data/datum.h"
#include "crema/data/hdf5_dataset.h"
#include "crema/data/transformer.h"
#include "crema/net/net.h"
#include "crema/proto/caffe.pb.h"
#include "crema/solver/solver_state_io.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::ExpectError;
using testing::NetFromText;
using testing::SourceDir;
using testing::TempDir;

std::string FuzzInput(const std::string& name) {
  return SourceDir() + "/tests/testdata/fuzz/" + name;
}

// The process's peak resident memory so far, in MiB.
int64_t PeakRssMiB() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;
}

// Writes an HDF5 file holding one dataset `name` of `type` and shape `dims` (a scalar when
// empty) whose values were never written: chunked (or, for a scalar, allocated late), so the
// file stays a few kilobytes whatever the shape declares.
void WriteUnwrittenDataset(const std::string& path, const std::string& name, hid_t type,
                           const std::vector<hsize_t>& dims) {
  const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(file, 0);
  const hid_t space = dims.empty() ? H5Screate(H5S_SCALAR)
                                   : H5Screate_simple(static_cast<int>(dims.size()),
                                                      dims.data(), nullptr);
  const hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  if (!dims.empty()) {
    const std::vector<hsize_t> chunk(dims.size(), 1);
    H5Pset_chunk(dcpl, static_cast<int>(chunk.size()), chunk.data());
  }
  const hid_t dataset =
      H5Dcreate2(file, name.c_str(), type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  EXPECT_GE(dataset, 0);
  H5Dclose(dataset);
  H5Pclose(dcpl);
  H5Sclose(space);
  H5Fclose(file);
}

// fuzz_mean: a BlobProto of a few bytes declaring a shape of a billion values made
// Blob::FromProto allocate (and zero) them before it found the values missing.
TEST(FuzzRegressionTest, BlobFromProtoChecksTheValueCountBeforeTakingMemory) {
  caffe::BlobProto proto;
  for (int d : {1, 4096, 4096}) proto.mutable_shape()->add_dim(d);
  Blob blob;
  ExpectError([&] { blob.FromProto(proto); }, ErrorCode::kCorruption,
              {"holds 0 values instead of 16777216"});
  ASSERT_NE(blob.data_memory(), nullptr);
  EXPECT_EQ(blob.data_memory()->head(), SyncedMemory::Head::kUninitialized)
      << "FromProto took memory for values the proto does not hold";
}

TEST(FuzzRegressionTest, MeanFileDeclaringBillionsOfValuesIsRefusedWithoutTakingThem) {
  caffe::TransformationParameter param;
  param.set_mean_file(FuzzInput("mean_declares_4gb.binaryproto"));
  const int64_t before = PeakRssMiB();
  ExpectError([&] { DataTransformer transformer(param, caffe::TRAIN); }, ErrorCode::kCorruption,
              {"mean_declares_4gb.binaryproto", "holds 0 values instead of 1073741824"});
  EXPECT_LT(PeakRssMiB() - before, 256) << "the 24-byte mean file took memory for its shape";
}

// fuzz_solverstate: an HDF5 dataset may declare any shape in a few bytes; ReadFloat made a
// vector of whatever it declared (and a solver state's BlobProto cannot hold over INT_MAX).
TEST(FuzzRegressionTest, Hdf5DatasetOfMoreValuesThanABlobCanHoldIsCorruption) {
  TempDir dir;
  const std::string path = dir.file("huge.h5");
  WriteUnwrittenDataset(path, "data", H5T_IEEE_F32LE, {hsize_t{1} << 40});
  const Hdf5File file = Hdf5File::Open(path);
  EXPECT_EQ(file.Shape("data"), std::vector<int64_t>{int64_t{1} << 40});
  ExpectError([&] { file.ReadFloat("data"); }, ErrorCode::kCorruption,
              {"'data'", "huge.h5", "more than 2147483647 values"});
}

// fuzz_solverstate: a fixed-length string's width comes from the file; ReadString allocated
// it (2.9 GB for learned_net in the fuzzer's file) before reading.
TEST(FuzzRegressionTest, Hdf5FixedLengthStringWiderThanAMebibyteIsCorruption) {
  TempDir dir;
  const std::string path = dir.file("wide.h5");
  const hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, size_t{64} << 20);
  WriteUnwrittenDataset(path, "name", type, {});
  WriteUnwrittenDataset(dir.file("wide_list.h5"), "names", type, {3});
  H5Tclose(type);
  ExpectError([&] { Hdf5File::Open(path).ReadString("name"); }, ErrorCode::kCorruption,
              {"'name'", "67108864 bytes"});
  ExpectError([&] { Hdf5File::Open(dir.file("wide_list.h5")).ReadStrings("names"); },
              ErrorCode::kCorruption, {"'names'", "67108864 bytes"});
}

TEST(FuzzRegressionTest, SolverStateWhoseLearnedNetDeclaresGigabytesIsCorruption) {
  const std::string path = FuzzInput("solverstate_string_declares_2_9gb.solverstate.h5");
  ExpectError([&] { ReadSolverState(path); }, ErrorCode::kCorruption, {"'learned_net'", "bytes"});
}

// fuzz_prototxt: a batch of 0 items is a valid shape, but empty blobs had no memory, and
// layers handed their null pointers to memcpy and memset (Threshold's Backward, Tile's
// Forward, ...), which is undefined even for 0 bytes (UBSan in scripts/test --sanitize).
TEST(FuzzRegressionTest, AnEmptyBlobHasPointersThatAreNotNull) {
  Blob blob({0, 3});
  EXPECT_NE(blob.cpu_data(), nullptr);
  EXPECT_NE(blob.mutable_cpu_diff(), nullptr);
}

TEST(FuzzRegressionTest, AnEmptyBatchRunsForwardAndBackward) {
  Net net(NetFromText(R"pb(
    force_backward: true
    layer { name: "x" type: "Input" top: "x" input_param { shape { dim: 0 dim: 4 dim: 3 } } }
    layer { name: "threshold" type: "Threshold" bottom: "x" top: "t" }
    layer { name: "tile" type: "Tile" bottom: "t" top: "tiled" tile_param { axis: 1 tiles: 2 } }
    layer { name: "abs" type: "AbsVal" bottom: "tiled" top: "y" }
  )pb"));
  net.Forward();
  net.Backward();
  EXPECT_EQ(net.blob_by_name("y")->count(), 0);
}

// fuzz_solverstate: a history entry with no values handed the null data() of an empty
// vector to memcpy, undefined even for 0 bytes (UBSan in scripts/test --sanitize).
TEST(FuzzRegressionTest, SolverStateWithAnEmptyHistoryBlobReadsIt) {
  const caffe::SolverState state =
      ReadSolverState(FuzzInput("solverstate_empty_history_blob.solverstate.h5"));
  int empty = 0;
  for (const caffe::BlobProto& blob : state.history()) empty += blob.data_size() == 0;
  EXPECT_GT(empty, 0);
}

// fuzz_caffemodel: a dataset of a few values whose integer type declares itself megabytes
// wide made HDF5 size its conversion buffer by it (1.9 GB for a 16 KB model).
TEST(FuzzRegressionTest, Hdf5NumbersWiderThanSixteenBytesAreCorruption) {
  TempDir dir;
  const std::string path = dir.file("wide_numbers.h5");
  const hid_t type = H5Tcopy(H5T_STD_I32LE);
  ASSERT_GE(H5Tset_size(type, 1 << 20), 0);
  WriteUnwrittenDataset(path, "data", type, {4});
  H5Tclose(type);
  const Hdf5File file = Hdf5File::Open(path);
  ExpectError([&] { file.ReadFloat("data"); }, ErrorCode::kCorruption,
              {"'data'", "wide_numbers.h5", "1048576 bytes wide"});
  float rows[4];
  ExpectError([&] { file.ReadFloatRows("data", 0, 4, rows); }, ErrorCode::kCorruption,
              {"'data'", "1048576 bytes wide"});
}

// fuzz_datum: three dimensions below 2^31 multiplied past 2^63 (signed overflow, UBSan).
TEST(FuzzRegressionTest, DatumShapeOfMoreThanTwoToTheSixtyThreeValuesIsCorruption) {
  caffe::Datum datum;
  datum.set_channels(INT_MAX);
  datum.set_height(INT_MAX);
  datum.set_width(INT_MAX);
  ExpectError([&] { ValidateDatum(datum, "k"); }, ErrorCode::kCorruption,
              {"record 'k'", "over 2^63 values"});
}

// fuzz_caffemodel: a 16 KB model whose group's local heap has a free list looping back on
// itself; HDF5 1.10 follows it allocating without end (24 GB before the kernel killed crema).
TEST(FuzzRegressionTest, ALocalHeapWhoseFreeListLoopsIsCorruptionNotAllMemory) {
  const std::string path = FuzzInput("libhdf5_local_heap_free_list_loops.caffemodel.h5");
  ExpectError([&] { Hdf5File::Open(path); }, ErrorCode::kCorruption,
              {"libhdf5_local_heap_free_list_loops.caffemodel.h5", "loops back"});
}

// The HDF5 1.10 of Debian 12 crashes (SIGSEGV) on these files the fuzzers wrote: a corrupt
// header declares hundreds of gigabytes, the allocation fails and HDF5 copies from the null
// it got. No check short of parsing HDF5 tells them apart; the command-line tool turns the
// crash into its one-line error (ReportHdf5CrashesAsErrors).
void ExpectCremaCallsTheFileCorrupt(const std::string& command, const std::string& file) {
  const testing::CommandResult r = testing::Crema(command);
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("HDF5 file '" + FuzzInput(file) +
                          "' is corrupt: the HDF5 library crashed reading it"),
            std::string::npos)
      << r.output;
}

// HDF5Data's source lists `file`; `crema time` runs it once.
std::string TimeHdf5DataOn(const TempDir& dir, const std::string& file) {
  testing::WriteFile(dir.file("list.txt"), FuzzInput(file) + "\n");
  testing::WriteFile(dir.file("net.prototxt"),
                     "layer { name: 'h5' type: 'HDF5Data' top: 'data' top: 'label'\n"
                     "        hdf5_data_param { source: '" + dir.file("list.txt") +
                         "' batch_size: 2 } }\n");
  return "time -iterations 1 -model " + dir.file("net.prototxt");
}

// fuzz_hdf5: under H5Lexists → H5G__stab_lookup → H5HL_protect (a corrupt local heap).
TEST(FuzzRegressionTest, HDF5CrashingOnALocalHeapIsTheFileNamedCorrupt) {
  TempDir dir;
  ExpectCremaCallsTheFileCorrupt(TimeHdf5DataOn(dir, "libhdf5_segv_in_accum_read.h5"),
                                 "libhdf5_segv_in_accum_read.h5");
}

// fuzz_hdf5: under H5Dread → H5D__scatgath_read, reading a batch's rows.
TEST(FuzzRegressionTest, HDF5CrashingReadingRowsIsTheFileNamedCorrupt) {
  TempDir dir;
  ExpectCremaCallsTheFileCorrupt(TimeHdf5DataOn(dir, "libhdf5_segv_in_dataset_read.h5"),
                                 "libhdf5_segv_in_dataset_read.h5");
}

}  // namespace
}  // namespace crema
