// Per-subcommand command-line flags for the edgeloop CLI.
//
// Each subcommand declares its own FlagSet, so `edgeloop <cmd> --help` lists exactly the
// flags of that command. Flags are `--name value` or `--name=value`; booleans are
// `--name`, `--name=true|false` or `--noname`. Unknown flags, missing values, malformed
// numbers and missing required flags are InvalidArgument errors that name the flag.
//
// The parser also checks what a flag declares, so no command can forget it: a numeric flag's
// Range (Double flags must be finite unless the range allows otherwise), and what a String
// flag names on disk (PathKind). A bad value is one InvalidArgument line naming the flag, the
// value and what is allowed; --help shows every range.
#ifndef EDGELOOP_TOOLS_CLI_FLAGS_H_
#define EDGELOOP_TOOLS_CLI_FLAGS_H_

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace edgeloop::cli {

// The largest value of an int: the bound of an Int flag a command narrows to int.
inline constexpr int64_t kIntMax = 2147483647;
// The longest wait a seconds flag accepts (about 115 days).
inline constexpr double kMaxSeconds = 1e7;

// The values a numeric flag accepts: an interval (each end closed, open or unbounded), plus
// optional sentinel values outside it with a documented meaning (e.g. -1 for "default").
// Double flags must be finite unless AllowNonFinite(). Build one from the helpers below:
//   cli::Positive().AtMost(10)      (0, 10]
//   cli::AtLeast(0).Or(-1)          -1 or >= 0
class Range {
 public:
  Range() = default;  // any finite number

  Range AtLeast(double min) const;  // and >= min
  Range Above(double min) const;    // and > min
  Range AtMost(double max) const;   // and <= max
  Range Below(double max) const;    // and < max
  Range Or(double sentinel) const;  // also this one value
  Range AllowNonFinite() const;     // also nan and +-inf

  bool Contains(double value) const;
  // What it accepts, as help and error text: "in [0, 1]", ">= 1", "-1 or >= 0", ...
  std::string ToString() const;

 private:
  Range WithEnd(bool lower, double value, bool open) const;

  double min_ = -std::numeric_limits<double>::infinity();
  double max_ = std::numeric_limits<double>::infinity();
  bool min_open_ = false, max_open_ = false, finite_ = true;
  std::vector<double> sentinels_;
};

Range AtLeast(double min);              // [min, inf)
Range Positive();                       // (0, inf)
Range Fraction();                       // [0, 1]
Range Between(double min, double max);  // [min, max]

// What a String flag's value names on disk. Parse checks a set, non-empty value; a command
// whose kind depends on other flags calls CheckPath after Parse instead.
class PathKind {
 public:
  enum class Kind {
    kInputFile,   // an existing, readable regular file
    kInputDir,    // an existing, readable directory
    kInputPath,   // an existing, readable file or directory
    kOutputFile,  // not a directory; when it exists writable, else its parent creatable
    kOutputDir,   // a directory, or creatable
  };
  explicit PathKind(Kind kind) : kind_(kind) {}

  // The value is a comma-separated list: every non-empty element is checked.
  PathKind List() const;
  // Only values for which `is_path` is true are checked (flags that also take inline values).
  PathKind When(std::function<bool(const std::string&)> is_path) const;

  Kind kind() const { return kind_; }
  bool list() const { return list_; }
  bool conditional() const { return static_cast<bool>(when_); }
  bool Applies(const std::string& value) const { return !when_ || when_(value); }

 private:
  Kind kind_;
  bool list_ = false;
  std::function<bool(const std::string&)> when_;
};

PathKind InputFile();
PathKind InputDir();
PathKind InputPath();
PathKind OutputFile();
PathKind OutputDir();
// An --arch style value: a file when it does not start with '{' and contains '/' or ends in
// ".json" (the rule of arch/space.h ResolveArch); JSON and names are left to the command.
PathKind InputFileIfPathLike();

// InvalidArgument naming --`name` when `value` is not what `kind` says.
absl::Status CheckPath(const std::string& name, const std::string& value, const PathKind& kind);

class FlagSet {
 public:
  FlagSet(std::string command, std::string summary);

  void String(const std::string& name, std::string* out, const std::string& help,
              bool required = false);
  void String(const std::string& name, std::string* out, const std::string& help,
              const PathKind& path, bool required = false);
  // Without a range an Int flag takes any int64 and a Double flag any finite number.
  void Int(const std::string& name, int64_t* out, const std::string& help, bool required = false);
  void Int(const std::string& name, int64_t* out, const std::string& help, const Range& range,
           bool required = false);
  void Double(const std::string& name, double* out, const std::string& help, bool required = false);
  void Double(const std::string& name, double* out, const std::string& help, const Range& range,
              bool required = false);
  void Bool(const std::string& name, bool* out, const std::string& help);
  // Free arguments (e.g. a file name): `name` is shown in the usage line.
  void Positional(const std::string& name, std::vector<std::string>* out, const std::string& help,
                  int min_count = 0, int max_count = 0);

  // Parses `args` (the words after the command), then checks the ranges and paths of the
  // flags that were set. Sets help_requested() on --help/-h.
  absl::Status Parse(const std::vector<std::string>& args);
  bool help_requested() const { return help_requested_; }
  bool WasSet(const std::string& name) const;
  std::string Usage() const;

 private:
  enum class Kind { kString, kInt, kDouble, kBool };
  struct Flag {
    std::string name;
    Kind kind = Kind::kString;
    void* out = nullptr;
    std::string help;
    bool required = false;
    std::string default_text;
    Range range;
    bool has_range = false;      // declared, shown in Usage()
    std::vector<PathKind> path;  // empty or one
    bool set = false;
  };
  Flag& Add(const std::string& name, Kind kind, void* out, const std::string& help, bool required,
            std::string default_text);
  Flag* Find(const std::string& name);
  absl::Status Assign(Flag* flag, const std::string& value);
  absl::Status AssignNumber(Flag* flag, const std::string& value);
  static std::string TypeText(const Flag& flag);

  std::string command_;
  std::string summary_;
  std::vector<Flag> flags_;
  std::string positional_name_;
  std::string positional_help_;
  std::vector<std::string>* positional_ = nullptr;
  int positional_min_ = 0, positional_max_ = 0;
  bool help_requested_ = false;
};

}  // namespace edgeloop::cli

#endif  // EDGELOOP_TOOLS_CLI_FLAGS_H_
