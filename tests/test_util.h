// Helpers shared by the tests: paths of the source tree and built binaries, temp dirs,
// and running the CLI as a user would.
#ifndef EDGELOOP_TESTS_TEST_UTIL_H_
#define EDGELOOP_TESTS_TEST_UTIL_H_

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace edgeloop::testing {

// The CMake build compiles in its source and build directories; the environment variables
// EDGELOOP_SOURCE_DIR / EDGELOOP_BINARY_DIR override them. Under `bazel test` the sources
// are the runfiles tree, which is the working directory.
#ifndef EDGELOOP_SOURCE_DIR_DEFAULT
#define EDGELOOP_SOURCE_DIR_DEFAULT "."
#endif
#ifndef EDGELOOP_BINARY_DIR_DEFAULT
#define EDGELOOP_BINARY_DIR_DEFAULT "build"
#endif
inline std::string SourceDir() {
  const char* d = std::getenv("EDGELOOP_SOURCE_DIR");
  return d ? d : EDGELOOP_SOURCE_DIR_DEFAULT;
}
inline std::string BinaryDir() {
  const char* d = std::getenv("EDGELOOP_BINARY_DIR");
  return d ? d : EDGELOOP_BINARY_DIR_DEFAULT;
}
inline std::string SourcePath(const std::string& rel) { return SourceDir() + "/" + rel; }
inline std::string EdgeloopBinary() {
  const char* bin = std::getenv("EDGELOOP_BIN");
  return bin ? bin : BinaryDir() + "/tools/edgeloop";
}

// A loopback TCP port free right now (for MASTER_PORT, servers started by a test).
inline int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// A fresh temporary directory removed at destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "edgeloop_test_XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout and stderr together
};

// Runs a shell command line, capturing stdout+stderr and the exit code.
inline CommandResult RunCommand(const std::string& command) {
  CommandResult r;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.out.append(buf.data(), n);
  int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

inline CommandResult RunEdgeloop(const std::string& args) {
  return RunCommand(EdgeloopBinary() + " " + args);
}

// Runs `edgeloop args` as the unprivileged user nobody, for cases that need file modes to
// matter (root reads and writes whatever they say). False when this process is not root or
// setpriv is missing; `dir` is opened to other users first.
inline bool RunEdgeloopAsNobody(const std::string& dir, const std::string& args,
                                CommandResult* result) {
  if (geteuid() != 0 || access("/usr/bin/setpriv", X_OK) != 0) return false;
  std::filesystem::permissions(
      dir, std::filesystem::perms::owner_all | std::filesystem::perms::group_read |
               std::filesystem::perms::group_exec | std::filesystem::perms::others_read |
               std::filesystem::perms::others_exec);
  *result = RunCommand("/usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups " +
                       EdgeloopBinary() + " " + args);
  return true;
}

}  // namespace edgeloop::testing

#endif  // EDGELOOP_TESTS_TEST_UTIL_H_
