// Net: a directed acyclic graph of layers built from a NetParameter.
//
// Construction filters layers by the net's NetState (phase, level, stages), inserts Split
// layers where a blob feeds several consumers, creates every layer through the registry,
// wires bottoms to tops (in-place when a layer's top reuses its bottom's name), shares
// parameters that carry the same ParamSpec name, and decides which layers need Backward:
// only those under a loss and above a learnable parameter or a bottom that asks for a
// gradient (force_backward and propagate_down adjust this as in Caffe).
//
// Forward runs every layer in order and returns the total weighted loss; Backward runs them in
// reverse. Neither allocates once shapes are stable. A Net is used by one thread at a time.
//
// Errors: the constructor throws crema::Error naming the layer for unknown types, missing
// bottoms, duplicate tops, bad parameters and mismatched shared parameters.
#ifndef CREMA_NET_NET_H_
#define CREMA_NET_NET_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "crema/core/blob.h"
#include "crema/layers/layer.h"
#include "crema/layers/registry.h"
#include "crema/proto/caffe.pb.h"

namespace crema {

class Net {
 public:
  // Builds the net described by `param` for `param.state()`. `param` must already be in the
  // current format (io/upgrade.h does that for files). `implementation` kReference builds
  // every layer in its plain reference form (layers/registry.h), to check the fast one.
  explicit Net(const caffe::NetParameter& param,
               LayerImplementation implementation = LayerImplementation::kFast);
  Net(const Net&) = delete;
  Net& operator=(const Net&) = delete;

  // Runs all layers; returns the total loss and the output blobs (tops nobody consumes).
  const std::vector<Blob*>& Forward(float* loss = nullptr);
  float ForwardFromTo(int start, int end);
  // Runs Backward of every layer that needs it, last to first.
  void Backward();
  void BackwardFromTo(int start, int end);
  float ForwardBackward() {
    float loss;
    Forward(&loss);
    Backward();
    return loss;
  }
  // Called after each layer's Backward with the layer's index (layers run last to first), so
  // gradient synchronisation can start on parameters whose gradients are complete.
  void set_after_backward(std::function<void(int layer_id)> callback) {
    after_backward_ = std::move(callback);
  }

  // Reshapes every layer, e.g. after an input blob changed shape.
  void Reshape();

  // Lets the blobs between layers share one arena where their lifetimes do not overlap
  // (net/memory_plan.h). On a timeline of every layer's Forward, then every Backward:
  //  * a blob's values live from the first Forward that touches them to the last one, or, in
  //    training, to the last Backward that reads them (Layer::BackwardReadsBottomData and
  //    BackwardReadsTopData); at inference the whole net runs in the memory of a few layers;
  //  * in training, a blob's gradient lives from the Backward of its consumer, which writes
  //    it, to that of its producer, which reads it last.
  // Buffers read outside that window keep their own memory: parameters, net outputs, the
  // blobs named in `keep`, the tops of layers without bottoms (inputs a caller fills, data
  // layers), loss tops (their diff holds the loss weight), gradients no Backward writes and
  // gradients some Backward would read before another writes them (a consumer with
  // propagate_down false). Blobs that share a buffer (Split, Flatten, Reshape) are planned as
  // one. After this call the planned blobs hold their values only within their windows: read
  // only outputs and kept blobs after Forward. Planned with `training` false, the net runs
  // Forward only: its layers are told no Backward follows (Layer::need_backward), and Backward
  // does nothing. A blob that later grows past its planned size gets its own buffer again.
  // The Solver plans its nets this way. A net is planned once: a second call throws
  // InvalidArgument (its blobs point into the first plan's arena).
  struct MemoryPlanOptions {
    bool training = true;           // Backward will run after each Forward
    std::vector<std::string> keep;  // blobs callers read after Forward
  };
  struct MemoryPlan {
    int data_blobs = 0;         // blobs whose values now live in the arena
    int diff_blobs = 0;         // blobs whose gradients now live in the arena
    size_t separate_bytes = 0;  // what those buffers took one each
    size_t arena_bytes = 0;     // what they take now
  };
  MemoryPlan PlanMemory(const MemoryPlanOptions& options);

