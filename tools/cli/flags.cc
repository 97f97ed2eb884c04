#include "tools/cli/flags.h"

#include <cerrno>
#include <cstdlib>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace edgeloop::cli {

FlagSet::FlagSet(std::string command, std::string summary)
    : command_(std::move(command)), summary_(std::move(summary)) {}

void FlagSet::String(const std::string& name, std::string* out, const std::string& help,
                     bool required) {
  flags_.push_back({name, Kind::kString, out, help, required, *out});
}
void FlagSet::Int(const std::string& name, int64_t* out, const std::string& help, bool required) {
  flags_.push_back({name, Kind::kInt, out, help, required, absl::StrCat(*out)});
}
void FlagSet::Double(const std::string& name, double* out, const std::string& help,
                     bool required) {
  flags_.push_back({name, Kind::kDouble, out, help, required, absl::StrFormat("%g", *out)});
}
void FlagSet::Bool(const std::string& name, bool* out, const std::string& help) {
  flags_.push_back({name, Kind::kBool, out, help, false, *out ? "true" : "false"});
}
void FlagSet::Positional(const std::string& name, std::vector<std::string>* out,
                         const std::string& help, int min_count, int max_count) {
  positional_name_ = name;
  positional_help_ = help;
  positional_ = out;
  positional_min_ = min_count;
  positional_max_ = max_count;
}

FlagSet::Flag* FlagSet::Find(const std::string& name) {
  for (auto& f : flags_)
    if (f.name == name) return &f;
  return nullptr;
}

bool FlagSet::WasSet(const std::string& name) const {
  for (const auto& f : flags_)
    if (f.name == name) return f.set;
  return false;
}

absl::Status FlagSet::Assign(Flag* f, const std::string& value) {
  f->set = true;
  switch (f->kind) {
    case Kind::kString:
      *static_cast<std::string*>(f->out) = value;
      return absl::OkStatus();
    case Kind::kInt: {
      int64_t v;
      if (!absl::SimpleAtoi(value, &v))
        return absl::InvalidArgumentError(
            absl::StrCat("flag --", f->name, ": '", value, "' is not an integer"));
      *static_cast<int64_t*>(f->out) = v;
      return absl::OkStatus();
    }
    case Kind::kDouble: {
      double v;
      if (!absl::SimpleAtod(value, &v))
        return absl::InvalidArgumentError(
            absl::StrCat("flag --", f->name, ": '", value, "' is not a number"));
      *static_cast<double*>(f->out) = v;
      return absl::OkStatus();
    }
    case Kind::kBool: {
      bool v;
      if (!absl::SimpleAtob(value, &v))
        return absl::InvalidArgumentError(
            absl::StrCat("flag --", f->name, ": '", value, "' is not true or false"));
      *static_cast<bool*>(f->out) = v;
      return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

absl::Status FlagSet::Parse(const std::vector<std::string>& args) {
  std::vector<std::string> free;
  bool only_positional = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (only_positional || a.size() < 2 || a[0] != '-' ) {
      free.push_back(a);
      continue;
    }
    if (a == "--") {
      only_positional = true;
      continue;
    }
    if (a == "--help" || a == "-h" || a == "-help") {
      help_requested_ = true;
      return absl::OkStatus();
    }
    std::string body = a.substr(a[1] == '-' ? 2 : 1);
    std::string name = body, value;
    bool has_value = false;
    if (size_t eq = body.find('='); eq != std::string::npos) {
      name = body.substr(0, eq);
      value = body.substr(eq + 1);
      has_value = true;
    }
    Flag* f = Find(name);
    if (f == nullptr && absl::StartsWith(name, "no")) {
      Flag* neg = Find(name.substr(2));
      if (neg != nullptr && neg->kind == Kind::kBool && !has_value) {
        neg->set = true;
        *static_cast<bool*>(neg->out) = false;
        continue;
      }
    }
    if (f == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown flag --", name, " for 'edgeloop ", command_, "' (see edgeloop ", command_,
          " --help)"));
    }
    if (f->kind == Kind::kBool && !has_value) {
      f->set = true;
      *static_cast<bool*>(f->out) = true;
      continue;
    }
    if (!has_value) {
      if (i + 1 >= args.size())
        return absl::InvalidArgumentError(absl::StrCat("flag --", name, " needs a value"));
      value = args[++i];
    }
    if (auto s = Assign(f, value); !s.ok()) return s;
  }
  for (const auto& f : flags_) {
    if (f.required && !f.set)
      return absl::InvalidArgumentError(absl::StrCat("missing required flag --", f.name,
                                                     " (see edgeloop ", command_, " --help)"));
  }
  if (positional_ == nullptr) {
    if (!free.empty())
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", free[0],
                                                     "' for 'edgeloop ", command_, "'"));
  } else {
    if (static_cast<int>(free.size()) < positional_min_)
      return absl::InvalidArgumentError(
          absl::StrCat("'edgeloop ", command_, "' needs ", positional_name_));
    if (positional_max_ > 0 && static_cast<int>(free.size()) > positional_max_)
      return absl::InvalidArgumentError(absl::StrCat("too many arguments for 'edgeloop ",
                                                     command_, "': expected at most ",
                                                     positional_max_));
    *positional_ = free;
  }
  return absl::OkStatus();
}

std::string FlagSet::Usage() const {
  std::string out = absl::StrCat("usage: edgeloop ", command_, " [flags]");
  if (positional_ != nullptr) absl::StrAppend(&out, " ", positional_name_);
  absl::StrAppend(&out, "\n\n", summary_, "\n");
  if (positional_ != nullptr)
    absl::StrAppend(&out, "\n  ", positional_name_, "\n      ", positional_help_, "\n");
  if (!flags_.empty()) absl::StrAppend(&out, "\nflags:\n");
  for (const auto& f : flags_) {
    const char* type = f.kind == Kind::kString ? " VALUE"
                       : f.kind == Kind::kInt  ? " INT"
                       : f.kind == Kind::kDouble ? " NUMBER"
                                                 : "";
    absl::StrAppend(&out, "  --", f.name, type, "\n      ", f.help);
    if (f.required) {
      absl::StrAppend(&out, " (required)");
    } else if (!f.default_text.empty()) {
      absl::StrAppend(&out, " (default: ", f.default_text, ")");
    }
    absl::StrAppend(&out, "\n");
  }
  absl::StrAppend(&out, "  --help\n      show this help\n");
  return out;
}

}  // namespace edgeloop::cli
