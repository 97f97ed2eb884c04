// A one-line terminal progress report with rate and ETA.
//
// Progress prints "label  done/total  rate unit/s  ETA mm:ss" at most every `interval`
// seconds, rewriting the line in place on a terminal and printing plain lines otherwise
// (logs, CI). Long operations in every module report through it.
#ifndef EDGELOOP_BASE_PROGRESS_H_
#define EDGELOOP_BASE_PROGRESS_H_

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace edgeloop {

class Progress {
 public:
  Progress(std::string label, int64_t total, std::string unit, double interval_s = 1.0,
           FILE* out = stderr);
  // Reports that `done` units are finished; `extra` is appended (e.g. "loss 0.031").
  void Update(int64_t done, const std::string& extra = "");
  // Prints the final line unconditionally.
  void Finish(const std::string& extra = "");

  double ElapsedSeconds() const;
  double Rate() const;  // units per second so far

 private:
  void Print(const std::string& extra, bool final_line);

  std::string label_;
  int64_t total_;
  std::string unit_;
  double interval_s_;
  FILE* out_;
  bool tty_;
  int64_t done_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_print_;
  bool printed_ = false;
};

}  // namespace edgeloop

#endif  // EDGELOOP_BASE_PROGRESS_H_
