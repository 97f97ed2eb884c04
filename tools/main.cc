// The edgeloop command-line tool: a thin git-style front end over the libraries. Commands
// register themselves from the tools/cmd_*.cc files linked into this binary.
#include <cstdio>
#include <string>
#include <vector>

#include "base/blas_threads.h"
#include "tools/cli/command.h"
#include "tools/version.h"

int main(int argc, char** argv) {
  edgeloop::PinBlasToOneThread();
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 1 && (args[0] == "--version" || args[0] == "version")) {
    for (const std::string& line : edgeloop::tools::VersionLines()) std::puts(line.c_str());
    return 0;
  }
  return edgeloop::cli::GlobalRegistry()->Dispatch(args);
}
