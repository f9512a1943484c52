// GradientSync: how the ranks of a data-parallel job combine their work, installed into a
// Solver as its SolverCallback and SolverCollective.
//
// Every strategy starts the ranks identical (rank 0's weights, and its solver state after a
// resume, are broadcast), agrees on signal requests so all ranks stop or snapshot at the same
// iteration, lets rank 0 alone write snapshots, splits test passes between ranks, and reports
// job-wide figures at display time. They differ in what happens each iteration:
//
//   bsp            (the default) gradients are averaged over ranks every iteration by
//                  allreduce over buckets of parameters, each bucket started as soon as
//                  backward has produced it, so communication overlaps the rest of backward.
//                  Equals single-process training on the combined batch.
//   local_sgd:K    each rank steps on its own gradients; weights are averaged every K
//                  iterations (and before every test or snapshot). K times fewer, but
//                  whole-model, synchronisations; ranks drift apart in between.
//   async          a step never waits for communication: the averaged gradient of iteration
//                  i is applied at iteration i+1 (at most one step late), while iteration i+1
//                  computes. Ranks stay identical; the update is one step stale.
//
// Threading: everything runs on the solver's thread (MPI is funnelled through it).
#ifndef CREMA_DIST_GRADIENT_SYNC_H_
#define CREMA_DIST_GRADIENT_SYNC_H_

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "crema/dist/communicator.h"
#include "crema/solver/solver.h"

namespace crema {

struct SyncOptions {
  enum class Mode { kBsp, kLocalSgd, kAsync };
  Mode mode = Mode::kBsp;
  int local_steps = 1;          // K of local_sgd:K
  double bucket_mb = 4;         // bsp: size of a gradient bucket
  double first_bucket_mb = 1;   // bsp: the first (last layers') bucket, small so it starts early
};

// Parses -sync: "bsp", "local_sgd:K" (K >= 1) or "async". Throws InvalidArgument otherwise.
SyncOptions::Mode ParseSyncMode(const std::string& text, int* local_steps);
const char* SyncModeName(SyncOptions::Mode mode);

class GradientSync : public SolverCallback, public SolverCollective {
 public:
  // Creates the strategy and installs it into `solver` (callback, collective, the net's
  // backward hook). Neither is owned; both must outlive it.
  static std::unique_ptr<GradientSync> Create(const SyncOptions& options, Communicator* comm,
                                              Solver* solver);
  ~GradientSync() override;

  // Makes every rank's weights (and, with `with_state`, iteration, lr step and history) rank
  // 0's. Collective. Call once after the solver is built and rank 0 loaded -weights or
  // restored -snapshot.
  void BroadcastModel(bool with_state);

  // SolverCollective.
  int rank() const override { return comm_->rank(); }
  int world_size() const override { return comm_->world_size(); }
  void SumAcrossRanks(double* values, int count) override;

  // SolverCallback (the strategy-independent parts).
  void OnStart() override;
  void OnGradientsReady() override;
  SolverAction AgreeOnAction(SolverAction local) override;
  void FillIterationStats(IterationStats* stats) override;
  void OnSolveEnd() override;
  // Averages the running statistics (RunningStatistics) over ranks.
  void OnSynchronizeModel() override;

 protected:
  GradientSync(const SyncOptions& options, Communicator* comm, Solver* solver);

  // Called after layer `layer_id`'s backward (layers run last to first).
  virtual void OnLayerBackward(int layer_id) { (void)layer_id; }
  // Turns this rank's gradients into the ones to apply. Time spent here counts as exposed
  // communication.
  virtual void SynchronizeGradients() = 0;
  // Completes anything in flight at the end of training.
  virtual void Finish() {}

  // Average of every learnable parameter's data over ranks (blocking).
  void AverageWeights(const char* what);
  std::vector<Blob*> TrainedParams() const;  // learnable params with lr_mult != 0
  // Parameter blobs a layer updates itself during Forward (BatchNorm's running mean,
  // variance and factor): they follow each rank's shard of the data, so they are averaged
  // whenever the model is synchronised, or every rank would test and save its own.
  std::vector<Blob*> RunningStatistics() const;

  SyncOptions options_;
  Communicator* comm_;
  Solver* solver_;
  Net* net_;

 private:
  using Clock = std::chrono::steady_clock;
  Clock::time_point iteration_start_;
  double window_compute_ = 0;  // seconds, since the last display
  double window_comm_ = 0;
  double window_total_ = 0;
  int window_iterations_ = 0;
  Clock::time_point last_iteration_end_;
  bool have_last_end_ = false;

  int64_t action_buffer_ = 0;  // in flight: the max over ranks of the requests
  Communicator::Request action_request_;
};

}  // namespace crema

#endif  // CREMA_DIST_GRADIENT_SYNC_H_
