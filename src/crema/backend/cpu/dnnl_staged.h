// Helpers shared by the oneDNN-backed layers: executing a prepared primitive, and a tensor
// that its owner keeps in a plain layout while a primitive wants another.
//
// Thread-safety: a StagedTensor belongs to one layer, used by one thread at a time.
#ifndef CREMA_BACKEND_CPU_DNNL_STAGED_H_
#define CREMA_BACKEND_CPU_DNNL_STAGED_H_

#include <oneapi/dnnl/dnnl.hpp>

#include <vector>

namespace crema::cpu {

// Runs `primitive` on the calling thread's stream (dnnl_context.h) with arguments prepared
// once: the C call takes the array as is, where the C++ call would rebuild a map every time.
// Throws Unsupported when oneDNN reports an error.
void ExecutePrimitive(const dnnl::primitive& primitive,
                      const std::vector<dnnl_exec_arg_t>& args);

// A tensor kept by its owner in a plain layout (a blob) that a primitive may want in another.
// When the layouts differ, the reorder between the two is made once, by Init, and Sync moves
// the data across on every call. The copy in the wanted layout is the tensor's own buffer,
// or, for a tensor that lives only during one call (an activation), the calling thread's
// scratch slot (dnnl_context.h) that Bind points it at.
class StagedTensor {
 public:
  enum class Flow { kIn, kOut };

  // `user_md` is the plain layout, `wanted` the primitive's. With `own_user` the plain side
  // is a buffer allocated here (user_memory()); otherwise Bind points it at the caller's.
  // With `scratch_slot` >= 0 the wanted-layout copy is that scratch slot of the thread that
  // calls Bind, so its contents last only until the slot is used again.
  // Throws dnnl::error when oneDNN cannot make the reorder.
  void Init(const dnnl::memory::desc& user_md, const dnnl::memory::desc& wanted, Flow flow,
            bool own_user = false, int scratch_slot = -1);

  // Points the plain side at `data` (and a scratch-backed copy at its slot).
  void Bind(const float* data);
  // Moves the data across: plain → wanted for kIn, wanted → plain for kOut. No-op when the
  // layouts agree.
  void Sync() const {
    if (staged_) ExecutePrimitive(reorder_, reorder_args_);
  }
  // The memory the primitive reads or writes.
  dnnl_memory_t primitive_memory() const { return inner_.get(); }
  const dnnl::memory& user_memory() const { return user_; }

 private:
  dnnl::memory user_;
  dnnl::memory inner_;
  bool staged_ = false;
  int scratch_slot_ = -1;
  size_t inner_bytes_ = 0;
  dnnl::reorder reorder_;
  std::vector<dnnl_exec_arg_t> reorder_args_;
};

}  // namespace crema::cpu

#endif  // CREMA_BACKEND_CPU_DNNL_STAGED_H_
