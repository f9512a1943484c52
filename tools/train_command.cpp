// crema train: Caffe's `caffe train`, with a metrics file and resumable data.
#include <glog/logging.h>
#include <omp.h>

#include <algorithm>
#include <csignal>
#include <filesystem>
#include <memory>

#include "commands.h"
#include "crema/core/error.h"
#include "crema/io/proto_io.h"
#include "crema/solver/metrics_file.h"
#include "crema/dist/gradient_sync.h"
#include "crema/solver/solver.h"
#include "job.h"

namespace crema::tools {

namespace {

volatile std::sig_atomic_t g_sigint = 0;
volatile std::sig_atomic_t g_sighup = 0;

extern "C" void HandleSignal(int signal) {
  if (signal == SIGINT) g_sigint = 1;
  if (signal == SIGHUP) g_sighup = 1;
}

SolverAction EffectFromFlag(const std::string& flag_name, const std::string& value) {
  if (value == "stop") return SolverAction::kStop;
  if (value == "snapshot") return SolverAction::kSnapshot;
  if (value == "none") return SolverAction::kNone;
  throw InvalidArgument(StrCat("-", flag_name, " must be stop, snapshot or none, got '", value, "'"));
}

// Turns SIGINT/SIGHUP into solver actions between iterations; restores the previous
// handlers when it goes out of scope.
class SignalActions {
 public:
  SignalActions(SolverAction on_sigint, SolverAction on_sighup)
      : on_sigint_(on_sigint), on_sighup_(on_sighup) {
    struct sigaction action {};
    action.sa_handler = HandleSignal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_sigint_);
    sigaction(SIGHUP, &action, &old_sighup_);
  }
  ~SignalActions() {
    sigaction(SIGINT, &old_sigint_, nullptr);
    sigaction(SIGHUP, &old_sighup_, nullptr);
  }
  SignalActions(const SignalActions&) = delete;
  SignalActions& operator=(const SignalActions&) = delete;

  SolverAction Next() {
    if (g_sigint) {
      g_sigint = 0;
      LOG(INFO) << "SIGINT received: " << Name(on_sigint_);
      return on_sigint_;
    }
    if (g_sighup) {
      g_sighup = 0;
      LOG(INFO) << "SIGHUP received: " << Name(on_sighup_);
      return on_sighup_;
    }
    return SolverAction::kNone;
  }

 private:
  static const char* Name(SolverAction action) {
    switch (action) {
      case SolverAction::kStop: return "stopping";
      case SolverAction::kSnapshot: return "snapshotting";
      case SolverAction::kNone: return "ignored";
    }
    return "";
  }

  SolverAction on_sigint_;
  SolverAction on_sighup_;
  struct sigaction old_sigint_ {};
  struct sigaction old_sighup_ {};
};

// Remembers the last snapshot so the command can say where the model went.
class LastSnapshot : public SolverObserver {
 public:
  void OnSnapshot(int /*iter*/, const std::string& model, const std::string& state) override {
    model_ = model;
    state_ = state;
  }
  const std::string& model() const { return model_; }
  const std::string& state() const { return state_; }

 private:
  std::string model_;
  std::string state_;
};

}  // namespace

// The newest snapshot of `prefix` whose model and solver state both exist (a
// .caffemodel/.solverstate or a .caffemodel.h5/.solverstate.h5 pair), or "". Of two formats
// at the same iteration the binary one wins.
std::string LatestSnapshot(const std::string& prefix) {
  namespace fs = std::filesystem;
  const fs::path base(prefix);
  const fs::path dir = base.has_parent_path() ? base.parent_path() : fs::path(".");
  const std::string stem = base.filename().string() + "_iter_";
  struct Format {
    std::string state_suffix;
    std::string model_suffix;
  };
  const Format kFormats[] = {{".solverstate", ".caffemodel"},
                             {".solverstate.h5", ".caffemodel.h5"}};
  std::error_code ec;
  int64_t best = -1;
  int best_format = 0;
  std::string best_state;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind(stem, 0) != 0) continue;
    for (int f = 0; f < 2; ++f) {
      const std::string& suffix = kFormats[f].state_suffix;
      if (name.size() <= stem.size() + suffix.size() ||
          name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
        continue;
      }
      const std::string number =
          name.substr(stem.size(), name.size() - stem.size() - suffix.size());
      if (number.size() > 18 || number.find_first_not_of("0123456789") != std::string::npos) {
        continue;
      }
      const int64_t iter = std::stoll(number);
      const fs::path model = dir / (stem + number + kFormats[f].model_suffix);
      const bool newer = iter > best || (iter == best && f < best_format);
      if (newer && fs::exists(model)) {
        best = iter;
        best_format = f;
        best_state = entry.path().string();
      }
    }
  }
  return best_state;
}

int Train(const Args& args) {
  CREMA_REQUIRE(args.empty(), "unexpected argument '", args.empty() ? "" : args[0],
                "'; train takes flags only");
  return TrainTo("");
}

