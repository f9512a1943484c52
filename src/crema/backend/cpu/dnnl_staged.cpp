#include "crema/backend/cpu/dnnl_staged.h"

#include "crema/backend/cpu/dnnl_context.h"
#include "crema/core/error.h"

namespace crema::cpu {

void ExecutePrimitive(const dnnl::primitive& primitive,
                      const std::vector<dnnl_exec_arg_t>& args) {
  const dnnl_status_t status = dnnl_primitive_execute(
      primitive.get(), DnnlStream().get(), static_cast<int>(args.size()), args.data());
  if (status != dnnl_success) {
    throw Unsupported(StrCat("oneDNN failed to execute a primitive (status ",
                             static_cast<int>(status), ")"));
  }
}

void StagedTensor::Init(const dnnl::memory::desc& user_md, const dnnl::memory::desc& wanted,
                        Flow flow, bool own_user, int scratch_slot) {
  const dnnl::engine& engine = DnnlEngine();
  user_ = own_user ? dnnl::memory(user_md, engine)
                   : dnnl::memory(user_md, engine, DNNL_MEMORY_NONE);
  staged_ = !(wanted == user_md);
  if (!staged_) {
    inner_ = user_;
    return;
  }
  scratch_slot_ = scratch_slot;
  inner_bytes_ = wanted.get_size();
  inner_ = scratch_slot >= 0 ? dnnl::memory(wanted, engine, DNNL_MEMORY_NONE)
                             : dnnl::memory(wanted, engine);
  const dnnl::memory& from = flow == Flow::kIn ? user_ : inner_;
  const dnnl::memory& to = flow == Flow::kIn ? inner_ : user_;
  reorder_ = dnnl::reorder(from, to);
  reorder_args_ = {{DNNL_ARG_FROM, from.get()}, {DNNL_ARG_TO, to.get()}};
}

void StagedTensor::Bind(const float* data) {
  user_.set_data_handle(const_cast<float*>(data));
  if (staged_ && scratch_slot_ >= 0) {
    inner_.set_data_handle(ThreadScratch(scratch_slot_, inner_bytes_));
  }
}

}  // namespace crema::cpu
