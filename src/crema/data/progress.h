// Progress: one updating status line for long conversions ("convert imageset: 12000/60000
// images"), drawn on a terminal and silent everywhere else.
//
// The line is redrawn in place with '\r' each time another 1% of the work is done, and ended
// with a newline by Done() (or the destructor). When the output is not a terminal (a log
// file, a pipe, a test) nothing at all is written, so logs stay clean.
//
// Log lines written while the line is shown would be glued to it: call Clear() first, and the
// next Update() draws the line again below them.
//
// Thread-safety: not thread-safe; one thread reports.
#ifndef CREMA_DATA_PROGRESS_H_
#define CREMA_DATA_PROGRESS_H_

#include <cstdint>
#include <cstdio>
#include <string>

namespace crema {

class Progress {
 public:
  // Reports to stderr when stderr is a terminal (isatty), else not at all.
  // `what` starts the line, `unit` follows the counts: "<what>: <done>/<total> <unit>".
  Progress(std::string what, int64_t total, std::string unit);
  // Reports to `out` when `enabled` (for tests and callers with their own stream).
  // REQUIRES: out outlives this object when enabled.
  Progress(std::string what, int64_t total, std::string unit, std::FILE* out, bool enabled);
  // Calls Done().
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  // Records that `done` of `total` items are finished; redraws the line when another 1% of
  // the total has been passed since the last draw (and on reaching the total). Cheap when
  // nothing is drawn. Never throws.
  void Update(int64_t done);

  // Erases the line from the terminal (until the next Update draws it). Never throws.
  void Clear();

  // Draws the final count and ends the line. Later calls do nothing. Never throws.
  void Done();

  bool enabled() const { return out_ != nullptr; }

 private:
  void Draw();

  std::string what_;
  std::string unit_;
  int64_t total_;
  int64_t done_ = 0;
  int64_t step_;          // items per redraw (1% of the total, at least 1)
  int64_t next_draw_ = 0; // redraw once done_ reaches this
  std::FILE* out_;        // null when disabled
  int64_t drawn_ = -1;    // the count the line on the terminal shows
  bool shown_ = false;    // a line is on the terminal and not ended
  bool finished_ = false;
};

}  // namespace crema

#endif  // CREMA_DATA_PROGRESS_H_
