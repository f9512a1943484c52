#include "crema/layers/infogain_loss_layer.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "crema/io/proto_io.h"

namespace crema {

InfogainLossLayer::InfogainLossLayer(const caffe::LayerParameter& param) : LossLayer(param) {}

void InfogainLossLayer::LayerSetUp(const BlobVec& bottom, const BlobVec& /*top*/) {
  const caffe::LossParameter& loss = layer_param_.loss_param();
  // The deprecated field predates this layer's normalisation; accepting it would guess.
  if (loss.has_normalize()) {
    Fail("loss_param.normalize is deprecated and not accepted here; use "
         "loss_param.normalization (FULL, VALID, BATCH_SIZE or NONE)");
  }
  // The softmax works along infogain_loss_param.axis.
  caffe::SoftmaxParameter softmax_param;
  softmax_param.set_axis(layer_param_.infogain_loss_param().axis());
  softmax_.SetUp(layer_param_, softmax_param, loss.normalization());

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
  const int axis = LabeledSoftmax::ClassAxis(*this, "infogain_loss_param.axis",
                                             layer_param_.infogain_loss_param().axis(),
                                             *bottom[0]);
  LossLayer::Reshape(bottom, top);
  softmax_.Reshape(*this, axis, bottom, top);
  const int channels = softmax_.channels();
  const Blob& h = Infogain(bottom);
  if (static_cast<long>(h.count()) != static_cast<long>(channels) * channels) {
    Fail("needs a ", channels, "×", channels, " infogain matrix for ", channels,
         " classes, got one of shape ", h.shape_string(), " from ",
         bottom.size() >= 3 ? std::string("bottom 2")
                            : StrCat("infogain_loss_param.source '",
                                     layer_param_.infogain_loss_param().source(), "'"));
  }
  row_sums_.Reshape(std::vector<int>{channels});
  // A matrix read from file never changes, so its row sums are ready for Backward now.
  if (bottom.size() < 3) SumRows(infogain_);
}

void InfogainLossLayer::SumRows(const Blob& infogain) {
  const float* h = infogain.cpu_data();
  float* sums = row_sums_.mutable_cpu_data();
  const int channels = softmax_.channels();
  for (int y = 0; y < channels; ++y) {
    double s = 0;
    for (int k = 0; k < channels; ++k) s += h[static_cast<long>(y) * channels + k];
    sums[y] = static_cast<float>(s);
  }
}

void InfogainLossLayer::ForwardCpu(const BlobVec& bottom, const BlobVec& top) {
  const float* prob = softmax_.Forward();
  const float* h = Infogain(bottom).cpu_data();
  const int channels = softmax_.channels(), inner = softmax_.inner();
  // Σ_k H[label, k] · log p[k], each p clamped at kLogThreshold.
  top[0]->mutable_cpu_data()[0] =
      softmax_.Loss(*this, bottom[1]->cpu_data(), [=](int label, long base) {
        const float* row = h + static_cast<long>(label) * channels;
        double term = 0;
        for (int k = 0; k < channels; ++k) {
          const float p = std::max(prob[base + static_cast<long>(k) * inner], kLogThreshold);
          term += static_cast<double>(row[k]) * std::log(p);
        }
        return term;
      });
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
  const float* prob = softmax_.prob();
  const float* h = infogain.cpu_data();
  const float* sums = row_sums_.cpu_data();
  const int channels = softmax_.channels();
  softmax_.Backward(bottom[1]->cpu_data(), top[0]->cpu_diff()[0], bottom[0]->mutable_cpu_diff(),
                    [=](int label, int c, long at) {
                      return prob[at] * sums[label] - h[static_cast<long>(label) * channels + c];
                    });
}

}  // namespace crema
