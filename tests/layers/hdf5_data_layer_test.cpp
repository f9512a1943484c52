#include "crema/layers/hdf5_data_layer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "crema/core/error.h"
#include "crema/core/rank.h"
#include "crema/core/rng.h"
#include "crema/data/hdf5_dataset.h"
#include "crema/data/shard.h"
#include "crema/layers/registry.h"
#include "crema/net/net.h"
#include "test_helpers.h"

namespace crema {
namespace {

using testing::ExpectError;
using testing::LayerFromText;
using testing::TempDir;

constexpr int kRowSize = 6;  // "data" rows are 2×3

// The value of element i of global row g of "data": exact in float, distinct per (g, i).
float Value(int64_t g, int i) { return static_cast<float>(g * 8 + i) + 0.25f; }

enum class LabelLayout { kVector, kColumn };

// Writes an .h5 file holding global rows [first, first + rows): "data" (rows, 2, 3) with
// Value(g, ·), and "label" (rows) or (rows, 1) with g. With as_double, both are doubles.
void WriteRows(const std::string& path, int64_t first, int64_t rows,
               LabelLayout layout = LabelLayout::kVector, bool as_double = false) {
  std::vector<float> data;
  std::vector<float> label;
  for (int64_t r = 0; r < rows; ++r) {
    for (int i = 0; i < kRowSize; ++i) data.push_back(Value(first + r, i));
    label.push_back(static_cast<float>(first + r));
  }
  Hdf5File file = Hdf5File::Create(path);
  const std::vector<int64_t> label_shape =
      layout == LabelLayout::kVector ? std::vector<int64_t>{rows} : std::vector<int64_t>{rows, 1};
  if (as_double) {
    const std::vector<double> d(data.begin(), data.end());
    const std::vector<double> l(label.begin(), label.end());
    file.WriteDouble("data", {rows, 2, 3}, d.data());
    file.WriteDouble("label", label_shape, l.data());
  } else {
    file.WriteFloat("data", {rows, 2, 3}, data.data());
    file.WriteFloat("label", label_shape, label.data());
  }
}

// Writes files part0.h5, part1.h5, ... of the given sizes, numbering rows globally, and a
// list file naming them by absolute path; returns the list file's path.
std::string WriteDataset(const TempDir& dir, const std::vector<int64_t>& sizes,
                         LabelLayout layout = LabelLayout::kVector, bool as_double = false) {
  std::string list;
  int64_t first = 0;
  for (size_t f = 0; f < sizes.size(); ++f) {
    const std::string path = dir.file("part" + std::to_string(f) + ".h5");
    WriteRows(path, first, sizes[f], layout, as_double);
    first += sizes[f];
    list += path + "\n";
  }
  testing::WriteFile(dir.file("list.txt"), list);
  return dir.file("list.txt");
}

caffe::LayerParameter Param(const std::string& source, int batch_size, bool shuffle = false,
                            const std::string& phase = "TRAIN",
                            const std::vector<std::string>& tops = {"data", "label"},
                            const std::string& extra = "") {
  std::string text = "name: 'h5' type: 'HDF5Data' phase: " + phase;
  for (const std::string& t : tops) text += " top: '" + t + "'";
  text += " hdf5_data_param { source: '" + source + "' batch_size: " +
          std::to_string(batch_size) + (shuffle ? " shuffle: true" : "") + " } " + extra;
  return LayerFromText(text);
}

struct Tops {
  explicit Tops(size_t n) {
    for (size_t i = 0; i < n; ++i) blobs.push_back(std::make_unique<Blob>());
  }
  BlobVec vec() const {
    BlobVec v;
    for (const auto& b : blobs) v.push_back(b.get());
    return v;
  }
  std::vector<std::unique_ptr<Blob>> blobs;
};

// A layer created through the registry and set up, with its tops.
struct Reader {
  explicit Reader(const caffe::LayerParameter& param)
      : layer(LayerRegistry::Global().Create(param)), tops(param.top_size()) {
    layer->SetUp({}, tops.vec());
  }
  HDF5DataLayer* hdf5() { return dynamic_cast<HDF5DataLayer*>(layer.get()); }

