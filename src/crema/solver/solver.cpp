#include "crema/solver/solver.h"

#include <glog/logging.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <sstream>

#include "crema/backend/cpu/blas.h"
#include "crema/core/error.h"
#include "crema/core/rank.h"
#include "crema/core/rng.h"
#include "crema/io/proto_io.h"
#include "crema/net/net_file.h"
#include "crema/net/net_hdf5.h"
#include "crema/solver/lr_policy.h"
#include "crema/solver/solver_state_io.h"

namespace crema {

namespace {

void LogMemoryPlan(const Net& net, const Net::MemoryPlan& plan) {
  if (plan.data_blobs + plan.diff_blobs == 0) return;
  LOG(INFO) << "Net " << net.name() << " (" << caffe::Phase_Name(net.phase()) << "): "
            << plan.data_blobs << " activations and " << plan.diff_blobs
            << " gradients share " << plan.arena_bytes / 1048576 << " MB ("
            << plan.separate_bytes / 1048576 << " MB one buffer each)";
}

// Splits "a.caffemodel,b.caffemodel" into its files.
std::vector<std::string> SplitCommaList(const std::string& list) {
  std::vector<std::string> items;
  std::stringstream in(list);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) items.push_back(item);
  }
  return items;
}

void LoadWeights(Net* net, const std::string& weights) {
  for (const std::string& file : SplitCommaList(weights)) {
    LOG(INFO) << "Loading weights from " << file;
    net->CopyTrainedLayersFromFile(file);
  }
}

}  // namespace

void ValidateSolverParameter(const caffe::SolverParameter& param) {
  CREMA_REQUIRE(param.average_loss() >= 1, "average_loss must be at least 1, got ",
                param.average_loss());
  CREMA_REQUIRE(param.iter_size() >= 1, "iter_size must be at least 1, got ", param.iter_size());
  CREMA_REQUIRE(param.max_iter() >= 0, "max_iter must be non-negative, got ", param.max_iter());
  // Caffe checks none of these; each out of its range makes training diverge or do nothing.
  CREMA_REQUIRE(param.base_lr() >= 0, "base_lr must be non-negative, got ", param.base_lr());
  CREMA_REQUIRE(param.momentum() >= 0 && param.momentum() < 1,
                "momentum must be in [0, 1), got ", param.momentum());
  CREMA_REQUIRE(param.momentum2() >= 0 && param.momentum2() < 1,
                "momentum2 must be in [0, 1), got ", param.momentum2());
  CREMA_REQUIRE(param.weight_decay() >= 0, "weight_decay must be non-negative, got ",
                param.weight_decay());
  CREMA_REQUIRE(param.rms_decay() >= 0 && param.rms_decay() < 1,
                "rms_decay must be in [0, 1), got ", param.rms_decay());
  CREMA_REQUIRE(param.regularization_type() == "L2" || param.regularization_type() == "L1",
                "unknown regularization_type \"", param.regularization_type(),
                "\" (known: L1, L2)");
  ValidateLearningRatePolicy(param);
}

Solver::Solver(const caffe::SolverParameter& param) : param_(param) {
  ValidateSolverParameter(param_);
  CheckSnapshotWritable();
  if (param_.random_seed() >= 0) SetRandomSeed(static_cast<uint64_t>(param_.random_seed()));
  InitTrainNet();
  InitTestNets();
  for (const std::string& weights : param_.weights()) {
    LoadWeights(net_.get(), weights);
    for (auto& test_net : test_nets_) LoadWeights(test_net.get(), weights);
  }
}

Solver::~Solver() = default;

void Solver::InitTrainNet() {
  const int sources = param_.has_train_net_param() + param_.has_train_net() +
                      param_.has_net_param() + param_.has_net();
  CREMA_REQUIRE(sources == 1,
                "the solver must name its train net with exactly one of net, net_param, "
                "train_net or train_net_param; it gives ",
                sources);
  caffe::NetParameter net_param;
  std::string net_file;  // where the net is written, when it is written in a file
  if (param_.has_train_net_param()) {
    net_param = param_.train_net_param();
  } else if (param_.has_train_net()) {
    net_file = param_.train_net();
  } else if (param_.has_net_param()) {
    net_param = param_.net_param();
  } else {
    net_file = param_.net();
  }
  if (!net_file.empty()) net_param = ReadNetFile(net_file);
  // The train state: phase TRAIN, then the net's own state, then the solver's train_state.
  caffe::NetState state;
  state.set_phase(caffe::TRAIN);
  state.MergeFrom(net_param.state());
  state.MergeFrom(param_.train_state());
  *net_param.mutable_state() = state;
  // From a file, an error in a layer names the file and the layer's line.
  net_ = net_file.empty() ? std::make_unique<Net>(net_param) : BuildNetFromFile(net_file, net_param);
  LogMemoryPlan(*net_, net_->PlanMemory({.training = true, .keep = {}}));
}

