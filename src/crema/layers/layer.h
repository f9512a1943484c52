// Layer: the unit of computation of a Net.
//
// A layer reads its bottom blobs and writes its top blobs (Forward), and propagates gradients
// from the tops' diffs back into the bottoms' diffs and into its own parameter blobs' diffs
// (Backward). The lifecycle lives here, once, in non-virtual functions:
//
//   SetUp(bottom, top)      check blob counts, LayerSetUp, Reshape, set up loss weights
//   Forward(bottom, top)    Reshape, ForwardCpu, return the weighted loss of loss tops
//   Backward(top, pd, bot)  BackwardCpu
//
// Subclasses fill the protected hooks and declare their arity through the Exact/Min/Max
// queries, so a net that wires a layer wrongly gets "Layer 'conv1' (Convolution) takes 1
// bottom blob, got 2" instead of a crash.
//
// Parameter blobs (weights, biases, statistics) are in blobs(); their order and shapes are
// the ones Caffe stores in a .caffemodel. A layer is used by one thread at a time.
//
// Errors: SetUp and Reshape throw crema::Error (InvalidArgument naming the layer) for bad
// parameters or shapes; SetUp names the layer in whatever it throws, and reports running out
// of memory as Unsupported. Forward/Backward never throw on inputs that passed Reshape.
#ifndef CREMA_LAYERS_LAYER_H_
#define CREMA_LAYERS_LAYER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "crema/core/blob.h"
#include "crema/core/error.h"
#include "crema/proto/caffe.pb.h"

namespace crema {

using BlobVec = std::vector<Blob*>;

class Layer {
 public:
  // Copies `param`; parameter blobs stored in `param.blobs()` are loaded by SetUp's caller
  // (Net), not here.
  explicit Layer(const caffe::LayerParameter& param);
  virtual ~Layer() = default;
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  // Validates blob counts, runs LayerSetUp and Reshape, and prepares loss weights.
  // Throws InvalidArgument naming the layer on bad parameters or bottom shapes.
  void SetUp(const BlobVec& bottom, const BlobVec& top);

  // Adapts top shapes (and internal buffers) to the bottom shapes. Called by SetUp and by
  // every Forward; a layer must make it cheap when shapes did not change.
  virtual void Reshape(const BlobVec& bottom, const BlobVec& top) = 0;

  // Computes the tops; returns Σ loss_weight · top for every top with a non-zero weight.
  float Forward(const BlobVec& bottom, const BlobVec& top);

  // Writes bottom[i]'s diff for every i with propagate_down[i], and accumulates into the
  // parameter blobs' diffs whose param_propagate_down is set.
  void Backward(const BlobVec& top, const std::vector<bool>& propagate_down,
                const BlobVec& bottom);

  // The registered type string ("Convolution").
  virtual const char* type() const = 0;

  // Arity declarations; -1 means "no constraint".
  virtual int ExactNumBottomBlobs() const { return -1; }
  virtual int MinBottomBlobs() const { return -1; }
  virtual int MaxBottomBlobs() const { return -1; }
  virtual int ExactNumTopBlobs() const { return -1; }
  virtual int MinTopBlobs() const { return -1; }
  virtual int MaxTopBlobs() const { return -1; }
  virtual bool EqualNumBottomTopBlobs() const { return false; }
  // When true, the net creates anonymous tops up to ExactNumTopBlobs/MinTopBlobs.
  virtual bool AutoTopBlobs() const { return false; }
  // False for inputs whose gradient is meaningless (labels): force_backward skips them.
  virtual bool AllowForceBackward(int /*bottom_index*/) const { return true; }

  // ---- What Backward reads, for the Net's memory plan ----
  // Whether Backward reads the values of bottom `bottom_index` (top `top_index`), as Forward
  // saw (left) them. A blob no Backward reads can lend its memory to other blobs once the
  // last Forward reading it has run. The default, true, is always safe; a layer answers false
  // only when its Backward never reads those values, in any configuration it accepts.
  virtual bool BackwardReadsBottomData(int /*bottom_index*/) const { return true; }
  virtual bool BackwardReadsTopData(int /*top_index*/) const { return true; }

