#include "crema/layers/hdf5_data_layer.h"

#include <algorithm>
#include <charconv>
#include <climits>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <utility>

#include <glog/logging.h>

#include "crema/core/rank.h"
#include "crema/core/rng.h"
#include "crema/data/hdf5_dataset.h"
#include "crema/data/shard.h"

namespace crema {

namespace {

std::string Trim(const std::string& s) {
  const char* space = " \t\r\n\f\v";
  const size_t first = s.find_first_not_of(space);
  if (first == std::string::npos) return "";
  return s.substr(first, s.find_last_not_of(space) - first + 1);
}

std::string ShapeText(const std::vector<int64_t>& dims) {
  std::string text = "(";
  for (size_t i = 0; i < dims.size(); ++i) text += StrCat(i ? ", " : "", dims[i]);
  return text + ")";
}

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// The key of one shuffle: a pure function of the layer's seed, the epoch and a stream
// number (0 for the segment order, 1 + s for the rows of segment s).
uint64_t ShuffleKey(uint64_t seed, int64_t epoch, uint64_t stream) {
  return SplitMix64(SplitMix64(SplitMix64(seed) ^ static_cast<uint64_t>(epoch)) ^ stream);
}

// Fisher–Yates shuffle driven by a SplitMix64 stream started at `key`: the same key gives
// the same order on every platform and standard library.
template <typename T>
void KeyedShuffle(std::vector<T>* v, uint64_t key) {
  uint64_t state = key;
  for (size_t i = v->size(); i > 1; --i) {
    state = SplitMix64(state);
    const size_t j = static_cast<size_t>((state >> 11) % i);
    std::swap((*v)[i - 1], (*v)[j]);
  }
}

}  // namespace

void HDF5DataLayer::LayerSetUp(const BlobVec& /*bottom*/, const BlobVec& /*top*/) {
  const caffe::HDF5DataParameter& p = layer_param_.hdf5_data_param();
  if (p.source().empty()) Fail("needs hdf5_data_param.source, the file listing .h5 files");
  batch_size_ = RankBatchSize(p.batch_size(), "hdf5_data_param.batch_size");
  shuffle_ = p.shuffle();

  ReadList();
  ReadShapes();
  MakeSegments();

  if (shuffle_) seed_ = ThreadRng()();
  epoch_ = 0;
  slot_ = 0;
  row_ = 0;
  loaded_ = -1;
  MakeOrder();
  MakeRowOrder();
  buffers_.assign(top_shapes_.size(), {});
}

void HDF5DataLayer::ReadList() {
  const std::string& source = layer_param_.hdf5_data_param().source();
  std::ifstream list(source);
  if (!list.is_open()) {
    throw Error(ErrorCode::kIOError,
                StrCat(Describe(), ": ", IOErrorFromErrno("open HDF5 list file", source).what()));
  }
  const std::filesystem::path list_dir = std::filesystem::path(source).parent_path();
  files_.clear();
  std::string line;
  for (int line_number = 1; std::getline(list, line); ++line_number) {
    const std::string entry = Trim(line);
    if (entry.empty()) continue;
    std::string path = entry;
    std::error_code ec;
    if (std::filesystem::path(entry).is_relative() && !std::filesystem::exists(entry, ec)) {
      const std::string beside = (list_dir / entry).string();
      if (!list_dir.empty() && std::filesystem::exists(beside, ec)) {
        path = beside;
      } else {
        throw Error(ErrorCode::kIOError,
                    StrCat(Describe(), ": HDF5 file '", entry, "' listed in '", source,
                           "' line ", line_number, " is neither in the working directory",
                           " nor in '", list_dir.empty() ? "." : list_dir.string(), "'"));
      }
    }
    // Absolute, so that loading later does not depend on the working directory then.
    files_.push_back({std::filesystem::absolute(path, ec).string(), entry, 0});
    if (ec) files_.back().path = path;
  }
  if (list.bad()) {
    throw Error(ErrorCode::kIOError,
                StrCat(Describe(), ": ", IOErrorFromErrno("read HDF5 list file", source).what()));
  }
  if (files_.empty()) Fail("HDF5 list file '", source, "' names no files");
  if (files_.size() > static_cast<size_t>(INT_MAX)) Fail("'", source, "' lists too many files");
}

void HDF5DataLayer::ReadShapes() {
  const int num_tops = layer_param_.top_size();
  row_dims_.assign(static_cast<size_t>(num_tops), {});
  total_rows_ = 0;
  for (size_t f = 0; f < files_.size(); ++f) {
    File& file = files_[f];
    const Hdf5File h5 = WithErrorContext(Describe(), [&] { return Hdf5File::Open(file.path); });
    for (int t = 0; t < num_tops; ++t) {
      const std::string& name = layer_param_.top(t);
      const std::vector<int64_t> dims = WithErrorContext(Describe(), [&] { return h5.Shape(name); });
      if (dims.empty()) {
        throw Error(ErrorCode::kCorruption,
                    StrCat(Describe(), ": dataset '", name, "' in HDF5 file '", file.path,
                           "' is a scalar; HDF5Data needs a first (row) dimension"));
      }
      if (t == 0) {
        file.rows = dims[0];
      } else if (dims[0] != file.rows) {
        Fail("HDF5 file '", file.path, "': dataset '", name, "' has ", dims[0],
             " rows but dataset '", layer_param_.top(0), "' has ", file.rows,
             "; every top's dataset must have the same number of rows");
      }
      const std::vector<int64_t> row(dims.begin() + 1, dims.end());
      if (f == 0) {
        row_dims_[t] = row;
      } else if (row != row_dims_[t]) {
        std::vector<int64_t> first_dims = row_dims_[t];
        first_dims.insert(first_dims.begin(), files_[0].rows);
        Fail("HDF5 file '", file.path, "': dataset '", name, "' has shape ", ShapeText(dims),
             " but in '", files_[0].path, "' it has shape ", ShapeText(first_dims),
             "; all dimensions but the first must agree across files");
      }
    }
    if (file.rows > INT64_MAX - total_rows_) Fail("the listed files hold too many rows");
    total_rows_ += file.rows;
  }
  if (total_rows_ == 0) {
    Fail("the files listed in '", layer_param_.hdf5_data_param().source(), "' hold no rows");
  }

  top_shapes_.assign(static_cast<size_t>(num_tops), {});
  row_sizes_.assign(static_cast<size_t>(num_tops), 0);
  for (int t = 0; t < num_tops; ++t) {
    int64_t count = batch_size_;
    std::vector<int> shape = {batch_size_};
    for (int64_t d : row_dims_[t]) {
      if (d > INT_MAX || (d != 0 && count > INT_MAX / d)) {
        Fail("top '", layer_param_.top(t), "' of batch_size ", batch_size_, " with rows of ",
             ShapeText(row_dims_[t]), " (dataset '", layer_param_.top(t), "' of '",
             files_[0].path, "') would hold more than 2^31 values");
      }
      count *= d;
      shape.push_back(static_cast<int>(d));
    }
    top_shapes_[t] = shape;
    row_sizes_[t] = static_cast<int>(count / batch_size_);
  }
}

void HDF5DataLayer::MakeSegments() {
  IndexRange range{0, total_rows_};
  const RankInfo rank = GetRankInfo();
  bool idle = false;
  if (rank.world_size > 1 && layer_param_.crema_data_param().shard()) {
    range = WithErrorContext(Describe(), [&] {
      return ShardRange(total_rows_, rank.rank, rank.world_size, phase_, batch_size_);
    });
    // A TEST rank left without a batch reads the first batch's range but owns none of it.
    idle = phase_ == caffe::TEST &&
           ShareOfBatches((total_rows_ + batch_size_ - 1) / batch_size_, rank.rank,
                          rank.world_size) == 0;
    if (range.size() == 0) {
      Fail("rank ", rank.rank, " of ", rank.world_size, " gets none of the ", total_rows_,
           " rows listed in '", layer_param_.hdf5_data_param().source(),
           "'; use fewer ranks or set crema_data_param.shard: false");
    }
  }
  share_rows_ = range.size();
  samples_per_pass_ = idle ? 0 : share_rows_;
  segments_.clear();
  int64_t first = 0;  // global number of the first row of file f
  for (size_t f = 0; f < files_.size(); ++f) {
    const int64_t begin = std::max(range.begin, first);
    const int64_t end = std::min(range.end, first + files_[f].rows);
    if (begin < end) segments_.push_back({static_cast<int>(f), begin - first, end - first});
    first += files_[f].rows;
  }
  LOG(INFO) << Describe() << ": " << files_.size() << " HDF5 files, " << total_rows_
            << " rows; reading " << share_rows_ << " rows from " << segments_.size()
            << " of them" << (shuffle_ ? ", shuffled" : "");
}

void HDF5DataLayer::Reshape(const BlobVec& /*bottom*/, const BlobVec& top) {
  for (size_t t = 0; t < top_shapes_.size(); ++t) top[t]->Reshape(top_shapes_[t]);
}

void HDF5DataLayer::MakeOrder() {
  order_.resize(segments_.size());
  std::iota(order_.begin(), order_.end(), 0);
  if (shuffle_) KeyedShuffle(&order_, ShuffleKey(seed_, epoch_, 0));
}

void HDF5DataLayer::MakeRowOrder() {
  if (!shuffle_) return;
  const int segment = order_[static_cast<size_t>(slot_)];
  perm_.resize(static_cast<size_t>(segments_[segment].size()));
  std::iota(perm_.begin(), perm_.end(), int64_t{0});
  KeyedShuffle(&perm_, ShuffleKey(seed_, epoch_, 1 + static_cast<uint64_t>(segment)));
}

void HDF5DataLayer::NextSegment() {
  row_ = 0;
  if (++slot_ == static_cast<int>(order_.size())) {
    slot_ = 0;
    ++epoch_;
    MakeOrder();
  }
  MakeRowOrder();
}

void HDF5DataLayer::Load(int segment) {
  const Segment& s = segments_[segment];
  const File& file = files_[s.file];
  WithErrorContext(Describe(), [&] {
    const Hdf5File h5 = Hdf5File::Open(file.path);
    for (size_t t = 0; t < top_shapes_.size(); ++t) {
      const std::string& name = layer_param_.top(static_cast<int>(t));
      // The file must still be what SetUp saw, or the rows would not fit the buffers.
      std::vector<int64_t> expected = row_dims_[t];
      expected.insert(expected.begin(), file.rows);
      const std::vector<int64_t> dims = h5.Shape(name);
      if (dims != expected) {
        throw Corruption(StrCat("dataset '", name, "' in HDF5 file '", file.path,
                                "' changed shape from ", ShapeText(expected), " to ",
                                ShapeText(dims), " since the layer was set up"));
      }
      buffers_[t].resize(static_cast<size_t>(s.size()) * static_cast<size_t>(row_sizes_[t]));
      h5.ReadFloatRows(name, s.begin, s.end, buffers_[t].data());
    }
  });
  loaded_ = segment;
}

void HDF5DataLayer::set_keep_batch_ids(bool keep) {
  keep_batch_ids_ = keep;
  if (!keep) batch_ids_.clear();
}

void HDF5DataLayer::ForwardCpu(const BlobVec& /*bottom*/, const BlobVec& top) {
  if (keep_batch_ids_) batch_ids_.resize(static_cast<size_t>(batch_size_));
  for (int n = 0; n < batch_size_; ++n) {
    if (row_ == segments_[order_[static_cast<size_t>(slot_)]].size()) NextSegment();
    const int segment = order_[static_cast<size_t>(slot_)];
    if (segment != loaded_) Load(segment);
    const int64_t r = shuffle_ ? perm_[static_cast<size_t>(row_)] : row_;
    for (size_t t = 0; t < top_shapes_.size(); ++t) {
      const size_t size = static_cast<size_t>(row_sizes_[t]);
      std::copy_n(buffers_[t].data() + static_cast<size_t>(r) * size, size,
                  top[t]->mutable_cpu_data() + static_cast<size_t>(n) * size);
    }
    if (keep_batch_ids_) {
      // "<file as listed>:<row in the file>", reusing the strings' buffers.
      const Segment& s = segments_[segment];
      char digits[24];
      const auto end = std::to_chars(digits, digits + sizeof(digits), s.begin + r).ptr;
      std::string& id = batch_ids_[static_cast<size_t>(n)];
      id.assign(files_[s.file].listed);
      id.push_back(':');
      id.append(digits, end);
    }
    ++row_;
  }
}

void HDF5DataLayer::SkipBatches(int64_t n) {
  if (n < 0) Fail("cannot skip a negative number (", n, ") of batches");
  if (n == 0) return;
  if (n > INT64_MAX / batch_size_) Fail("cannot skip ", n, " batches: too many rows");
  // Where reading stands within the epoch, in rows.
  int64_t offset = row_;
  for (int s = 0; s < slot_; ++s) offset += segments_[order_[static_cast<size_t>(s)]].size();
  const int64_t skip = n * batch_size_;
  // offset + skip, split into whole epochs and the rest, without overflowing.
  const int64_t epochs = skip / share_rows_ + (offset + skip % share_rows_) / share_rows_;
  offset = (offset + skip % share_rows_) % share_rows_;
  if (epochs != 0) {
    epoch_ += epochs;
    MakeOrder();
  }
  slot_ = 0;
  while (offset >= segments_[order_[static_cast<size_t>(slot_)]].size()) {
    offset -= segments_[order_[static_cast<size_t>(slot_)]].size();
    ++slot_;
  }
  row_ = offset;
  MakeRowOrder();
}

}  // namespace crema