void Solver::InitTestNets() {
  const bool has_generic = param_.has_net() || param_.has_net_param();
  const int num_params = param_.test_net_param_size();
  const int num_files = param_.test_net_size();
  const int num_specific = num_params + num_files;
  if (has_generic) {
    CREMA_REQUIRE(param_.test_iter_size() >= num_specific, "the solver names ", num_specific,
                  " test nets but only ", param_.test_iter_size(),
                  " test_iter values; give one test_iter per test net");
  } else {
    CREMA_REQUIRE(param_.test_iter_size() == num_specific, "the solver names ", num_specific,
                  " test nets but ", param_.test_iter_size(),
                  " test_iter values; give one test_iter per test net");
  }
  const int num_generic = has_generic ? param_.test_iter_size() - num_specific : 0;
  const int total = num_specific + num_generic;
  if (total > 0) {
    CREMA_REQUIRE(param_.test_interval() > 0, "the solver has test nets but test_interval is ",
                  param_.test_interval(), "; set test_interval > 0 (or test_iter to 0)");
  }
  if (param_.test_state_size() > 0) {
    CREMA_REQUIRE(param_.test_state_size() == total, "the solver gives ", param_.test_state_size(),
                  " test_state entries for ", total, " test nets");
  }
  for (int i = 0; i < total; ++i) {
    caffe::NetParameter net_param;
    std::string net_file;
    if (i < num_params) {
      net_param = param_.test_net_param(i);
    } else if (i < num_specific) {
      net_file = param_.test_net(i - num_params);
    } else if (param_.has_net_param()) {
      net_param = param_.net_param();
    } else {
      net_file = param_.net();
    }
    if (!net_file.empty()) net_param = ReadNetFile(net_file);
    caffe::NetState state;
    state.set_phase(caffe::TEST);
    state.MergeFrom(net_param.state());
    if (param_.test_state_size() > 0) state.MergeFrom(param_.test_state(i));
    *net_param.mutable_state() = state;
    test_nets_.push_back(net_file.empty() ? std::make_unique<Net>(net_param)
                                          : BuildNetFromFile(net_file, net_param));
    Net& test_net = *test_nets_.back();
    LogMemoryPlan(test_net, test_net.PlanMemory({.training = false, .keep = {}}));
    test_net.FuseForInference();
  }
}

void Solver::CheckSnapshotWritable() const {
  // Only rank 0 writes snapshots; the other ranks' hosts need not see the directory.
  if (GetRankInfo().rank != 0) return;
  if (param_.snapshot() <= 0 && !param_.snapshot_after_train()) return;
  CREMA_REQUIRE(!param_.snapshot_prefix().empty(),
                "the solver snapshots but sets no snapshot_prefix");
  const std::string probe = SnapshotFilename(".crema-write-probe");
  FILE* f = std::fopen(probe.c_str(), "w");
  if (f == nullptr) {
    throw IOErrorFromErrno("write snapshots with prefix", param_.snapshot_prefix());
  }
  std::fclose(f);
  std::remove(probe.c_str());
  RemoveStaleSnapshotTemporaries();
}

void Solver::RemoveStaleSnapshotTemporaries() const {
  // A run killed while writing a snapshot leaves "<prefix>_iter_N.<ext>.tmp.<pid>" behind
  // (never a file under a final name). Remove those whose writer is gone.
  namespace fs = std::filesystem;
  const fs::path base(param_.snapshot_prefix());
  const fs::path dir = base.has_parent_path() ? base.parent_path() : fs::path(".");
  const std::string stem = base.filename().string() + "_iter_";
  std::error_code ec;
  int removed = 0;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    const size_t tmp = name.rfind(".tmp.");
    if (name.rfind(stem, 0) != 0 || tmp == std::string::npos) continue;
    const std::string pid = name.substr(tmp + 5);
    if (pid.empty() || pid.size() > 9 || pid.find_first_not_of("0123456789") != std::string::npos) {
      continue;
    }
    if (::kill(static_cast<pid_t>(std::stol(pid)), 0) == 0 || errno != ESRCH) continue;
    if (fs::remove(entry.path(), ec)) ++removed;
  }
  if (removed > 0) {
    LOG(INFO) << "Removed " << removed << " temporary snapshot file(s) left by an interrupted run";
  }
}