  // ---- Per-channel affine layers, for inference fusion ----
  // When this layer's Forward, as set up, maps channel c (axis 1) of a bottom with `channels`
  // channels to scale[c]·x + shift[c], writes both (from the current parameters) and returns
  // true; otherwise returns false and writes nothing. Null `scale` and `shift` only ask.
  // BatchNorm with global statistics and a per-channel Scale answer true; a convolution
  // followed by them at inference folds them into its weights (Net::FuseForInference).
  virtual bool PerChannelAffine(int /*channels*/, float* /*scale*/, float* /*shift*/) const {
    return false;
  }

  // Asks this layer to also compute, at the end of its Forward, the per-channel affine maps of
  // `affines` (each answering PerChannelAffine for this layer's top channels; read at every
  // Forward, so their parameters may change) and then, when `relu`, a ReLU of slope
  // `relu_slope`: the layers that follow it in place at inference. Returns false, changing
  // nothing, when it cannot (the default); after true, the layer runs Forward only.
  virtual bool FuseEpilogue(std::vector<const Layer*> /*affines*/, bool /*relu*/,
                            float /*relu_slope*/) {
    return false;
  }

  // ---- Copies kept for Backward, shared between in-place neighbours ----
  // A layer that keeps a copy of its top `top_index` as Forward wrote it, unchanged until its
  // own Backward has run, returns that copy (BatchNorm keeps its normalised output); null for
  // the others. The copy's shape follows the top's.
  virtual const Blob* KeptTopCopy(int /*top_index*/) const { return nullptr; }
  // Offers a layer that would keep its own copy of bottom `bottom_index` (to run in place) a
  // copy someone else keeps: `copy` holds the bottom's values as this layer's Forward reads
  // them and keeps them until after this layer's Backward. The Net offers an earlier layer's
  // KeptTopCopy when nothing writes the blob in between; a layer that accepts (Scale) stops
  // making its own copy. REQUIRES: called before the first Forward.
  virtual void UseKeptBottomCopy(int /*bottom_index*/, const Blob* /*copy*/) {}

  std::vector<std::shared_ptr<Blob>>& blobs() { return blobs_; }
  const std::vector<std::shared_ptr<Blob>>& blobs() const { return blobs_; }
  const caffe::LayerParameter& layer_param() const { return layer_param_; }
  caffe::Phase phase() const { return phase_; }
  const std::string& name() const { return layer_param_.name(); }

  // "Layer 'conv1' (Convolution)", the prefix of every message about this layer.
  std::string Describe() const;

  // Loss weight of top `top_index` (0 when the top is not a loss).
  float loss(int top_index) const {
    return top_index < static_cast<int>(loss_.size()) ? loss_[top_index] : 0.f;
  }
  void set_loss(int top_index, float value);

  bool param_propagate_down(int param_index) const {
    return param_index < static_cast<int>(param_propagate_down_.size()) &&
           param_propagate_down_[param_index];
  }
  void set_param_propagate_down(int param_index, bool value);

  // Writes the layer's parameter and blobs (with diffs when asked), as a caffemodel holds it.
  void ToProto(caffe::LayerParameter* param, bool write_diff = false) const;

  // Sequential data layers skip `batches` batches of their dataset, so a run resumed from a
  // snapshot reads what the interrupted run would have read next; layers with random draws
  // per pass (Dropout) move on to the pass that comes next. Other layers ignore it.
  // REQUIRES: called before the first Forward.
  virtual void SkipBatches(int64_t /*batches*/) {}

  // Seconds the last Forward waited for input data (data layers with a prefetch queue);
  // 0 for every other layer. The solver reports it per iteration.
  virtual double last_data_wait_seconds() const { return 0; }

