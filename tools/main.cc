// The edgeloop command-line tool: a thin git-style front end over the libraries. Commands
// register themselves from the tools/cmd_*.cc files linked into this binary.
#include <string>
#include <vector>

#include "base/blas_threads.h"
#include "tools/cli/command.h"

int main(int argc, char** argv) {
  edgeloop::PinBlasToOneThread();
  std::vector<std::string> args(argv + 1, argv + argc);
  return edgeloop::cli::GlobalRegistry()->Dispatch(args);
}
