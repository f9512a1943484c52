#include "crema/dist/async_sgd.h"

#include <cstring>

namespace crema {

AsyncSgd::AsyncSgd(const SyncOptions& options, Communicator* comm, Solver* solver)
    : GradientSync(options, comm, solver), params_(TrainedParams()) {
  int64_t count = 0;
  for (const Blob* p : params_) count += p->count();
  in_flight_.assign(static_cast<size_t>(count), 0.f);
  staged_.assign(static_cast<size_t>(count), 0.f);
  if (comm->distributed()) net_->SetLossScale(1.f / static_cast<float>(comm->world_size()));
}

void AsyncSgd::OnLayerBackward(int /*layer_id*/) {
  if (have_in_flight_) comm_->Test(&request_);  // progress while computing
}

void AsyncSgd::SynchronizeGradients() {
  if (!comm_->distributed()) return;
  // The loss scale (1/world_size, set in the constructor) makes the sum an average.
  size_t offset = 0;
  for (const Blob* p : params_) {
    std::memcpy(staged_.data() + offset, p->cpu_diff(), sizeof(float) * static_cast<size_t>(p->count()));
    offset += static_cast<size_t>(p->count());
  }
  // Last iteration's average has had a whole step to complete.
  comm_->Wait(&request_);
  offset = 0;
  for (Blob* p : params_) {
    float* diff = p->mutable_cpu_diff();
    if (have_in_flight_) {
      std::memcpy(diff, in_flight_.data() + offset, sizeof(float) * static_cast<size_t>(p->count()));
    } else {
      std::memset(diff, 0, sizeof(float) * static_cast<size_t>(p->count()));
    }
    offset += static_cast<size_t>(p->count());
  }
  in_flight_.swap(staged_);
  comm_->StartAllreduceSum(in_flight_.data(), static_cast<int>(in_flight_.size()),
                           "the asynchronous gradient allreduce", -1, &request_);
  have_in_flight_ = true;
}

void AsyncSgd::Finish() {
  // The last iteration's average is never applied; complete it so MPI stays in step.
  comm_->Wait(&request_);
  have_in_flight_ = false;
}

}  // namespace crema
