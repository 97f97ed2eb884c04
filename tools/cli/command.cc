#include "tools/cli/command.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace edgeloop::cli {

Registry* GlobalRegistry() {
  static Registry* registry = new Registry();
  return registry;
}

void Registry::Add(Command command) {
  commands_.push_back(std::move(command));
  std::sort(commands_.begin(), commands_.end(),
            [](const Command& a, const Command& b) { return a.path < b.path; });
}

std::string Registry::Help(const std::string& prefix) const {
  std::string out;
  if (prefix.empty()) {
    out =
        "edgeloop: hardware-aware neural architecture search with the edge device in the loop\n\n"
        "usage: edgeloop <command> [flags]   (edgeloop <command> --help for its flags)\n"
        "       edgeloop --version           (edgeloop's and its libraries' versions)\n\n"
        "commands:\n";
  } else {
    out = absl::StrCat("usage: edgeloop ", prefix, " <subcommand> [flags]\n\nsubcommands:\n");
  }
  size_t width = 0;
  for (const auto& c : commands_) width = std::max(width, c.path.size());
  for (const auto& c : commands_) {
    if (!prefix.empty() && !absl::StartsWith(c.path, prefix + " ")) continue;
    absl::StrAppend(&out, "  ", c.path, std::string(width - c.path.size() + 2, ' '), c.summary,
                    "\n");
  }
  return out;
}

int Registry::Dispatch(const std::vector<std::string>& args) const {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(Help("").c_str(), args.empty() ? stderr : stdout);
    return args.empty() ? kExitBadInput : kExitOk;
  }
  // Longest command path that prefixes the arguments.
  const Command* best = nullptr;
  size_t best_words = 0;
  for (const auto& c : commands_) {
    std::vector<std::string> words = absl::StrSplit(c.path, ' ');
    if (words.size() > args.size()) continue;
    bool match = true;
    for (size_t i = 0; i < words.size(); ++i) match &= words[i] == args[i];
    if (match && words.size() > best_words) {
      best = &c;
      best_words = words.size();
    }
  }
  if (best != nullptr) {
    return best->run(std::vector<std::string>(args.begin() + best_words, args.end()));
  }
  // A group word ("space") alone or with --help lists its subcommands.
  for (const auto& c : commands_) {
    if (absl::StartsWith(c.path, args[0] + " ")) {
      bool help = args.size() > 1 && (args[1] == "--help" || args[1] == "-h");
      if (args.size() > 1 && !help) {
        std::fprintf(stderr, "edgeloop: unknown subcommand '%s %s'\n\n", args[0].c_str(),
                     args[1].c_str());
      }
      std::fputs(Help(args[0]).c_str(), help ? stdout : stderr);
      return help ? kExitOk : kExitBadInput;
    }
  }
  std::fprintf(stderr, "edgeloop: unknown command '%s'\n\n%s", args[0].c_str(), Help("").c_str());
  return kExitBadInput;
}

int ReportError(const std::string& command, const absl::Status& status) {
  std::fprintf(stderr, "edgeloop %s: error: %s\n", command.c_str(),
               std::string(status.message()).c_str());
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kAlreadyExists:
      return kExitBadInput;
    default:
      return kExitFailure;
  }
}

bool ParseFlags(FlagSet* flags, const std::string& command, const std::vector<std::string>& args,
                int* exit_code) {
  absl::Status s = flags->Parse(args);
  if (!s.ok()) {
    *exit_code = ReportError(command, s);
    return false;
  }
  if (flags->help_requested()) {
    std::fputs(flags->Usage().c_str(), stdout);
    *exit_code = kExitOk;
    return false;
  }
  return true;
}

}  // namespace edgeloop::cli