void Solver::InitHistory() {
  history_.clear();
  const auto& params = net_->learnable_params();
  for (int k = 0; k < HistoryBlobsPerParam(); ++k) {
    for (const Blob* p : params) history_.push_back(std::make_shared<Blob>(p->shape()));
  }
}

SolverAction Solver::RequestedAction() { return action_ ? action_() : SolverAction::kNone; }

std::string Solver::SnapshotFilename(const std::string& extension) const {
  return StrCat(param_.snapshot_prefix(), "_iter_", iter_, extension);
}

void Solver::UpdateSmoothedLoss(float loss, int start_iter) {
  const int average_loss = param_.average_loss();
  if (static_cast<int>(losses_.size()) < average_loss) {
    losses_.push_back(loss);
    const int size = static_cast<int>(losses_.size());
    smoothed_loss_ = (smoothed_loss_ * static_cast<float>(size - 1) + loss) / static_cast<float>(size);
  } else {
    const int idx = (iter_ - start_iter) % average_loss;
    smoothed_loss_ += (loss - losses_[idx]) / static_cast<float>(average_loss);
    losses_[idx] = loss;
  }
}

void Solver::Solve(const std::string& resume_file) {
  LOG(INFO) << "Solving " << net_->name();
  LOG(INFO) << "Learning Rate Policy: " << param_.lr_policy();
  requested_early_exit_ = false;
  if (!resume_file.empty()) {
    LOG(INFO) << "Restoring previous solver status from " << resume_file;
    Restore(resume_file);
  }
  const int start_iter = iter_;
  Step(param_.max_iter() - iter_);
  for (SolverCallback* callback : callbacks_) callback->OnSolveEnd();
  if (param_.snapshot_after_train() && (param_.snapshot() <= 0 || iter_ % param_.snapshot() != 0)) {
    Snapshot();
  } else if (param_.snapshot_after_train() && last_snapshot_failed_) {
    // The weights training ended with are on no disk: the run must not look successful.
    throw IOError(StrCat("training reached iteration ", iter_,
                         " but its snapshot could not be written (see the error above)"));
  }
  if (requested_early_exit_) {
    LOG(INFO) << "Optimization stopped early.";
    return;
  }
  if (param_.display() && iter_ % param_.display() == 0) {
    float loss;
    net_->Forward(&loss);
    UpdateSmoothedLoss(loss, start_iter);
    LOG(INFO) << "Iteration " << iter_ << ", loss = " << smoothed_loss_;
  }
  if (param_.test_interval() && iter_ % param_.test_interval() == 0) TestAll();
  LOG(INFO) << "Optimization Done.";
}

void Solver::Step(int iters) {
  const int start_iter = iter_;
  const int stop_iter = iter_ + iters;
  losses_.clear();
  smoothed_loss_ = 0;
  display_start_ = std::chrono::steady_clock::now();
  display_start_iter_ = iter_;
  data_wait_seconds_ = 0;
  data_wait_iterations_ = 0;
  while (iter_ < stop_iter) {
    net_->ClearParamDiffs();
    if (param_.test_interval() && iter_ % param_.test_interval() == 0 &&
        (iter_ > 0 || param_.test_initialization())) {
      TestAll();
      if (requested_early_exit_) break;
    }
    for (SolverCallback* callback : callbacks_) callback->OnStart();
    float loss = 0;
    for (int i = 0; i < param_.iter_size(); ++i) {
      loss += net_->ForwardBackward();
      for (const auto& layer : net_->layers()) data_wait_seconds_ += layer->last_data_wait_seconds();
    }
    ++data_wait_iterations_;
    loss /= static_cast<float>(param_.iter_size());
    UpdateSmoothedLoss(loss, start_iter);
    // Computed once per iteration: multistep advances its state here.
    const float rate = LearningRate(param_, iter_, &current_step_);
    if (param_.display() && iter_ % param_.display() == 0) DisplayIteration(rate);
    for (SolverCallback* callback : callbacks_) callback->OnGradientsReady();
    if (param_.display() && iter_ % param_.display() == 0) {
      LOG(INFO) << "Iteration " << iter_ << ", lr = " << rate;
    }
    ApplyUpdate(rate);
    ++iter_;
    for (SolverCallback* callback : callbacks_) callback->OnUpdateApplied();
    SolverAction request = RequestedAction();
    for (SolverCallback* callback : callbacks_) request = callback->AgreeOnAction(request);
    if ((param_.snapshot() > 0 && iter_ % param_.snapshot() == 0) ||
        request == SolverAction::kSnapshot) {
      SnapshotDuringTraining();
    }
    if (request == SolverAction::kStop) {
      requested_early_exit_ = true;
      break;
    }
  }
}

