#include "crema/solver/metrics_file.h"

#include <glog/logging.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include <filesystem>

#include "crema/core/error.h"

namespace crema {

namespace {
nlohmann::json OutputsToJson(const std::vector<std::pair<std::string, float>>& outputs) {
  nlohmann::json object = nlohmann::json::object();
  for (const auto& [name, value] : outputs) {
    // A blob with several values (per-class accuracy) becomes an array.
    if (!object.contains(name)) {
      object[name] = value;
    } else if (object[name].is_array()) {
      object[name].push_back(value);
    } else {
      object[name] = nlohmann::json::array({object[name], value});
    }
  }
  return object;
}
}  // namespace

MetricsFile::MetricsFile(const std::string& path) : path_(path) {
  // Refuse an unwritable path now, but create the file only with its first line: a run that
  // fails before it has anything to say leaves nothing behind.
  if (::access(path.c_str(), F_OK) != 0) {
    const std::string dir = std::filesystem::path(path).parent_path().string();
    if (::access(dir.empty() ? "." : dir.c_str(), W_OK) != 0) {
      throw IOErrorFromErrno("create the metrics file", path);
    }
  } else if (::access(path.c_str(), W_OK) != 0) {
    throw IOErrorFromErrno("open the metrics file", path);
  }
}

MetricsFile::~MetricsFile() {
  if (file_ != nullptr) std::fclose(file_);
}

double MetricsFile::Elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void MetricsFile::WriteLine(const std::string& line) {
  if (file_ == nullptr) file_ = std::fopen(path_.c_str(), "a");
  if (file_ == nullptr) {
    if (!write_failed_) LOG(WARNING) << "cannot open the metrics file " << path_;
    write_failed_ = true;
    return;
  }
  // Metrics are best-effort: a full disk must not stop training.
  if (std::fprintf(file_, "%s\n", line.c_str()) < 0 || std::fflush(file_) != 0) {
    if (!write_failed_) LOG(WARNING) << "cannot write to the metrics file " << path_ << "; training goes on";
    write_failed_ = true;  // said once, not at every line
    std::clearerr(file_);
  }
}

void MetricsFile::OnIteration(const IterationStats& stats) {
  nlohmann::json line = {{"event", "train"},
                         {"iter", stats.iter},
                         {"loss", stats.loss},
                         {"lr", stats.learning_rate},
                         {"images_per_second", stats.images_per_second},
                         {"data_wait_ms", stats.data_wait_ms},
                         {"elapsed_s", Elapsed()},
                         {"outputs", OutputsToJson(stats.outputs)}};
  if (stats.ranks > 1) {
    line["ranks"] = stats.ranks;
    line["job_images_per_second"] = stats.job_images_per_second;
    line["compute_ms"] = stats.compute_ms;
    line["exposed_comm_ms"] = stats.exposed_comm_ms;
    line["slowest_rank"] = stats.slowest_rank;
    line["slowest_rank_ms"] = stats.slowest_rank_ms;
  }
  WriteLine(line.dump());
}

void MetricsFile::OnTest(const TestStats& stats) {
  nlohmann::json line = {{"event", "test"},
                         {"iter", stats.iter},
                         {"net", stats.test_net_id},
                         {"elapsed_s", Elapsed()},
                         {"outputs", OutputsToJson(stats.outputs)}};
  WriteLine(line.dump());
}

void MetricsFile::OnSnapshot(int iter, const std::string& model_file,
                             const std::string& state_file) {
  nlohmann::json line = {
      {"event", "snapshot"}, {"iter", iter},       {"model", model_file},
      {"state", state_file},  {"elapsed_s", Elapsed()}};
  WriteLine(line.dump());
}

}  // namespace crema
