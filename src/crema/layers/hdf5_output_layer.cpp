#include "crema/layers/hdf5_output_layer.h"

#include <algorithm>

namespace crema {

namespace {
constexpr char kData[] = "data";
constexpr char kLabel[] = "label";
}  // namespace

void HDF5OutputLayer::LayerSetUp(const BlobVec& /*bottom*/, const BlobVec& /*top*/) {
  const std::string& path = layer_param_.hdf5_output_param().file_name();
  if (path.empty()) Fail("needs hdf5_output_param.file_name");
  created_ = false;
  file_.reset();
  file_.emplace(WithErrorContext(Describe(), [&] { return Hdf5File::Create(path); }));
}

std::array<int64_t, 3> HDF5OutputLayer::RowDims(const Blob& blob, int index) const {
  if (blob.num_axes() > 4) {
    Fail("writes blobs of at most 4 axes (N, C, H, W), but bottom ", index, " has shape ",
         blob.shape_string());
  }
  const std::array<int64_t, 3> dims = {blob.channels(), blob.height(), blob.width()};
  for (int64_t d : dims) {
    if (d == 0) {
      Fail("cannot write bottom ", index, " of shape ", blob.shape_string(),
           ": it holds no values per item");
    }
  }
  return dims;
}

void HDF5OutputLayer::Reshape(const BlobVec& bottom, const BlobVec& /*top*/) {
  const Blob& data = *bottom[0];
  const Blob& label = *bottom[1];
  if (data.num_axes() == 0 || label.num_axes() == 0 || data.shape(0) != label.shape(0)) {
    Fail("needs data and labels with the same first dimension, got ", data.shape_string(),
         " and ", label.shape_string());
  }
  const std::array<int64_t, 3> data_rows = RowDims(data, 0);
  const std::array<int64_t, 3> label_rows = RowDims(label, 1);
  const auto same = [](const std::array<int64_t, 3>& a, const std::vector<int64_t>& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  };
  if (created_ && (!same(data_rows, data_rows_) || !same(label_rows, label_rows_))) {
    Fail("the bottoms' shapes ", data.shape_string(), " and ", label.shape_string(),
         " changed after the first batch was written to '", file_->path(),
         "'; every batch must keep the first one's dimensions after the first axis");
  }
  if (!created_) {
    data_rows_.assign(data_rows.begin(), data_rows.end());
    label_rows_.assign(label_rows.begin(), label_rows.end());
  }
}

void HDF5OutputLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& /*top*/) {
  WithErrorContext(Describe(), [&] {
    if (!created_) {
      file_->CreateFloatRows(kData, data_rows_);
      file_->CreateFloatRows(kLabel, label_rows_);
      created_ = true;
    }
    file_->AppendFloatRows(kData, bottom[0]->shape(0), bottom[0]->cpu_data());
    file_->AppendFloatRows(kLabel, bottom[1]->shape(0), bottom[1]->cpu_data());
    // Flushed per batch, so the file is complete whenever the run stops.
    file_->Flush();
  });
}

}  // namespace crema
