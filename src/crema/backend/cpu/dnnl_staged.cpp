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
                        Flow flow, bool own_user) {
  const dnnl::engine& engine = DnnlEngine();
  user_ = own_user ? dnnl::memory(user_md, engine)
                   : dnnl::memory(user_md, engine, DNNL_MEMORY_NONE);
  staged_ = !(wanted == user_md);
  if (!staged_) {
    inner_ = user_;
    return;
  }
  inner_ = dnnl::memory(wanted, engine);
  const dnnl::memory& from = flow == Flow::kIn ? user_ : inner_;
  const dnnl::memory& to = flow == Flow::kIn ? inner_ : user_;
  reorder_ = dnnl::reorder(from, to);
  reorder_args_ = {{DNNL_ARG_FROM, from.get()}, {DNNL_ARG_TO, to.get()}};
}

}  // namespace crema::cpu