void Solver::DisplayIteration(float rate) {
  const auto now = std::chrono::steady_clock::now();
  const double lapse = std::chrono::duration<double>(now - display_start_).count();
  const int iterations = iter_ - display_start_iter_;
  const double per_second = lapse > 0 ? iterations / lapse : 0;
  LOG(INFO) << "Iteration " << iter_ << " (" << per_second << " iter/s, " << lapse << "s/"
            << param_.display() << " iters), loss = " << smoothed_loss_;
  display_start_ = now;
  display_start_iter_ = iter_;

  IterationStats stats;
  stats.iter = iter_;
  stats.loss = smoothed_loss_;
  stats.learning_rate = rate;
  const auto& first_tops = net_->top_vecs().empty() ? BlobVec{} : net_->top_vecs()[0];
  const int batch = !first_tops.empty() && first_tops[0]->num_axes() > 0 ? first_tops[0]->shape(0) : 0;
  stats.images_per_second = per_second * batch * param_.iter_size();
  stats.data_wait_ms = data_wait_iterations_ > 0 ? 1000 * data_wait_seconds_ / data_wait_iterations_ : 0;
  data_wait_seconds_ = 0;
  data_wait_iterations_ = 0;
  int score_index = 0;
  const auto& outputs = net_->output_blobs();
  for (size_t j = 0; j < outputs.size(); ++j) {
    const int blob_id = net_->output_blob_indices()[j];
    const std::string& name = net_->blob_names()[blob_id];
    const float weight = net_->blob_loss_weights()[blob_id];
    const float* values = outputs[j]->cpu_data();
    for (int k = 0; k < outputs[j]->count(); ++k) {
      std::ostringstream loss_note;
      if (weight != 0.f) loss_note << " (* " << weight << " = " << weight * values[k] << " loss)";
      LOG(INFO) << "    Train net output #" << score_index++ << ": " << name << " = " << values[k]
                << loss_note.str();
      stats.outputs.emplace_back(name, values[k]);
    }
  }
  for (SolverCallback* callback : callbacks_) callback->FillIterationStats(&stats);
  if (stats.ranks > 1) {
    LOG_IF(INFO, rank() == 0) << "    Job: " << stats.job_images_per_second << " images/s on "
                              << stats.ranks << " ranks; per iteration: compute "
                              << stats.compute_ms << " ms, exposed communication "
                              << stats.exposed_comm_ms << " ms, data wait " << stats.data_wait_ms
                              << " ms; slowest rank " << stats.slowest_rank << " ("
                              << stats.slowest_rank_ms << " ms)";
  }
  for (SolverObserver* observer : observers_) observer->OnIteration(stats);
}

void Solver::ApplyUpdate(float rate) {
  ClipGradients();
  const int n = static_cast<int>(net_->learnable_params().size());
  for (int i = 0; i < n; ++i) {
    Normalize(i);
    Regularize(i);
    ComputeUpdateValue(i, rate);
  }
  net_->Update();
}

void Solver::ClipGradients() {
  const float clip = param_.clip_gradients();
  if (clip < 0) return;
  double sumsq = 0;
  for (const Blob* p : net_->learnable_params()) sumsq += p->sumsq_diff();
  const float norm = static_cast<float>(std::sqrt(sumsq));
  if (norm > clip) {
    const float scale = clip / norm;
    LOG(INFO) << "Gradient clipping: scaling down gradients (L2 norm " << norm << " > " << clip
              << ") by scale factor " << scale;
    for (Blob* p : net_->learnable_params()) p->scale_diff(scale);
  }
}

