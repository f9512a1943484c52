#include "crema/layers/infogain_loss_layer.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "crema/io/proto_io.h"
#include "crema/layers/loss_helpers.h"

namespace crema {

namespace {
// Below this many elements a parallel region costs more than it saves.
constexpr int kParallelMin = 1 << 14;
}  // namespace

InfogainLossLayer::InfogainLossLayer(const caffe::LayerParameter& param) : LossLayer(param) {}

void InfogainLossLayer::LayerSetUp(const BlobVec& bottom, const BlobVec& /*top*/) {
  const caffe::LossParameter& loss = layer_param_.loss_param();
  // The deprecated field predates this layer's normalisation; accepting it would guess.
  if (loss.has_normalize()) {
    Fail("loss_param.normalize is deprecated and not accepted here; use "
         "loss_param.normalization (FULL, VALID, BATCH_SIZE or NONE)");
  }
  normalization_ = loss.normalization();
  has_ignore_label_ = loss.has_ignore_label();
  ignore_label_ = loss.ignore_label();

  // The inner softmax has this layer's name, works along infogain_loss_param.axis, and has no
  // loss or blobs of its own.
  caffe::LayerParameter softmax_param;
  softmax_param.set_name(layer_param_.name());
  softmax_param.set_type("Softmax");
  softmax_param.set_phase(layer_param_.phase());
  softmax_param.mutable_softmax_param()->set_axis(layer_param_.infogain_loss_param().axis());
  softmax_ = std::make_unique<SoftmaxLayer>(softmax_param);

  if (bottom.size() >= 3) return;  // H arrives with every batch
  const caffe::InfogainLossParameter& p = layer_param_.infogain_loss_param();
  if (!p.has_source() || p.source().empty()) {
    Fail("needs the infogain matrix: set infogain_loss_param.source to a binary BlobProto file "
         "or give it as a third bottom");
  }
  WithErrorContext(StrCat(Describe(), ": infogain_loss_param.source '", p.source(), "'"), [&] {
    caffe::BlobProto proto;
    ReadBinaryProto(p.source(), &proto);
    try {
      infogain_.FromProto(proto, /*reshape=*/true);
    } catch (const Error& e) {
      // A file that parses but whose values do not fill its shape is a broken file.
      throw Corruption(e.what());
    }
  });
}

void InfogainLossLayer::Reshape(const BlobVec& bottom, const BlobVec& top) {
  const Blob& x = *bottom[0];
  const int axis_param = layer_param_.infogain_loss_param().axis();
  if (axis_param < -x.num_axes() || axis_param >= x.num_axes()) {
    Fail("infogain_loss_param.axis ", axis_param, " is out of range for scores of shape ",
         x.shape_string());
  }
  const int axis = axis_param < 0 ? axis_param + x.num_axes() : axis_param;
  LossLayer::Reshape(bottom, top);
  outer_ = x.count(0, axis);
  channels_ = x.shape(axis);
  inner_ = x.count(axis + 1);
  if (bottom[1]->count() != outer_ * inner_) {
    Fail("needs one label per score vector along axis ", axis, ": scores of shape ",
         x.shape_string(), " need ", outer_ * inner_, " labels, got labels of shape ",
         bottom[1]->shape_string());
  }
  const Blob& h = Infogain(bottom);
  if (static_cast<long>(h.count()) != static_cast<long>(channels_) * channels_) {
    Fail("needs a ", channels_, "×", channels_, " infogain matrix for ", channels_,
         " classes, got one of shape ", h.shape_string(), " from ",
         bottom.size() >= 3 ? std::string("bottom 2")
                            : StrCat("infogain_loss_param.source '",
                                     layer_param_.infogain_loss_param().source(), "'"));
  }
  row_sums_.Reshape(std::vector<int>{channels_});
  // A matrix read from file never changes, so its row sums are ready for Backward now.
  if (bottom.size() < 3) SumRows(infogain_);
  softmax_bottom_[0] = bottom[0];
  // The inner softmax has no parameters or loss weights, so Reshape is all its SetUp does.
  softmax_->Reshape(softmax_bottom_, softmax_top_);
  if (top.size() >= 2) {
    top[1]->ReshapeLike(x);
    top[1]->ShareData(prob_);
  }
}

void InfogainLossLayer::SumRows(const Blob& infogain) {
  const float* h = infogain.cpu_data();
  float* sums = row_sums_.mutable_cpu_data();
  for (int y = 0; y < channels_; ++y) {
    double s = 0;
    for (int k = 0; k < channels_; ++k) s += h[static_cast<long>(y) * channels_ + k];
    sums[y] = static_cast<float>(s);
  }
}

void InfogainLossLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  softmax_->Forward(softmax_bottom_, softmax_top_);
  const float* prob = prob_.cpu_data();
  const float* label = bottom[1]->cpu_data();
  const float* h = Infogain(bottom).cpu_data();
  const int channels = channels_, inner = inner_;
  const int n_labels = outer_ * inner_;
  const bool has_ignore = has_ignore_label_;
  const int ignore = ignore_label_;
  double loss = 0;
  int valid = 0;
  int first_bad = n_labels;  // position of the first invalid label, n_labels if none
#pragma omp parallel for if (static_cast<long>(n_labels) * channels >= kParallelMin) \
    reduction(+ : loss, valid) reduction(min : first_bad) schedule(static)
  for (int j = 0; j < n_labels; ++j) {
    const int l = LossLabelValue(label[j]);
    if (has_ignore && l == ignore) continue;
    if (l < 0 || l >= channels) {
      first_bad = std::min(first_bad, j);
      continue;
    }
    const long base = static_cast<long>(j / inner) * channels * inner + j % inner;
    const float* row = h + static_cast<long>(l) * channels;
    double term = 0;
    for (int k = 0; k < channels; ++k) {
      const float p = std::max(prob[base + static_cast<long>(k) * inner], kLogThreshold);
      term += static_cast<double>(row[k]) * std::log(p);
    }
    loss -= term;
    ++valid;
  }
  if (first_bad < n_labels) {
    Fail("label ", label[first_bad], " at position ", first_bad,
         " of the label blob is not a class index in [0, ", channels, ")",
         has_ignore ? StrCat(" nor ignore_label ", ignore) : std::string());
  }
  valid_count_ = valid;
  top[0]->mutable_cpu_data()[0] =
      static_cast<float>(loss / LossNormalizer(normalization_, outer_, inner_, valid));
}