int TrainTo(const std::string& model_out) {
  CREMA_REQUIRE(!FLAGS_solver.empty(), "train needs -solver SOLVER.prototxt");
  CREMA_REQUIRE(FLAGS_snapshot.empty() || FLAGS_weights.empty(),
                "give -weights (to fine-tune) or -snapshot (to resume), not both");
  RequireCpuOnly();
  const SolverAction on_sigint = EffectFromFlag("sigint_effect", FLAGS_sigint_effect);
  const SolverAction on_sighup = EffectFromFlag("sighup_effect", FLAGS_sighup_effect);
  SyncOptions sync;
  sync.mode = ParseSyncMode(FLAGS_sync, &sync.local_steps);
  CREMA_REQUIRE(FLAGS_bucket_mb > 0, "-bucket_mb must be positive, got ", FLAGS_bucket_mb);
  sync.bucket_mb = FLAGS_bucket_mb;
  sync.first_bucket_mb = std::min(1.0, FLAGS_bucket_mb);
  Communicator& job = Job();
  const bool root = job.rank() == 0;

  caffe::SolverParameter param = ReadSolverParamsFromTextFile(FLAGS_solver);
  if (!model_out.empty()) {
    namespace fs = std::filesystem;
    const fs::path dir = fs::path(model_out).parent_path();
    std::error_code ignored;  // a directory that cannot be made is reported by the solver
    if (!dir.empty() && Job().rank() == 0) fs::create_directories(dir, ignored);
    param.set_snapshot_prefix(
        (dir.empty() ? fs::path(".") : dir) / fs::path(param.snapshot_prefix()).filename());
  }
  param.mutable_train_state()->set_level(FLAGS_level);
  for (const std::string& stage : StagesFromFlag()) param.mutable_train_state()->add_stage(stage);
  if (!FLAGS_snapshot.empty()) {
    param.clear_weights();  // the snapshot's own weights win
  } else if (!FLAGS_weights.empty()) {
    param.clear_weights();
    param.add_weights(FLAGS_weights);
  }
  // Rank 0 reads the weights and the snapshot and hands them to the others, so the other
  // hosts need not see those files.
  if (!root) param.clear_weights();
  std::string resume = FLAGS_snapshot;
  if (resume == "latest") {
    resume = root ? LatestSnapshot(param.snapshot_prefix()) : "";
    if (root && resume.empty()) {
      LOG(INFO) << "-snapshot latest: no complete snapshot with prefix " << param.snapshot_prefix()
                << " yet; starting from iteration 0";
    }
  }
  if (param.solver_mode() == caffe::SolverParameter::GPU) {
    LOG(INFO) << "solver_mode GPU: this build computes on CPU";
  }
  LOG(INFO) << "Using " << omp_get_max_threads() << " compute thread(s)";

  // The solver's values are checked here to name the file they are in; the nets' errors name
  // theirs.
  WithErrorContext(FLAGS_solver, [&] { ValidateSolverParameter(param); });
  SignalActions signals(on_sigint, on_sighup);
  std::unique_ptr<Solver> solver = CreateSolver(param);
  solver->SetActionFunction([&signals] { return signals.Next(); });
  LastSnapshot last_snapshot;
  solver->AddObserver(&last_snapshot);
  std::unique_ptr<MetricsFile> metrics;
  const std::string metrics_path =
      FLAGS_metrics.empty() ? param.snapshot_prefix() + "_metrics.jsonl" : FLAGS_metrics;
  if (root && metrics_path != "none") {
    metrics = std::make_unique<MetricsFile>(metrics_path);
    solver->AddObserver(metrics.get());
  }
  std::unique_ptr<GradientSync> gradient_sync;
  if (job.distributed()) {
    gradient_sync = GradientSync::Create(sync, &job, solver.get());
    LOG(INFO) << "Training on " << job.world_size() << " ranks, -sync " << FLAGS_sync;
  }
  if (!resume.empty() && root) {
    LOG(INFO) << "Restoring previous solver status from " << resume;
    solver->Restore(resume);
  }
  if (gradient_sync) gradient_sync->BroadcastModel(/*with_state=*/!FLAGS_snapshot.empty());

  LOG(INFO) << "Starting Optimization";
  solver->Solve();
  if (!last_snapshot.model().empty()) {
    if (!model_out.empty() && model_out != last_snapshot.model()) {
      WriteStringToFile(model_out, ReadFileToString(last_snapshot.model()));
      LOG(INFO) << "Model written to " << model_out;
    }
    LOG(INFO) << "Model written to " << last_snapshot.model() << " (solver state "
              << last_snapshot.state() << ")";
  }
  if (metrics) LOG(INFO) << "Metrics written to " << metrics->path();
  // A job that goes on to test or extract features reads these files on every rank.
  if (job.distributed()) job.Barrier("writing the final model");
  return 0;
}

}  // namespace crema::tools
