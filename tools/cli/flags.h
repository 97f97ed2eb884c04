// Per-subcommand command-line flags for the edgeloop CLI.
//
// Each subcommand declares its own FlagSet, so `edgeloop <cmd> --help` lists exactly the
// flags of that command. Flags are `--name value` or `--name=value`; booleans are
// `--name`, `--name=true|false` or `--noname`. Unknown flags, missing values, malformed
// numbers and missing required flags are InvalidArgument errors that name the flag.
#ifndef EDGELOOP_TOOLS_CLI_FLAGS_H_
#define EDGELOOP_TOOLS_CLI_FLAGS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace edgeloop::cli {

class FlagSet {
 public:
  FlagSet(std::string command, std::string summary);

  void String(const std::string& name, std::string* out, const std::string& help,
              bool required = false);
  void Int(const std::string& name, int64_t* out, const std::string& help, bool required = false);
  void Double(const std::string& name, double* out, const std::string& help,
              bool required = false);
  void Bool(const std::string& name, bool* out, const std::string& help);
  // Free arguments (e.g. a file name): `name` is shown in the usage line.
  void Positional(const std::string& name, std::vector<std::string>* out, const std::string& help,
                  int min_count = 0, int max_count = 0);

  // Parses `args` (the words after the command). Sets help_requested() on --help/-h.
  absl::Status Parse(const std::vector<std::string>& args);
  bool help_requested() const { return help_requested_; }
  bool WasSet(const std::string& name) const;
  std::string Usage() const;

 private:
  enum class Kind { kString, kInt, kDouble, kBool };
  struct Flag {
    std::string name;
    Kind kind;
    void* out;
    std::string help;
    bool required;
    std::string default_text;
    bool set = false;
  };
  Flag* Find(const std::string& name);
  absl::Status Assign(Flag* flag, const std::string& value);

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