void InfogainLossLayer::BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                                    const BlobVec& bottom) {
  if (propagate_down.size() > 1 && propagate_down[1]) {
    Fail("cannot backpropagate to the labels (bottom 1); set propagate_down: false for it");
  }
  if (propagate_down.size() > 2 && propagate_down[2]) {
    Fail("cannot backpropagate to the infogain matrix (bottom 2); set propagate_down: false "
         "for it");
  }
  if (!propagate_down[0]) return;
  const Blob& infogain = Infogain(bottom);
  if (bottom.size() >= 3) SumRows(infogain);  // H may have changed since the last batch
  const float* prob = prob_.cpu_data();
  const float* label = bottom[1]->cpu_data();
  const float* h = infogain.cpu_data();
  const float* sums = row_sums_.cpu_data();
  float* dx = bottom[0]->mutable_cpu_diff();
  const int channels = channels_, inner = inner_;
  const int n_labels = outer_ * inner_;
  const bool has_ignore = has_ignore_label_;
  const int ignore = ignore_label_;
  const float scale =
      top[0]->cpu_diff()[0] / LossNormalizer(normalization_, outer_, inner_, valid_count_);
#pragma omp parallel for if (static_cast<long>(n_labels) * channels >= kParallelMin) \
    schedule(static)
  for (int j = 0; j < n_labels; ++j) {
    const long base = static_cast<long>(j / inner) * channels * inner + j % inner;
    const int l = LossLabelValue(label[j]);
    // Forward rejected invalid labels; treating them as ignored here only guards memory.
    if ((has_ignore && l == ignore) || l < 0 || l >= channels) {
      for (int k = 0; k < channels; ++k) dx[base + static_cast<long>(k) * inner] = 0.f;
      continue;
    }
    const float* row = h + static_cast<long>(l) * channels;
    for (int k = 0; k < channels; ++k) {
      const long at = base + static_cast<long>(k) * inner;
      dx[at] = scale * (prob[at] * sums[l] - row[k]);
    }
  }
}

}  // namespace crema