  // Folds the layers that follow a layer in place into it, where it accepts them
  // (Layer::FuseEpilogue: a Convolution does, an Eltwise SUM takes a ReLU), for a net that
  // runs Forward only: BatchNorm with global statistics and per-channel Scale layers into its
  // weights and bias (recomputed at every Forward, so parameters shared with a training net
  // may change), then one ReLU into its output. The folded layers no longer run; every blob still ends each Forward with
  // the values the unfused net leaves (in-place intermediates are not observable). Returns how
  // many layers were folded. REQUIRES: the net runs Forward only (PlanMemory with `training`
  // false says so); Backward throws afterwards.
  int FuseForInference();

  // Multiplies every gradient the loss produces by `scale` (it is folded into the loss
  // weights' seeds of backward); the losses Forward reports are not scaled. Data-parallel
  // training uses 1/ranks so that summing gradients over ranks averages them, with no extra
  // pass over the gradients. REQUIRES: scale > 0.
  void SetLossScale(float scale);
  float loss_scale() const { return loss_scale_; }

  // Zeroes the diffs of all learnable parameters.
  void ClearParamDiffs();
  // data -= diff for every learnable parameter.
  void Update();

  // Copies parameter blobs from a trained net, matching layers by name. Unknown names are
  // skipped (logged); a blob count or shape mismatch throws InvalidArgument naming the layer
  // and both shapes.
  void CopyTrainedLayersFrom(const caffe::NetParameter& trained);
  // Reads a .caffemodel (binary NetParameter, legacy formats upgraded) or a .caffemodel.h5
  // (HDF5: a name ending in ".h5" or HDF5 contents, net/net_hdf5.h) and copies from it.
  // Throws what CopyTrainedLayersFrom throws, and InvalidArgument when the net has layers
  // with parameters and the model names none of them (the model of another net); every
  // message names the file.
  void CopyTrainedLayersFromFile(const std::string& path);
  // Makes this net's parameters share memory with the same-named layers of `other` (test
  // nets share the train net's weights). Shapes must match.
  void ShareTrainedLayersWith(const Net& other);
  // The net as Caffe writes a .caffemodel: one LayerParameter per instantiated layer
  // (Splits included) with its current blobs.
  void ToProto(caffe::NetParameter* param, bool write_diff = false) const;

  const std::string& name() const { return name_; }
  caffe::Phase phase() const { return phase_; }
  const std::vector<std::unique_ptr<Layer>>& layers() const { return layers_; }
  const std::vector<std::string>& layer_names() const { return layer_names_; }
  const std::vector<std::string>& blob_names() const { return blob_names_; }
  const std::vector<std::shared_ptr<Blob>>& blobs() const { return blobs_; }
  const std::vector<BlobVec>& bottom_vecs() const { return bottom_vecs_; }
  const std::vector<BlobVec>& top_vecs() const { return top_vecs_; }
  const std::vector<int>& top_ids(int layer_id) const { return top_id_vecs_[layer_id]; }
  const std::vector<int>& bottom_ids(int layer_id) const { return bottom_id_vecs_[layer_id]; }
  const std::vector<bool>& layer_need_backward() const { return layer_need_backward_; }
  // Whether layer `i` was folded into the layer before it (FuseForInference) and so no
  // longer runs.
  bool layer_folded(int i) const { return !layer_folded_.empty() && layer_folded_[i]; }
  const std::vector<std::vector<bool>>& bottom_need_backward() const {
    return bottom_need_backward_;
  }
  const std::vector<float>& blob_loss_weights() const { return blob_loss_weights_; }

