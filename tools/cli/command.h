// Git-style subcommands of the `edgeloop` binary.
//
// A command is a path of words ("space info") with a one-line summary and a Run function
// that receives the remaining arguments and returns the process exit code. Modules register
// their commands with a CommandRegistrar in a tools/cmd_*.cc file. Exit codes: 0 success,
// 1 a runtime failure, 2 bad input or usage, 75 (EX_TEMPFAIL) interrupted by SIGINT/SIGTERM
// after saving its state: running the command again with --resume continues it.
#ifndef EDGELOOP_TOOLS_CLI_COMMAND_H_
#define EDGELOOP_TOOLS_CLI_COMMAND_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "tools/cli/flags.h"

namespace edgeloop::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitBadInput = 2;
inline constexpr int kExitInterrupted = 75;

struct Command {
  std::string path;     // e.g. "space info"
  std::string summary;  // one line
  std::function<int(const std::vector<std::string>& args)> run;
};

class Registry {
 public:
  void Add(Command command);
  // Dispatches argv (without the program name); prints help when asked or when the
  // command words are incomplete or unknown.
  int Dispatch(const std::vector<std::string>& args) const;
  std::string Help(const std::string& prefix) const;

 private:
  std::vector<Command> commands_;
};

// The process-wide registry of the `edgeloop` binary.
Registry* GlobalRegistry();

// Registers commands at static-initialisation time from a cmd_*.cc file linked into the
// binary, so adding a command never touches main():
//   static const cli::CommandRegistrar kRegister({{"space info", "...", SpaceInfo}, ...});
struct CommandRegistrar {
  explicit CommandRegistrar(std::vector<Command> commands) {
    for (auto& c : commands) GlobalRegistry()->Add(std::move(c));
  }
};

// Prints "edgeloop <command>: error: <message>" and returns the exit code for `status`
// (2 for InvalidArgument, NotFound, FailedPrecondition, OutOfRange, AlreadyExists; else 1).
int ReportError(const std::string& command, const absl::Status& status);

// Parses flags for a command: on --help prints usage and returns 0 through *exit_code;
// on error prints it and returns 2. Returns true when the command should run.
bool ParseFlags(FlagSet* flags, const std::string& command, const std::vector<std::string>& args,
                int* exit_code);

}  // namespace edgeloop::cli

#endif  // EDGELOOP_TOOLS_CLI_COMMAND_H_
