#include "crema/layers/dummy_data_layer.h"

#include <climits>

#include "crema/core/filler.h"

namespace crema {

const caffe::FillerParameter& DummyDataLayer::FillerOf(size_t top_index) const {
  return fillers_.size() == 1 ? fillers_[0] : fillers_[top_index];
}

void DummyDataLayer::LayerSetUp(const BlobVec& /*bottom*/, const BlobVec& top) {
  const caffe::DummyDataParameter& p = layer_param_.dummy_data_param();
  const int tops = static_cast<int>(top.size());
  if (p.data_filler_size() != 0 && p.data_filler_size() != 1 && p.data_filler_size() != tops) {
    Fail("has ", p.data_filler_size(), " data_filler values for ", tops,
         " tops; give none, one, or one per top");
  }
  fillers_.clear();
  if (p.data_filler_size() == 0) {
    fillers_.emplace_back();  // constant 0 (FillerParameter's defaults)
  } else {
    fillers_.assign(p.data_filler().begin(), p.data_filler().end());
  }
  refill_.clear();
  for (const caffe::FillerParameter& f : fillers_) refill_.push_back(f.type() != "constant");

  const int legacy = p.num_size() + p.channels_size() + p.height_size() + p.width_size();
  if (legacy > 0) {
    if (p.shape_size() > 0) {
      Fail("gives both dummy_data_param.shape and the legacy num/channels/height/width; ",
           "keep only shape");
    }
    auto check = [&](int size, const char* name) {
      if (size != 1 && size != tops) {
        Fail("gives ", size, " dummy_data_param.", name, " values for ", tops,
             " tops; give one, or one per top");
      }
    };
    check(p.num_size(), "num");
    check(p.channels_size(), "channels");
    check(p.height_size(), "height");
    check(p.width_size(), "width");
  } else if (p.shape_size() != 1 && p.shape_size() != tops) {
    Fail("gives ", p.shape_size(), " dummy_data_param.shape values for ", tops,
         " tops; give one, or one per top");
  }

  for (int i = 0; i < tops; ++i) {
    WithErrorContext(StrCat(Describe(), " top ", i), [&] {
      if (legacy > 0) {
        auto pick = [i](const google::protobuf::RepeatedField<uint32_t>& v) {
          return v.Get(v.size() == 1 ? 0 : i);
        };
        std::vector<int> shape;
        for (uint32_t d : {pick(p.num()), pick(p.channels()), pick(p.height()), pick(p.width())}) {
          if (d > static_cast<uint32_t>(INT_MAX)) {
            throw InvalidArgument(StrCat("dimension ", d, " is too large"));
          }
          shape.push_back(static_cast<int>(d));
        }
        top[i]->Reshape(shape);
      } else {
        top[i]->Reshape(p.shape(p.shape_size() == 1 ? 0 : i));
      }
    });
    // Every top is filled now, so a filler that cannot fill its top fails here rather than
    // in Forward; constant tops are never filled again.
    FillBlob(FillerOf(i), top[i], StrCat(Describe(), " data_filler for top ", i));
  }
}

void DummyDataLayer::ForwardCpu(const BlobVec& /*bottom*/, const BlobVec& top) {
  for (size_t i = 0; i < top.size(); ++i) {
    if (refill_[fillers_.size() == 1 ? 0 : i]) FillBlob(FillerOf(i), top[i]);
  }
}

}  // namespace crema
