#include "crema/dist/gradient_sync.h"

#include <glog/logging.h>

#include <algorithm>
#include <cstdlib>
#include <string_view>

#include "crema/core/error.h"
#include "crema/dist/async_sgd.h"
#include "crema/dist/bucketed_allreduce.h"
#include "crema/dist/local_sgd.h"

namespace crema {

SyncOptions::Mode ParseSyncMode(const std::string& text, int* local_steps) {
  *local_steps = 1;
  if (text == "bsp") return SyncOptions::Mode::kBsp;
  if (text == "async") return SyncOptions::Mode::kAsync;
  const std::string prefix = "local_sgd:";
  if (text.rfind(prefix, 0) == 0) {
    const std::string k = text.substr(prefix.size());
    char* end = nullptr;
    const long steps = std::strtol(k.c_str(), &end, 10);
    if (!k.empty() && *end == '\0' && steps >= 1 && steps <= 1000000) {
      *local_steps = static_cast<int>(steps);
      return SyncOptions::Mode::kLocalSgd;
    }
  }
  throw InvalidArgument(StrCat("-sync must be bsp, async or local_sgd:K with K >= 1, got '",
                               text, "'"));
}

const char* SyncModeName(SyncOptions::Mode mode) {
  switch (mode) {
    case SyncOptions::Mode::kBsp: return "bsp";
    case SyncOptions::Mode::kLocalSgd: return "local_sgd";
    case SyncOptions::Mode::kAsync: return "async";
  }
  return "";
}

std::unique_ptr<GradientSync> GradientSync::Create(const SyncOptions& options,
                                                   Communicator* comm, Solver* solver) {
  std::unique_ptr<GradientSync> sync;
  switch (options.mode) {
    case SyncOptions::Mode::kBsp:
      sync.reset(new BucketedAllreduce(options, comm, solver));
      break;
    case SyncOptions::Mode::kLocalSgd:
      sync.reset(new LocalSgd(options, comm, solver));
      break;
    case SyncOptions::Mode::kAsync:
      sync.reset(new AsyncSgd(options, comm, solver));
      break;
  }
  solver->AddCallback(sync.get());
  solver->SetCollective(sync.get());
  GradientSync* raw = sync.get();
  solver->net()->set_after_backward([raw](int layer_id) { raw->OnLayerBackward(layer_id); });
  return sync;
}

GradientSync::GradientSync(const SyncOptions& options, Communicator* comm, Solver* solver)
    : options_(options), comm_(comm), solver_(solver), net_(solver->net()) {}

GradientSync::~GradientSync() { net_->set_after_backward(nullptr); }

std::vector<Blob*> GradientSync::TrainedParams() const {
  std::vector<Blob*> trained;
  const auto& params = net_->learnable_params();
  for (size_t i = 0; i < params.size(); ++i) {
    if (net_->params_lr()[i] != 0.f) trained.push_back(params[i]);
  }
  return trained;
}

std::vector<Blob*> GradientSync::RunningStatistics() const {
  std::vector<Blob*> statistics;
  for (size_t i = 0; i < net_->params().size(); ++i) {
    if (net_->param_owners()[i] >= 0) continue;  // a shared blob is its owner's
    const int layer = net_->param_layer_indices()[i].first;
    if (std::string_view(net_->layers()[static_cast<size_t>(layer)]->type()) == "BatchNorm") {
      statistics.push_back(net_->params()[i].get());
    }
  }
  return statistics;
}

void GradientSync::OnSynchronizeModel() {
  if (!comm_->distributed()) return;
  const float scale = 1.f / static_cast<float>(comm_->world_size());
  for (Blob* p : RunningStatistics()) {
    comm_->AllreduceSum(p->mutable_cpu_data(), p->count(),
                        "the average of BatchNorm statistics before a test or snapshot");
    p->scale_data(scale);
  }
}

void GradientSync::BroadcastModel(bool with_state) {
  for (Blob* p : net_->learnable_params()) {
    comm_->Broadcast(p->mutable_cpu_data(), p->count(), 0, "the broadcast of rank 0's weights");
  }
  if (!with_state) return;
  int64_t state[2] = {solver_->iter(), solver_->current_step()};
  comm_->Broadcast(state, 2, 0, "the broadcast of rank 0's solver state");
  for (const auto& h : solver_->history()) {
    comm_->Broadcast(h->mutable_cpu_data(), h->count(), 0, "the broadcast of rank 0's solver history");
  }
  if (comm_->rank() != 0) solver_->SetState(static_cast<int>(state[0]), static_cast<int>(state[1]));
}

void GradientSync::AverageWeights(const char* what) {
  const float scale = 1.f / static_cast<float>(comm_->world_size());
  for (Blob* p : TrainedParams()) {
    comm_->AllreduceSum(p->mutable_cpu_data(), p->count(), what);
    p->scale_data(scale);
  }
}

void GradientSync::SumAcrossRanks(double* values, int count) {
  comm_->AllreduceSum(values, count, "the sum of test outputs over ranks");
}

void GradientSync::OnStart() {
  const Clock::time_point now = Clock::now();
  if (have_last_end_) window_total_ += std::chrono::duration<double>(now - last_iteration_end_).count();
  last_iteration_end_ = now;
  have_last_end_ = true;
  iteration_start_ = now;
}

void GradientSync::OnGradientsReady() {
  const Clock::time_point ready = Clock::now();
  window_compute_ += std::chrono::duration<double>(ready - iteration_start_).count();
  comm_->Arrive(solver_->iter());
  SynchronizeGradients();
  window_comm_ += std::chrono::duration<double>(Clock::now() - ready).count();
  ++window_iterations_;
}

SolverAction GradientSync::AgreeOnAction(SolverAction local) {
  if (!comm_->distributed()) return local;
  // One iteration late: this iteration's requests are combined while the next one computes.
  // Codes ordered so that the maximum over ranks prefers stop, then snapshot.
  SolverAction agreed = SolverAction::kNone;
  if (action_request_.active()) {
    comm_->Wait(&action_request_);
    agreed = action_buffer_ == 2   ? SolverAction::kStop
             : action_buffer_ == 1 ? SolverAction::kSnapshot
                                   : SolverAction::kNone;
  }
  action_buffer_ = local == SolverAction::kStop ? 2 : local == SolverAction::kSnapshot ? 1 : 0;
  comm_->StartAllreduceMax(&action_buffer_, "agreement on signal requests", &action_request_);
  return agreed;
}

void GradientSync::OnSolveEnd() {
  Finish();
  comm_->Wait(&action_request_);
}

void GradientSync::FillIterationStats(IterationStats* stats) {
  const int n = std::max(window_iterations_, 1);
  const double per_iteration = window_total_ / n;
  std::vector<double> per_rank;
  comm_->GatherToRoot(per_iteration, &per_rank, "the gather of per-rank iteration times");
  stats->ranks = comm_->world_size();
  stats->job_images_per_second = stats->images_per_second * comm_->world_size();
  stats->compute_ms = 1000 * window_compute_ / n;
  stats->exposed_comm_ms = 1000 * window_comm_ / n;
  if (!per_rank.empty()) {
    const auto slowest = std::max_element(per_rank.begin(), per_rank.end());
    stats->slowest_rank = static_cast<int>(slowest - per_rank.begin());
    stats->slowest_rank_ms = 1000 * *slowest;
  }
  window_compute_ = window_comm_ = window_total_ = 0;
  window_iterations_ = 0;
}

}  // namespace crema
