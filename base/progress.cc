#include "base/progress.h"

#include <unistd.h>

#include <cmath>

#include "absl/strings/str_format.h"

namespace edgeloop {

Progress::Progress(std::string label, int64_t total, std::string unit, double interval_s, FILE* out)
    : label_(std::move(label)),
      total_(total),
      unit_(std::move(unit)),
      interval_s_(interval_s),
      out_(out),
      tty_(isatty(fileno(out)) != 0),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_) {}

double Progress::ElapsedSeconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

double Progress::Rate() const {
  double t = ElapsedSeconds();
  return t > 0 ? static_cast<double>(done_) / t : 0.0;
}

void Progress::Update(int64_t done, const std::string& extra) {
  done_ = done;
  auto now = std::chrono::steady_clock::now();
  if (!printed_ || std::chrono::duration<double>(now - last_print_).count() >= interval_s_) {
    last_print_ = now;
    Print(extra, false);
  }
}

void Progress::Finish(const std::string& extra) { Print(extra, true); }

void Progress::Print(const std::string& extra, bool final_line) {
  printed_ = true;
  double rate = Rate();
  std::string eta = "--:--";
  if (total_ > 0 && rate > 0 && done_ <= total_) {
    int64_t s = static_cast<int64_t>(std::llround((total_ - done_) / rate));
    eta = absl::StrFormat("%02d:%02d", s / 60, s % 60);
  }
  std::string line = absl::StrFormat("%s  %d/%d %s  %.2f %s/s  ETA %s  elapsed %.1fs", label_,
                                     done_, total_, unit_, rate, unit_, eta, ElapsedSeconds());
  if (!extra.empty()) line += "  " + extra;
  if (tty_) {
    std::fprintf(out_, "\r\033[K%s%s", line.c_str(), final_line ? "\n" : "");
  } else {
    std::fprintf(out_, "%s\n", line.c_str());
  }
  std::fflush(out_);
}

}  // namespace edgeloop
