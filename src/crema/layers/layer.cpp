#include "crema/layers/layer.h"

#include <cstring>
#include <new>

#include "crema/backend/cpu/blas.h"
#include "crema/core/rank.h"

namespace crema {

Layer::Layer(const caffe::LayerParameter& param) : layer_param_(param), phase_(param.phase()) {}

std::string Layer::Describe() const { return StrCat("Layer '", name(), "' (", type(), ")"); }

void Layer::set_keep_batch_ids(bool /*keep*/) {
  throw Unsupported(StrCat(Describe(), " reads no dataset, so it cannot name its samples"));
}

const std::vector<std::string>& Layer::batch_ids() const {
  static const std::vector<std::string> kNone;
  return kNone;
}

namespace {
const char* Plural(int n) { return n == 1 ? "" : "s"; }

template <typename Blobs>
std::string Shapes(const Blobs& blobs) {
  std::string shapes;
  for (const auto& blob : blobs) shapes += (shapes.empty() ? "" : ", ") + blob->shape_string();
  return shapes.empty() ? "none" : shapes;
}
}  // namespace

void Layer::CheckBlobCounts(const BlobVec& bottom, const BlobVec& top) const {
  const int nb = static_cast<int>(bottom.size());
  const int nt = static_cast<int>(top.size());
  if (ExactNumBottomBlobs() >= 0 && nb != ExactNumBottomBlobs()) {
    Fail("takes ", ExactNumBottomBlobs(), " bottom blob", Plural(ExactNumBottomBlobs()),
         ", got ", nb);
  }
  if (MinBottomBlobs() >= 0 && nb < MinBottomBlobs()) {
    Fail("takes at least ", MinBottomBlobs(), " bottom blob", Plural(MinBottomBlobs()), ", got ",
         nb);
  }
  if (MaxBottomBlobs() >= 0 && nb > MaxBottomBlobs()) {
    Fail("takes at most ", MaxBottomBlobs(), " bottom blob", Plural(MaxBottomBlobs()), ", got ",
         nb);
  }
  if (ExactNumTopBlobs() >= 0 && nt != ExactNumTopBlobs()) {
    Fail("produces ", ExactNumTopBlobs(), " top blob", Plural(ExactNumTopBlobs()), ", got ", nt);
  }
  if (MinTopBlobs() >= 0 && nt < MinTopBlobs()) {
    Fail("produces at least ", MinTopBlobs(), " top blob", Plural(MinTopBlobs()), ", got ", nt);
  }
  if (MaxTopBlobs() >= 0 && nt > MaxTopBlobs()) {
    Fail("produces at most ", MaxTopBlobs(), " top blob", Plural(MaxTopBlobs()), ", got ", nt);
  }
  if (EqualNumBottomTopBlobs() && nb != nt) {
    Fail("needs as many top blobs as bottom blobs, got ", nb, " bottom and ", nt, " top");
  }
}

void Layer::SetUp(const BlobVec& bottom, const BlobVec& top) {
  try {
    CheckBlobCounts(bottom, top);
    LayerSetUp(bottom, top);
    Reshape(bottom, top);
    SetLossWeights(top);
  } catch (const Error& e) {
    // What a blob or a helper throws does not know which layer asked: say it.
    if (std::strstr(e.what(), StrCat("'", name(), "'").c_str()) != nullptr) throw;
    throw Error(e.code(), StrCat(Describe(), ": ", e.what()));
  } catch (const std::bad_alloc&) {
    throw Unsupported(StrCat(Describe(), ": out of memory setting up its blobs (parameters ",
                             Shapes(blobs_), "; tops ", Shapes(top), ")"));
  }
}

void Layer::SetLossWeights(const BlobVec& top) {
  const int num_weights = layer_param_.loss_weight_size();
  if (num_weights == 0) return;
  if (num_weights != static_cast<int>(top.size())) {
    Fail("has ", num_weights, " loss_weight values for ", top.size(),
         " top blobs; give one per top");
  }
  for (int i = 0; i < num_weights; ++i) {
    const float weight = layer_param_.loss_weight(i);
    set_loss(i, weight);
    if (weight == 0.f) continue;
    cpu::Set(top[i]->count(), weight, top[i]->mutable_cpu_diff());
  }
}

int Layer::RankBatchSize(uint32_t configured, const char* field) const {
  if (configured == 0) Fail("needs ", field, " > 0");
  if (configured > static_cast<uint32_t>(INT32_MAX)) Fail(field, " ", configured, " is too large");
  const RankInfo rank = GetRankInfo();
  if (!rank.split_train_batch || phase_ != caffe::TRAIN || rank.world_size == 1) {
    return static_cast<int>(configured);
  }
  if (configured % static_cast<uint32_t>(rank.world_size) != 0) {
    Fail(field, " ", configured, " cannot be split evenly between ", rank.world_size,
         " ranks (-global_batch); use a multiple of ", rank.world_size);
  }
  return static_cast<int>(configured / static_cast<uint32_t>(rank.world_size));
}

void Layer::set_loss(int top_index, float value) {
  if (top_index >= static_cast<int>(loss_.size())) loss_.resize(top_index + 1, 0.f);
  loss_[top_index] = value;
}

void Layer::set_param_propagate_down(int param_index, bool value) {
  if (param_index >= static_cast<int>(param_propagate_down_.size())) {
    param_propagate_down_.resize(param_index + 1, true);
  }
  param_propagate_down_[param_index] = value;
}

float Layer::Forward(const BlobVec& bottom, const BlobVec& top) {
  Reshape(bottom, top);
  ForwardCpu(bottom, top);
  float loss = 0;
  for (size_t i = 0; i < top.size(); ++i) {
    const float weight = this->loss(static_cast<int>(i));
    if (weight == 0.f) continue;
    // The top's diff holds the loss weight (SetLossWeights), so the weighted loss is a dot.
    loss += cpu::Dot(top[i]->count(), top[i]->cpu_data(), top[i]->cpu_diff());
  }
  return loss;
}

void Layer::Backward(const BlobVec& top, const std::vector<bool>& propagate_down,
                     const BlobVec& bottom) {
  BackwardCpu(top, propagate_down, bottom);
}

void Layer::ToProto(caffe::LayerParameter* param, bool write_diff) const {
  param->CopyFrom(layer_param_);
  param->clear_blobs();
  for (const auto& blob : blobs_) blob->ToProto(param->add_blobs(), write_diff);
}

LossLayer::LossLayer(const caffe::LayerParameter& param) : Layer(param) {
  // Loss layers weigh their first top by 1 and any further top (e.g. probabilities) by 0,
  // unless told otherwise.
  if (layer_param_.loss_weight_size() == 0) {
    layer_param_.add_loss_weight(1.f);
    for (int i = 1; i < layer_param_.top_size(); ++i) layer_param_.add_loss_weight(0.f);
  }
}

void LossLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  if (bottom[0]->num_axes() == 0 || bottom[1]->num_axes() == 0 ||
      bottom[0]->shape(0) != bottom[1]->shape(0)) {
    Fail("needs predictions and labels with the same first dimension, got ",
         bottom[0]->shape_string(), " and ", bottom[1]->shape_string());
  }
  top[0]->Reshape(std::vector<int>{});  // a scalar
}

void NeuronLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  top[0]->ReshapeLike(*bottom[0]);
}

}  // namespace crema