  // ---- Layers that read a dataset (Data, ImageData, HDF5Data) ----
  // How many samples one pass over this rank's part of the dataset holds: its shard in a job
  // (data/shard.h), the whole dataset when not sharding; 0 for a TEST rank left without a
  // batch (it reads the first batch's range but owns none of it). -1 for every other layer.
  virtual int64_t samples_per_pass() const { return -1; }
  // Asks the layer to name the samples of each batch it emits from the next Forward on
  // (batch_ids()). Off by default, so training pays nothing for names.
  // Throws Unsupported naming the layer for a layer that reads no dataset.
  // REQUIRES: SetUp has run.
  virtual void set_keep_batch_ids(bool keep);
  // When kept, the ids of the samples of the batch the last Forward emitted, in batch order
  // (batch_ids()[n] names item n of the tops): Data gives the record's LMDB key, ImageData
  // the list file's path of the image, HDF5Data "<file as listed>:<row in that file>". An
  // empty id marks an item that stands in for a sample that could not be read (ImageData).
  // The list is empty before the first Forward with ids kept, and for every other layer.
  virtual const std::vector<std::string>& batch_ids() const;

  // Whether Backward will be called for this layer (layers with learnable parameters, loss
  // layers, and those a gradient flows through). Set by the Net before the first Forward;
  // true for a layer used on its own. When false, Forward may skip keeping what only
  // Backward reads (Scale's copy of its input).
  bool need_backward() const { return need_backward_; }
  void set_need_backward(bool value) { need_backward_ = value; }

 protected:
  // One-time setup from layer_param_: parse parameters, create and fill parameter blobs.
  virtual void LayerSetUp(const BlobVec& /*bottom*/, const BlobVec& /*top*/) {}
  virtual void ForwardCpu(const BlobVec& bottom, const BlobVec& top) = 0;
  virtual void BackwardCpu(const BlobVec& top, const std::vector<bool>& propagate_down,
                           const BlobVec& bottom) = 0;

  // The batch this rank's data layer reads for a configured batch_size (`field` names it in
  // errors): batch_size itself, or its share when the job splits TRAIN batches between ranks
  // (RankInfo::split_train_batch). Throws InvalidArgument for 0, too large, or not divisible.
  int RankBatchSize(uint32_t configured, const char* field) const;

  // Throws InvalidArgument prefixed with Describe().
  template <typename... Args>
  [[noreturn]] void Fail(const Args&... args) const {
    throw InvalidArgument(StrCat(Describe(), ": ", args...));
  }

  caffe::LayerParameter layer_param_;
  caffe::Phase phase_;
  std::vector<std::shared_ptr<Blob>> blobs_;
  std::vector<bool> param_propagate_down_;
  std::vector<float> loss_;

 private:
  void CheckBlobCounts(const BlobVec& bottom, const BlobVec& top) const;
  // Stores each top's loss weight in its diff so Forward can weight the loss by a dot product.
  void SetLossWeights(const BlobVec& top);

  bool need_backward_ = true;
};

// Base of layers that compute a loss: top[0] defaults to loss_weight 1 and is a scalar;
// bottom[0] holds predictions and bottom[1] targets with the same outer dimension.
class LossLayer : public Layer {
 public:
  explicit LossLayer(const caffe::LayerParameter& param);
  int ExactNumBottomBlobs() const override { return 2; }
  int ExactNumTopBlobs() const override { return 1; }
  bool AutoTopBlobs() const override { return true; }
  // Labels have no gradient.
  bool AllowForceBackward(int bottom_index) const override { return bottom_index != 1; }
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;
};

// Base of element-wise layers: one bottom, one top of the same shape (may be in place).
class NeuronLayer : public Layer {
 public:
  using Layer::Layer;
  int ExactNumBottomBlobs() const override { return 1; }
  int ExactNumTopBlobs() const override { return 1; }
  void Reshape(const BlobVec& bottom, const BlobVec& top) override;
};

}  // namespace crema

#endif  // CREMA_LAYERS_LAYER_H_