void Solver::Normalize(int param_id) {
  if (param_.iter_size() == 1) return;
  Blob* p = net_->learnable_params()[param_id];
  p->scale_diff(1.f / static_cast<float>(param_.iter_size()));
}

void Solver::Regularize(int param_id) {
  Blob* p = net_->learnable_params()[param_id];
  const float decay = param_.weight_decay() * net_->params_weight_decay()[param_id];
  if (decay == 0.f) return;
  const int count = p->count();
  const float* w = p->cpu_data();
  float* g = p->mutable_cpu_diff();
  if (param_.regularization_type() == "L2") {
    cpu::Axpy(count, decay, w, g);
  } else {
    for (int i = 0; i < count; ++i) g[i] += decay * static_cast<float>((w[i] > 0) - (w[i] < 0));
  }
}

std::vector<TestStats> Solver::TestAll() {
  std::vector<TestStats> all;
  for (int i = 0; i < static_cast<int>(test_nets_.size()) && !requested_early_exit_; ++i) {
    all.push_back(Test(i));
  }
  return all;
}

TestStats Solver::Test(int test_net_id) {
  LOG_IF(INFO, rank() == 0) << "Iteration " << iter_ << ", Testing net (#" << test_net_id << ")";
  SynchronizeModel();
  Net* test_net = test_nets_[test_net_id].get();
  test_net->ShareTrainedLayersWith(*net_);
  // In a job, rank r runs its share of the test_iter batches (its data layer reads the
  // matching share of the test set), and the sums are added over ranks.
  const int test_iter = param_.test_iter(test_net_id);
  const int world = world_size();
  const int my_batches = static_cast<int>((static_cast<int64_t>(rank() + 1) * test_iter) / world -
                                          (static_cast<int64_t>(rank()) * test_iter) / world);
  std::vector<double> scores;
  std::vector<int> score_output;
  double loss = 0;
  for (int i = 0; i < my_batches; ++i) {
    // In a job a request waits for the next iteration, where the ranks agree on it.
    for (SolverAction request = world == 1 ? RequestedAction() : SolverAction::kNone;
         request != SolverAction::kNone; request = RequestedAction()) {
      if (request == SolverAction::kSnapshot) SnapshotDuringTraining();
      if (request == SolverAction::kStop) requested_early_exit_ = true;
    }
    if (requested_early_exit_) break;
    float iter_loss;
    const auto& result = test_net->Forward(&iter_loss);
    if (param_.test_compute_loss()) loss += iter_loss;
    size_t idx = 0;
    for (size_t j = 0; j < result.size(); ++j) {
      const float* values = result[j]->cpu_data();
      for (int k = 0; k < result[j]->count(); ++k, ++idx) {
        if (i == 0) {
          scores.push_back(values[k]);
          score_output.push_back(static_cast<int>(j));
        } else {
          scores[idx] += values[k];
        }
      }
    }
  }
  TestStats stats;
  stats.iter = iter_;
  stats.test_net_id = test_net_id;
  if (requested_early_exit_) {
    LOG(INFO) << "Test interrupted.";
    return stats;
  }
  if (collective_ != nullptr && world > 1) {
    // A rank with no batch still knows the outputs' layout from the net.
    if (scores.empty()) {
      for (size_t j = 0; j < test_net->output_blobs().size(); ++j) {
        for (int k = 0; k < test_net->output_blobs()[j]->count(); ++k) {
          scores.push_back(0);
          score_output.push_back(static_cast<int>(j));
        }
      }
    }
    scores.push_back(loss);
    collective_->SumAcrossRanks(scores.data(), static_cast<int>(scores.size()));
    loss = scores.back();
    scores.pop_back();
  }
  if (param_.test_compute_loss()) LOG_IF(INFO, rank() == 0) << "Test loss: " << loss / test_iter;
  for (size_t i = 0; i < scores.size(); ++i) {
    const int blob_id = test_net->output_blob_indices()[score_output[i]];
    const std::string& name = test_net->blob_names()[blob_id];
    const float weight = test_net->blob_loss_weights()[blob_id];
    const float mean = static_cast<float>(scores[i] / test_iter);
    std::ostringstream loss_note;
    if (weight != 0.f) loss_note << " (* " << weight << " = " << weight * mean << " loss)";
    LOG_IF(INFO, rank() == 0) << "    Test net output #" << i << ": " << name << " = " << mean
                              << loss_note.str();
    stats.outputs.emplace_back(name, mean);
  }
  for (SolverObserver* observer : observers_) observer->OnTest(stats);
  return stats;
}