  // Every parameter blob, in layer order then blob order; shared ones appear at each user.
  const std::vector<std::shared_ptr<Blob>>& params() const { return params_; }
  // The owners only: what a solver updates and a .solverstate stores history for.
  const std::vector<Blob*>& learnable_params() const { return learnable_params_; }
  const std::vector<float>& params_lr() const { return params_lr_; }
  const std::vector<float>& params_weight_decay() const { return params_weight_decay_; }
  // Index of params()[i]'s owner, or -1 when it owns itself.
  const std::vector<int>& param_owners() const { return param_owners_; }
  const std::vector<std::string>& param_display_names() const { return param_display_names_; }
  // For params()[i]: (layer index, blob index within the layer).
  const std::vector<std::pair<int, int>>& param_layer_indices() const {
    return param_layer_indices_;
  }
  // For params()[i]: the index of its owner in learnable_params().
  const std::vector<int>& learnable_param_ids() const { return learnable_param_ids_; }

  const std::vector<Blob*>& output_blobs() const { return output_blobs_; }
  const std::vector<int>& output_blob_indices() const { return output_blob_indices_; }
  bool has_blob(const std::string& name) const { return blob_index_.count(name) > 0; }
  // Throws NotFound when absent.
  Blob* blob_by_name(const std::string& name) const;
  bool has_layer(const std::string& name) const { return layer_index_.count(name) > 0; }
  Layer* layer_by_name(const std::string& name) const;
  int layer_index(const std::string& name) const;

 private:
  void AppendTop(const caffe::LayerParameter& param, int layer_id, int top_id,
                 std::map<std::string, int>* available);
  int AppendBottom(const caffe::LayerParameter& param, int layer_id, int bottom_id,
                   std::map<std::string, int>* available);
  void AppendParam(int layer_id, int param_id);
  // Throws unless one of `model_layers` names a layer of this net that has parameters (or
  // none has any).
  void CheckModelFits(const std::vector<std::string>& model_layers) const;
  void DecideBackward(bool force_backward);
  // Offers each layer the copies of its bottoms that the layers writing them keep anyway
  // (Layer::KeptTopCopy, UseKeptBottomCopy).
  void ShareKeptCopies();

  std::string name_;
  caffe::Phase phase_;
  std::vector<std::unique_ptr<Layer>> layers_;
  std::vector<std::string> layer_names_;
  std::map<std::string, int> layer_index_;
  std::vector<std::shared_ptr<Blob>> blobs_;
  std::vector<std::string> blob_names_;
  std::map<std::string, int> blob_index_;
  std::vector<bool> blob_need_backward_;
  std::vector<float> blob_loss_weights_;
  std::vector<BlobVec> bottom_vecs_;
  std::vector<std::vector<int>> bottom_id_vecs_;
  std::vector<std::vector<bool>> bottom_need_backward_;
  std::vector<BlobVec> top_vecs_;
  std::vector<std::vector<int>> top_id_vecs_;
  std::vector<bool> layer_need_backward_;
  std::vector<bool> layer_folded_;  // run inside the layer before them (FuseForInference)

  std::vector<std::shared_ptr<Blob>> params_;
  std::vector<std::pair<int, int>> param_layer_indices_;
  std::vector<int> param_owners_;
  std::vector<std::string> param_display_names_;
  std::map<std::string, int> param_names_index_;
  std::vector<Blob*> learnable_params_;
  std::vector<int> learnable_param_ids_;
  std::vector<float> params_lr_;
  std::vector<bool> has_params_lr_;
  std::vector<float> params_weight_decay_;
  std::vector<bool> has_params_decay_;

  std::vector<Blob*> output_blobs_;
  std::vector<int> output_blob_indices_;
  std::function<void(int)> after_backward_;
  float loss_scale_ = 1.f;
  std::shared_ptr<SyncedMemory> memory_arena_;  // PlanMemory's
  bool memory_planned_ = false;
};

}  // namespace crema

#endif  // CREMA_NET_NET_H_