  // The global row numbers of the next batch; checks that "data" holds the same rows.
  std::vector<int64_t> Next() {
    layer->Forward({}, tops.vec());
    const Blob& data = *tops.blobs[0];
    const Blob& label = *tops.blobs[1];
    std::vector<int64_t> rows;
    for (int n = 0; n < label.shape(0); ++n) {
      const int64_t g = static_cast<int64_t>(label.cpu_data()[n]);
      rows.push_back(g);
      for (int i = 0; i < kRowSize; ++i) {
        EXPECT_EQ(data.cpu_data()[n * kRowSize + i], Value(g, i)) << "row " << g << " item " << i;
      }
    }
    return rows;
  }
  // The next `count` rows, read batch by batch.
  std::vector<int64_t> NextRows(int64_t count) {
    std::vector<int64_t> rows;
    while (static_cast<int64_t>(rows.size()) < count) {
      const std::vector<int64_t> batch = Next();
      rows.insert(rows.end(), batch.begin(), batch.end());
    }
    rows.resize(static_cast<size_t>(count));
    return rows;
  }

  std::unique_ptr<Layer> layer;
  Tops tops;
};

// Sets this process's rank for the lifetime of the object; restores rank 0 of 1 after.
class ScopedRank {
 public:
  ScopedRank(int rank, int world_size) { SetRankInfo({rank, world_size}); }
  ~ScopedRank() { SetRankInfo({0, 1}); }
  ScopedRank(const ScopedRank&) = delete;
  ScopedRank& operator=(const ScopedRank&) = delete;
};

std::vector<int64_t> Iota(int64_t begin, int64_t end) {
  std::vector<int64_t> v(static_cast<size_t>(end - begin));
  std::iota(v.begin(), v.end(), begin);
  return v;
}

TEST(HDF5DataLayerTest, IsRegistered) {
  EXPECT_TRUE(LayerRegistry::Global().Has("HDF5Data"));
}

TEST(HDF5DataLayerTest, ReadsFilesInOrderSpanningFilesAndWrappingAround) {
  TempDir dir;
  const std::string list = WriteDataset(dir, {5, 3, 4});
  Reader reader(Param(list, 5));
  EXPECT_EQ(reader.tops.blobs[0]->shape(), (std::vector<int>{5, 2, 3}));
  EXPECT_EQ(reader.tops.blobs[1]->shape(), (std::vector<int>{5}));
  EXPECT_EQ(reader.hdf5()->total_rows(), 12);
  EXPECT_EQ(reader.hdf5()->rows_per_epoch(), 12);
  EXPECT_EQ(reader.Next(), Iota(0, 5));                                // file 0
  EXPECT_EQ(reader.Next(), Iota(5, 10));                               // files 1 and 2
  EXPECT_EQ(reader.Next(), (std::vector<int64_t>{10, 11, 0, 1, 2}));  // wraps around
  for (int b = 3; b < 12; ++b) {
    std::vector<int64_t> expected;
    for (int n = 0; n < 5; ++n) expected.push_back((b * 5 + n) % 12);
    EXPECT_EQ(reader.Next(), expected) << "batch " << b;
  }
}

TEST(HDF5DataLayerTest, BatchLargerThanTheDataset) {
  TempDir dir;
  const std::string list = WriteDataset(dir, {2, 1});
  Reader reader(Param(list, 7));
  EXPECT_EQ(reader.Next(), (std::vector<int64_t>{0, 1, 2, 0, 1, 2, 0}));
  EXPECT_EQ(reader.Next(), (std::vector<int64_t>{1, 2, 0, 1, 2, 0, 1}));
}

TEST(HDF5DataLayerTest, DoubleDatasetsAreReadExactly) {
  TempDir dir;
  const std::string list = WriteDataset(dir, {4, 3}, LabelLayout::kVector, /*as_double=*/true);
  Reader reader(Param(list, 7));
  EXPECT_EQ(reader.Next(), Iota(0, 7));  // Next() compares every value exactly
}

TEST(HDF5DataLayerTest, ColumnLabelsGiveABatchByOneTop) {
  TempDir dir;
  const std::string list = WriteDataset(dir, {3, 3}, LabelLayout::kColumn);
  Reader reader(Param(list, 4));
  EXPECT_EQ(reader.tops.blobs[1]->shape(), (std::vector<int>{4, 1}));
  EXPECT_EQ(reader.Next(), Iota(0, 4));
  EXPECT_EQ(reader.Next(), (std::vector<int64_t>{4, 5, 0, 1}));
}

TEST(HDF5DataLayerTest, EachTopReadsTheDatasetOfItsName) {
  TempDir dir;
  // Three datasets, written in another order than the tops name them.
  const int64_t rows = 4;
  std::vector<float> weight, label, data;
  for (int r = 0; r < rows; ++r) {
    weight.push_back(100.f + r);
    weight.push_back(200.f + r);
    label.push_back(static_cast<float>(r));
    for (int i = 0; i < kRowSize; ++i) data.push_back(Value(r, i));
  }
  {
    Hdf5File file = Hdf5File::Create(dir.file("a.h5"));
    file.WriteFloat("weight", {rows, 2}, weight.data());
    file.WriteFloat("label", {rows}, label.data());
    file.WriteFloat("data", {rows, 2, 3}, data.data());
    file.WriteFloat("unused", {1}, data.data());
  }
  testing::WriteFile(dir.file("list.txt"), dir.file("a.h5") + "\n");

  Reader reader(Param(dir.file("list.txt"), 3, false, "TRAIN", {"data", "label", "weight"}));
  EXPECT_EQ(reader.tops.blobs[2]->shape(), (std::vector<int>{3, 2}));
  EXPECT_EQ(reader.Next(), Iota(0, 3));
  EXPECT_EQ(reader.Next(), (std::vector<int64_t>{3, 0, 1}));
  const float* w = reader.tops.blobs[2]->cpu_data();
  EXPECT_EQ(std::vector<float>(w, w + 6), (std::vector<float>{103, 203, 100, 200, 101, 201}));

  // A single top, in either order.
  Reader weights_only(Param(dir.file("list.txt"), 2, false, "TRAIN", {"weight"}));
  weights_only.layer->Forward({}, weights_only.tops.vec());
  const float* only = weights_only.tops.blobs[0]->cpu_data();
  EXPECT_EQ(std::vector<float>(only, only + 4), (std::vector<float>{100, 200, 101, 201}));
}

TEST(HDF5DataLayerTest, ListFileSyntaxAndRelativePaths) {
  TempDir dir;
  std::filesystem::create_directories(dir.file("sub"));
  WriteRows(dir.file("sub/beside.h5"), 0, 2);
  WriteRows(dir.file("cwd.h5"), 2, 3);
  WriteRows(dir.file("abs.h5"), 5, 1);
  // Relative to the working directory, as Caffe reads it.
  const std::string from_cwd =
      std::filesystem::relative(dir.file("cwd.h5"), std::filesystem::current_path()).string();
  ASSERT_TRUE(std::filesystem::path(from_cwd).is_relative());
  testing::WriteFile(dir.file("sub/list.txt"), "\n  beside.h5  \n\n" + from_cwd + "\r\n\t\n" +
                                                   dir.file("abs.h5"));  // no final newline
  Reader reader(Param(dir.file("sub/list.txt"), 6));
  EXPECT_EQ(reader.Next(), Iota(0, 6));
}

// Rows of an epoch, grouped: each listed file's rows must come as one run.
void ExpectFilesContiguous(const std::vector<int64_t>& epoch,
                           const std::vector<int64_t>& file_of_row) {
  std::set<int64_t> done;
  for (size_t i = 0; i < epoch.size(); ++i) {
    const int64_t f = file_of_row[static_cast<size_t>(epoch[i])];
    if (i > 0 && file_of_row[static_cast<size_t>(epoch[i - 1])] != f) {
      EXPECT_TRUE(done.insert(file_of_row[static_cast<size_t>(epoch[i - 1])]).second);
      EXPECT_EQ(done.count(f), 0u) << "file " << f << " read in two runs";
    }
  }
}

TEST(HDF5DataLayerTest, ShuffleReadsEveryRowOncePerEpochInANewOrder) {
  TempDir dir;
  const std::vector<int64_t> sizes = {5, 3, 4, 6};
  const std::string list = WriteDataset(dir, sizes);
  std::vector<int64_t> file_of_row;
  for (size_t f = 0; f < sizes.size(); ++f) {
    file_of_row.insert(file_of_row.end(), static_cast<size_t>(sizes[f]), static_cast<int64_t>(f));
  }
  const int64_t total = 18;
  const int epochs = 4;

  SetRandomSeed(7);
  Reader reader(Param(list, 4, /*shuffle=*/true));
  const std::vector<int64_t> rows = reader.NextRows(total * epochs);
  std::set<std::vector<int64_t>> orders;
  for (int e = 0; e < epochs; ++e) {
    std::vector<int64_t> epoch(rows.begin() + e * total, rows.begin() + (e + 1) * total);
    ExpectFilesContiguous(epoch, file_of_row);
    orders.insert(epoch);
    std::sort(epoch.begin(), epoch.end());
    EXPECT_EQ(epoch, Iota(0, total)) << "epoch " << e;
  }
  EXPECT_EQ(orders.size(), static_cast<size_t>(epochs)) << "an epoch repeated another's order";
  EXPECT_EQ(orders.count(Iota(0, total)), 0u) << "an epoch was not shuffled";

  // Reproducible with the same seed; another seed gives another order.
  SetRandomSeed(7);
  Reader same(Param(list, 4, true));
  EXPECT_EQ(same.NextRows(total * epochs), rows);
  SetRandomSeed(8);
  Reader other(Param(list, 4, true));
  EXPECT_NE(other.NextRows(total * epochs), rows);
}

TEST(HDF5DataLayerTest, ShuffleOfASingleFileReshufflesEveryEpoch) {
  TempDir dir;
  const std::string list = WriteDataset(dir, {10});
  SetRandomSeed(3);
  Reader reader(Param(list, 3, true));
  const std::vector<int64_t> rows = reader.NextRows(30);
  std::set<std::vector<int64_t>> orders;
  for (int e = 0; e < 3; ++e) {
    std::vector<int64_t> epoch(rows.begin() + e * 10, rows.begin() + (e + 1) * 10);
    orders.insert(epoch);
    std::sort(epoch.begin(), epoch.end());
    EXPECT_EQ(epoch, Iota(0, 10));
  }
  EXPECT_EQ(orders.size(), 3u);
}

TEST(HDF5DataLayerTest, ShardsAreDisjointAndEqualInTrainAndCoverEverythingInTest) {
  TempDir dir;
  const std::vector<int64_t> sizes = {5, 3, 4, 1, 6};
  const std::string list = WriteDataset(dir, sizes);
  const int64_t total = 19;
  for (const bool shuffle : {false, true}) {
    for (const std::string phase : {"TRAIN", "TEST"}) {
      for (int world = 1; world <= 5; ++world) {
        SCOPED_TRACE(phase + " W=" + std::to_string(world) + (shuffle ? " shuffled" : ""));
        std::vector<int> reads(static_cast<size_t>(total), 0);
        std::set<int64_t> shares;
        for (int rank = 0; rank < world; ++rank) {
          ScopedRank scoped(rank, world);
          SetRandomSeed(11);
          Reader reader(Param(list, 2, shuffle, phase));
          const IndexRange range = ShardRange(
              total, rank, world, phase == "TRAIN" ? caffe::TRAIN : caffe::TEST, /*batch_size=*/2);
          const int64_t share = reader.hdf5()->rows_per_epoch();
          EXPECT_EQ(share, range.size());
          shares.insert(share);
          // Two epochs: each reads exactly the rank's range, once.
          const std::vector<int64_t> rows = reader.NextRows(2 * share);
          for (int e = 0; e < 2; ++e) {
            std::vector<int64_t> epoch(rows.begin() + e * share, rows.begin() + (e + 1) * share);
            if (!shuffle) {
              EXPECT_EQ(epoch, Iota(range.begin, range.end));
            }
            std::sort(epoch.begin(), epoch.end());
            EXPECT_EQ(epoch, Iota(range.begin, range.end)) << "rank " << rank;
          }
          for (int64_t i = 0; i < share; ++i) ++reads[static_cast<size_t>(rows[i])];
        }
        // Disjoint: no row read by two ranks.
        for (int64_t g = 0; g < total; ++g) EXPECT_LE(reads[g], 1) << "row " << g;
        const int64_t covered = std::count(reads.begin(), reads.end(), 1);
        if (phase == "TRAIN") {
          EXPECT_EQ(shares.size(), 1u) << "TRAIN shares differ in size";
          EXPECT_EQ(*shares.begin(), total / world);
          EXPECT_EQ(covered, total / world * world);
        } else {
          EXPECT_EQ(covered, total);
          // Whole batches of 2 are shared out: shares differ by at most one batch.
          EXPECT_LE(*shares.rbegin() - *shares.begin(), 2);
        }
      }
    }
  }
  EXPECT_EQ(GetRankInfo().world_size, 1);
}

TEST(HDF5DataLayerTest, ShardFalseReadsEverythingOnEveryRank) {
  TempDir dir;
  const std::string list = WriteDataset(dir, {5, 3});
  ScopedRank scoped(2, 3);
  Reader reader(Param(list, 4, false, "TRAIN", {"data", "label"},
                      "crema_data_param { shard: false }"));
  EXPECT_EQ(reader.hdf5()->rows_per_epoch(), 8);
  EXPECT_EQ(reader.NextRows(8), Iota(0, 8));
}

TEST(HDF5DataLayerTest, ARankLoadsOnlyTheFilesItsShareOverlaps) {
  for (const bool shuffle : {false, true}) {
    for (int rank = 0; rank < 3; ++rank) {
      SCOPED_TRACE("rank " + std::to_string(rank) + (shuffle ? " shuffled" : ""));
      TempDir dir;
      // Six files of 4 rows; three ranks get 8 rows each: rank r reads files 2r and 2r+1.
      const std::string list = WriteDataset(dir, {4, 4, 4, 4, 4, 4});
      ScopedRank scoped(rank, 3);
      Reader reader(Param(list, 3, shuffle));
      for (int f = 0; f < 6; ++f) {
        if (f / 2 != rank) std::filesystem::remove(dir.file("part" + std::to_string(f) + ".h5"));
      }
      std::vector<int64_t> rows = reader.NextRows(24);  // three epochs, no error
      std::sort(rows.begin(), rows.end());
      for (int64_t g = rank * 8; g < rank * 8 + 8; ++g) {
        EXPECT_EQ(std::count(rows.begin(), rows.end(), g), 3) << "row " << g;
      }
    }
  }
}

TEST(HDF5DataLayerTest, SkipBatchesEqualsReadingThem) {
  TempDir dir;
  const std::string list = WriteDataset(dir, {5, 3, 4, 6});
  for (const int world : {1, 2}) {
    for (const bool shuffle : {false, true}) {
      for (const int64_t skip : {0, 1, 2, 3, 4, 7, 13, 50}) {
        for (const int read_first : {0, 2}) {
          SCOPED_TRACE(StrCat("W=", world, " shuffle=", shuffle, " skip=", skip,
                              " after ", read_first));
          ScopedRank scoped(world - 1, world);
          SetRandomSeed(5);
          Reader uninterrupted(Param(list, 5, shuffle));
          uninterrupted.NextRows(5 * (read_first + skip));
          const std::vector<int64_t> expected = uninterrupted.NextRows(40);

          SetRandomSeed(5);
          Reader resumed(Param(list, 5, shuffle));
          resumed.NextRows(5 * read_first);
          resumed.layer->SkipBatches(skip);
          EXPECT_EQ(resumed.NextRows(40), expected);
        }
      }
    }
  }
  Reader reader(Param(list, 5));
  ExpectError([&] { reader.layer->SkipBatches(-1); }, ErrorCode::kInvalidArgument,
              {"Layer 'h5' (HDF5Data)", "negative"});
}

TEST(HDF5DataLayerTest, SkipBatchesFarAheadIsQuick) {
  TempDir dir;
  const std::string list = WriteDataset(dir, {5, 3, 4, 6});
  SetRandomSeed(5);
  Reader reader(Param(list, 5, true));
  reader.layer->SkipBatches(int64_t{1} << 50);  // no replay of 2^50 batches' shuffles
  std::vector<int64_t> rows = reader.NextRows(18);
  EXPECT_EQ(rows.size(), 18u);
}

TEST(HDF5DataLayerTest, FeedsANet) {
  TempDir dir;
  std::vector<float> data(6 * 4), label;
  for (int r = 0; r < 6; ++r) {
    for (int i = 0; i < 4; ++i) data[r * 4 + i] = 0.1f * static_cast<float>(r - i);
    label.push_back(static_cast<float>(r % 3));
  }
  {
    Hdf5File file = Hdf5File::Create(dir.file("train.h5"));
    file.WriteFloat("data", {6, 4}, data.data());
    file.WriteFloat("label", {6}, label.data());
  }
  testing::WriteFile(dir.file("train.txt"), dir.file("train.h5") + "\n");
  Net net(testing::NetFromText(
      "state { phase: TRAIN } "
      "layer { name: 'h5' type: 'HDF5Data' top: 'data' top: 'label' "
      "  hdf5_data_param { source: '" + dir.file("train.txt") + "' batch_size: 4 } } "
      "layer { name: 'ip' type: 'InnerProduct' bottom: 'data' top: 'ip' "
      "  inner_product_param { num_output: 3 weight_filler { type: 'xavier' } } } "
      "layer { name: 'loss' type: 'SoftmaxWithLoss' bottom: 'ip' bottom: 'label' top: 'loss' }"));
  const float loss = net.ForwardBackward();
  EXPECT_TRUE(std::isfinite(loss) && loss > 0) << loss;
  const Blob* labels = net.blob_by_name("label");
  ASSERT_NE(labels, nullptr);
  EXPECT_EQ(std::vector<float>(labels->cpu_data(), labels->cpu_data() + 4),
            (std::vector<float>{0, 1, 2, 0}));
  net.ForwardBackward();
  EXPECT_EQ(std::vector<float>(labels->cpu_data(), labels->cpu_data() + 4),
            (std::vector<float>{1, 2, 0, 1}));
  EXPECT_EQ(net.blob_by_name("data")->cpu_data()[0], data[4 * 4]);
}

// --- Errors: each names the layer and the file at fault. ---------------------------------

TEST(HDF5DataLayerTest, MissingListFile) {
  TempDir dir;
  ExpectError([&] { Reader r(Param(dir.file("nope.txt"), 2)); }, ErrorCode::kIOError,
              {"Layer 'h5' (HDF5Data)", "nope.txt", "No such file"});
}

TEST(HDF5DataLayerTest, MissingH5File) {
  TempDir dir;
  WriteRows(dir.file("a.h5"), 0, 2);
  testing::WriteFile(dir.file("list.txt"), dir.file("a.h5") + "\nmissing.h5\n");
  ExpectError([&] { Reader r(Param(dir.file("list.txt"), 2)); }, ErrorCode::kIOError,
              {"Layer 'h5' (HDF5Data)", "'missing.h5'", "list.txt", "line 2"});
  testing::WriteFile(dir.file("list2.txt"), dir.file("gone.h5") + "\n");
  ExpectError([&] { Reader r(Param(dir.file("list2.txt"), 2)); }, ErrorCode::kIOError,
              {"Layer 'h5' (HDF5Data)", dir.file("gone.h5"), "No such file"});
}

TEST(HDF5DataLayerTest, FileThatIsNotHdf5) {
  TempDir dir;
  testing::WriteFile(dir.file("a.h5"), "plain text");
  testing::WriteFile(dir.file("list.txt"), dir.file("a.h5"));
  ExpectError([&] { Reader r(Param(dir.file("list.txt"), 2)); }, ErrorCode::kCorruption,
              {"Layer 'h5' (HDF5Data)", dir.file("a.h5"), "not an HDF5 file"});
}

TEST(HDF5DataLayerTest, MissingDataset) {
  TempDir dir;
  const std::string list = WriteDataset(dir, {2, 2});
  ExpectError([&] { Reader r(Param(list, 2, false, "TRAIN", {"data", "labels"})); },
              ErrorCode::kCorruption,
              {"Layer 'h5' (HDF5Data)", dir.file("part0.h5"), "no dataset 'labels'"});
  // Only in the second file.
  const float v[kRowSize] = {};
  Hdf5File::Create(dir.file("part1.h5")).WriteFloat("data", {1, 2, 3}, v);
  ExpectError([&] { Reader r(Param(list, 2)); }, ErrorCode::kCorruption,
              {"Layer 'h5' (HDF5Data)", dir.file("part1.h5"), "no dataset 'label'"});
}

TEST(HDF5DataLayerTest, MismatchedRowCountsInAFile) {
  TempDir dir;
  const std::string list = WriteDataset(dir, {2, 2});
  std::vector<float> data(3 * kRowSize), label(4);
  {
    Hdf5File file = Hdf5File::Create(dir.file("part1.h5"));
    file.WriteFloat("data", {3, 2, 3}, data.data());
    file.WriteFloat("label", {4}, label.data());
  }
  ExpectError([&] { Reader r(Param(list, 2)); }, ErrorCode::kInvalidArgument,
              {"Layer 'h5' (HDF5Data)", dir.file("part1.h5"), "'label' has 4 rows",
               "'data' has 3"});
}

TEST(HDF5DataLayerTest, MismatchedShapesAcrossFiles) {
  TempDir dir;
  const std::string list = WriteDataset(dir, {2, 2, 2});
  std::vector<float> data(2 * 3 * 2), label(2);
  {
    Hdf5File file = Hdf5File::Create(dir.file("part2.h5"));
    file.WriteFloat("data", {2, 3, 2}, data.data());
    file.WriteFloat("label", {2}, label.data());
  }
  ExpectError([&] { Reader r(Param(list, 2)); }, ErrorCode::kInvalidArgument,
              {"Layer 'h5' (HDF5Data)", dir.file("part2.h5"), "(2, 3, 2)", "(2, 2, 3)",
               dir.file("part0.h5")});
  // (N) labels in one file, (N, 1) in another.
  WriteRows(dir.file("part2.h5"), 4, 2, LabelLayout::kColumn);
  ExpectError([&] { Reader r(Param(list, 2)); }, ErrorCode::kInvalidArgument,
              {"Layer 'h5' (HDF5Data)", dir.file("part2.h5"), "'label'", "(2, 1)"});
}

TEST(HDF5DataLayerTest, BadParametersAndEmptyData) {
  TempDir dir;
  const std::string list = WriteDataset(dir, {2});
  ExpectError([&] { Reader r(Param(list, 0)); }, ErrorCode::kInvalidArgument,
              {"Layer 'h5' (HDF5Data)", "batch_size"});
  ExpectError([&] { Reader r(Param("", 2)); }, ErrorCode::kInvalidArgument,
              {"Layer 'h5' (HDF5Data)", "source"});
  testing::WriteFile(dir.file("blank.txt"), "\n  \n");
  ExpectError([&] { Reader r(Param(dir.file("blank.txt"), 2)); }, ErrorCode::kInvalidArgument,
              {"Layer 'h5' (HDF5Data)", "blank.txt", "names no files"});
  // Scalar dataset.
  const float v = 1.f;
  {
    Hdf5File file = Hdf5File::Create(dir.file("scalar.h5"));
    file.WriteFloat("data", {}, &v);
    file.WriteFloat("label", {}, &v);
  }
  testing::WriteFile(dir.file("scalar.txt"), dir.file("scalar.h5"));
  ExpectError([&] { Reader r(Param(dir.file("scalar.txt"), 2)); }, ErrorCode::kCorruption,
              {"Layer 'h5' (HDF5Data)", dir.file("scalar.h5"), "scalar"});
  // Files with no rows at all.
  WriteRows(dir.file("empty.h5"), 0, 0);
  testing::WriteFile(dir.file("empty.txt"), dir.file("empty.h5"));
  ExpectError([&] { Reader r(Param(dir.file("empty.txt"), 2)); }, ErrorCode::kInvalidArgument,
              {"Layer 'h5' (HDF5Data)", "empty.txt", "no rows"});
  // ... but an empty file among others is skipped.
  testing::WriteFile(dir.file("mixed.txt"), dir.file("empty.h5") + "\n" +
                                                dir.file("part0.h5") + "\n" +
                                                dir.file("empty.h5"));
  Reader mixed(Param(dir.file("mixed.txt"), 3));
  EXPECT_EQ(mixed.Next(), (std::vector<int64_t>{0, 1, 0}));
}

TEST(HDF5DataLayerTest, TooFewRowsForTheRanks) {
  TempDir dir;
  const std::string list = WriteDataset(dir, {2, 1});
  {
    ScopedRank scoped(0, 4);
    ExpectError([&] { Reader r(Param(list, 1)); }, ErrorCode::kInvalidArgument,
                {"Layer 'h5' (HDF5Data)", "3 items", "4 ranks"});
  }
  {
    // TEST: 3 batches for 4 ranks leave rank 0 without one; it opens the first batch's rows,
    // which no test pass runs (ShareOfBatches gives it none).
    ScopedRank scoped(0, 4);
    Reader r(Param(list, 1, false, "TEST"));
    EXPECT_EQ(r.hdf5()->rows_per_epoch(), 1);
    EXPECT_EQ(ShareOfBatches(3, 0, 4), 0);
  }
  EXPECT_EQ(GetRankInfo().world_size, 1);
}

TEST(HDF5DataLayerTest, FileThatChangesAfterSetUpFailsTheForwardThatReachesIt) {
  TempDir dir;
  const std::string list = WriteDataset(dir, {2, 2});
  Reader reader(Param(list, 2));
  EXPECT_EQ(reader.Next(), Iota(0, 2));
  std::vector<float> data(2 * 3 * 3), label(2);
  {
    Hdf5File file = Hdf5File::Create(dir.file("part1.h5"));
    file.WriteFloat("data", {2, 3, 3}, data.data());
    file.WriteFloat("label", {2}, label.data());
  }
  ExpectError([&] { reader.Next(); }, ErrorCode::kCorruption,
              {"Layer 'h5' (HDF5Data)", dir.file("part1.h5"), "changed shape"});
}

TEST(HDF5DataLayerTest, NamesSamplesByListedFileAndRow) {
  TempDir dir;
  WriteRows(dir.file("a.h5"), 0, 2);
  WriteRows(dir.file("b.h5"), 2, 3);
  testing::WriteFile(dir.file("list.txt"), "a.h5\n" + dir.file("b.h5") + "\n");
  Reader reader(Param(dir.file("list.txt"), 2, false, "TEST"));
  EXPECT_EQ(reader.layer->samples_per_pass(), 5);
  EXPECT_TRUE(reader.layer->batch_ids().empty());
  reader.layer->set_keep_batch_ids(true);
  EXPECT_EQ(reader.Next(), Iota(0, 2));
  EXPECT_EQ(reader.layer->batch_ids(), (std::vector<std::string>{"a.h5:0", "a.h5:1"}));
  EXPECT_EQ(reader.Next(), Iota(2, 4));
  EXPECT_EQ(reader.layer->batch_ids(),
            (std::vector<std::string>{dir.file("b.h5") + ":0", dir.file("b.h5") + ":1"}));
  EXPECT_EQ(reader.Next(), (std::vector<int64_t>{4, 0}));
  EXPECT_EQ(reader.layer->batch_ids(),
            (std::vector<std::string>{dir.file("b.h5") + ":2", "a.h5:0"}));
}

TEST(HDF5DataLayerTest, TestRanksWithoutABatchOwnNoSamples) {
  TempDir dir;
  const std::string list = WriteDataset(dir, {2, 1});
  std::vector<int64_t> owned;
  for (int rank = 0; rank < 4; ++rank) {
    ScopedRank scoped(rank, 4);
    Reader r(Param(list, 1, false, "TEST"));
    owned.push_back(r.layer->samples_per_pass());
  }
  EXPECT_EQ(owned, (std::vector<int64_t>{0, 1, 1, 1}));
}

}  // namespace
}  // namespace crema
