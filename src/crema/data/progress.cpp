#include "crema/data/progress.h"

#include <unistd.h>

#include <algorithm>
#include <utility>

namespace crema {

Progress::Progress(std::string what, int64_t total, std::string unit)
    : Progress(std::move(what), total, std::move(unit), stderr, isatty(STDERR_FILENO) == 1) {}

Progress::Progress(std::string what, int64_t total, std::string unit, std::FILE* out,
                   bool enabled)
    : what_(std::move(what)),
      unit_(std::move(unit)),
      total_(std::max<int64_t>(total, 0)),
      step_(std::max<int64_t>(total_ / 100, 1)),
      out_(enabled ? out : nullptr) {}

Progress::~Progress() { Done(); }

void Progress::Update(int64_t done) {
  done_ = done;
  if (out_ == nullptr || finished_ || done < next_draw_) return;
  Draw();
  next_draw_ = (done / step_ + 1) * step_;
  if (total_ > 0 && next_draw_ > total_) next_draw_ = std::max(total_, done + 1);
}

void Progress::Clear() {
  if (out_ == nullptr || !shown_) return;
  std::fputs("\r\x1b[K", out_);  // carriage return, erase to the end of the line
  std::fflush(out_);
  shown_ = false;
  next_draw_ = 0;  // draw again on the next update
}

void Progress::Done() {
  if (out_ == nullptr || finished_) return;
  finished_ = true;
  if (!shown_ || drawn_ != done_) Draw();
  std::fputc('\n', out_);
  std::fflush(out_);
  shown_ = false;
}

void Progress::Draw() {
  std::fprintf(out_, "\r%s: %lld/%lld %s", what_.c_str(), static_cast<long long>(done_),
               static_cast<long long>(total_), unit_.c_str());
  std::fflush(out_);
  shown_ = true;
  drawn_ = done_;
}

}  // namespace crema