void Solver::SynchronizeModel() {
  for (SolverCallback* callback : callbacks_) callback->OnSynchronizeModel();
}

std::string Solver::Snapshot() {
  SynchronizeModel();
  if (rank() != 0) return "";
  const bool hdf5 = param_.snapshot_format() == caffe::SolverParameter::HDF5;
  const std::string format_name = hdf5 ? "HDF5" : "binary proto";
  const std::string model_file = SnapshotFilename(hdf5 ? ".caffemodel.h5" : ".caffemodel");
  LOG(INFO) << "Snapshotting to " << format_name << " file " << model_file;
  if (hdf5) {
    WriteNetToHdf5(*net_, model_file, param_.snapshot_diff());
  } else {
    caffe::NetParameter net_param;
    net_->ToProto(&net_param, param_.snapshot_diff());
    WriteBinaryProto(model_file, net_param);
  }

  caffe::SolverState state;
  state.set_iter(iter_);
  state.set_learned_net(model_file);
  state.set_current_step(current_step_);
  for (const auto& h : history_) h->ToProto(state.add_history());
  const std::string state_file = SnapshotFilename(hdf5 ? ".solverstate.h5" : ".solverstate");
  LOG(INFO) << "Snapshotting solver state to " << format_name << " file " << state_file;
  try {
    WriteSolverState(state_file, state, param_.snapshot_format());
  } catch (const Error&) {
    // A model without its state is no snapshot to resume from; on a full disk it would also
    // hold the space the next attempt needs.
    std::remove(model_file.c_str());
    throw;
  }
  for (SolverObserver* observer : observers_) observer->OnSnapshot(iter_, model_file, state_file);
  return model_file;
}

void Solver::SnapshotDuringTraining() {
  try {
    Snapshot();
    last_snapshot_failed_ = false;
  } catch (const Error& e) {
    // A full disk or a lost mount must not end a long run: the previous snapshot is intact
    // (snapshots are written to a temporary name and renamed), and the next may succeed.
    LOG(ERROR) << "Snapshot at iteration " << iter_ << " failed, training goes on: " << e.what();
    last_snapshot_failed_ = true;
  }
}

void Solver::Restore(const std::string& state_file) {
  const caffe::SolverState state = ReadSolverState(state_file);
  if (static_cast<size_t>(state.history_size()) != history_.size()) {
    throw InvalidArgument(StrCat(state_file, " holds ", state.history_size(),
                                 " history blobs, but a ", type(), " solver for this net keeps ",
                                 history_.size(), "; was it written for another net or solver type?"));
  }
  if (state.has_learned_net() && !state.learned_net().empty()) {
    std::string model = state.learned_net();
    namespace fs = std::filesystem;
    if (!fs::exists(model)) {
      // The snapshot directory may have moved: look beside the state file.
      const fs::path beside = fs::path(state_file).parent_path() / fs::path(model).filename();
      if (fs::exists(beside)) model = beside.string();
    }
    net_->CopyTrainedLayersFromFile(model);
  }
  for (size_t i = 0; i < history_.size(); ++i) {
    try {
      history_[i]->FromProto(state.history(static_cast<int>(i)), /*reshape=*/false);
    } catch (const Error& e) {
      throw Error(e.code(), StrCat(state_file, ": history blob ", i, ": ", e.what()));
    }
  }
  iter_ = state.iter();
  current_step_ = state.current_step();
  SkipTrainDataTo(iter_);
}

void Solver::SetState(int iter, int current_step) {
  iter_ = iter;
  current_step_ = current_step;
  SkipTrainDataTo(iter_);
}

void Solver::SkipTrainDataTo(int iter) {
  // Caffe restarts its data layers from the first record on resume; Crema continues with the
  // batches the interrupted run would have read next, so a resumed run equals an
  // uninterrupted one.
  const int64_t batches = static_cast<int64_t>(iter) * param_.iter_size();
  if (batches == 0) return;
  LOG(INFO) << "Data layers skip " << batches << " batches to continue where the snapshot left off";
  for (const auto& layer : net_->layers()) layer->SkipBatches(batches);
}

}  // namespace crema
