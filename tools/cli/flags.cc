#include "tools/cli/flags.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace edgeloop::cli {
namespace {

// Integral values print in full (2147483647, not 2.14748e+09), others as %g.
std::string NumberText(double v) {
  if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e15)
    return absl::StrCat(static_cast<int64_t>(v));
  return absl::StrFormat("%g", v);
}

absl::Status FlagError(const std::string& name, const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat("flag --", name, ": ", message));
}

// `path` does not exist: its nearest existing ancestor must be a directory we may write.
absl::Status CheckCreatable(const std::string& name, const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path parent = fs::path(path).parent_path();
  while (!parent.empty() && !fs::exists(parent, ec)) parent = parent.parent_path();
  if (parent.empty()) parent = ".";
  if (!fs::is_directory(parent, ec)) {
    return FlagError(
        name, absl::StrCat("cannot create ", path, ": ", parent.string(), " is not a directory"));
  }
  if (access(parent.c_str(), W_OK | X_OK) != 0) {
    return FlagError(name, absl::StrCat("cannot create ", path, ": directory ", parent.string(),
                                        " is not writable (", std::strerror(errno), ")"));
  }
  return absl::OkStatus();
}

absl::Status CheckOnePath(const std::string& name, const std::string& path, PathKind::Kind kind) {
  namespace fs = std::filesystem;
  using K = PathKind::Kind;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);  // follows symbolic links
  const bool exists = fs::exists(st), dir = fs::is_directory(st);
  const bool input = kind == K::kInputFile || kind == K::kInputDir || kind == K::kInputPath;
  if (input) {
    if (!exists)
      return FlagError(
          name,
          absl::StrCat(kind == K::kInputDir ? "no such directory: " : "no such file: ", path));
    if (kind == K::kInputFile && dir)
      return FlagError(name, absl::StrCat(path, " is a directory, expected a file"));
    if (kind == K::kInputDir && !dir)
      return FlagError(name, absl::StrCat(path, " is not a directory"));
    if (access(path.c_str(), R_OK) != 0)
      return FlagError(name, absl::StrCat(path, " is not readable (", std::strerror(errno), ")"));
    return absl::OkStatus();
  }
  if (kind == K::kOutputFile && dir)
    return FlagError(name, absl::StrCat(path, " is a directory, expected a file to write"));
  if (kind == K::kOutputDir && exists && !dir)
    return FlagError(name, absl::StrCat(path, " exists and is not a directory"));
  if (!exists) return CheckCreatable(name, path);
  if (access(path.c_str(), dir ? W_OK | X_OK : W_OK) != 0)
    return FlagError(name, absl::StrCat(path, " is not writable (", std::strerror(errno), ")"));
  return absl::OkStatus();
}

}  // namespace

Range Range::WithEnd(bool lower, double value, bool open) const {
  Range r = *this;
  (lower ? r.min_ : r.max_) = value;
  (lower ? r.min_open_ : r.max_open_) = open;
  return r;
}
Range Range::AtLeast(double min) const { return WithEnd(true, min, false); }
Range Range::Above(double min) const { return WithEnd(true, min, true); }
Range Range::AtMost(double max) const { return WithEnd(false, max, false); }
Range Range::Below(double max) const { return WithEnd(false, max, true); }
Range Range::Or(double sentinel) const {
  Range r = *this;
  r.sentinels_.push_back(sentinel);
  return r;
}
Range Range::AllowNonFinite() const {
  Range r = *this;
  r.finite_ = false;
  return r;
}

bool Range::Contains(double v) const {
  if (!std::isfinite(v)) return !finite_;
  if (std::find(sentinels_.begin(), sentinels_.end(), v) != sentinels_.end()) return true;
  const bool above = min_open_ ? v > min_ : v >= min_;
  const bool below = max_open_ ? v < max_ : v <= max_;
  return above && below;
}

std::string Range::ToString() const {
  const bool has_min = std::isfinite(min_), has_max = std::isfinite(max_);
  std::string interval;
  if (has_min && has_max) {
    interval = absl::StrCat("in ", min_open_ ? "(" : "[", NumberText(min_), ", ", NumberText(max_),
                            max_open_ ? ")" : "]");
  } else if (has_min) {
    interval = absl::StrCat(min_open_ ? "> " : ">= ", NumberText(min_));
  } else if (has_max) {
    interval = absl::StrCat(max_open_ ? "< " : "<= ", NumberText(max_));
  } else {
    interval = "any number";
  }
  std::string out;
  for (double s : sentinels_) absl::StrAppend(&out, NumberText(s), " or ");
  return out + interval;
}

Range AtLeast(double min) { return Range().AtLeast(min); }
Range Positive() { return Range().Above(0); }
Range Fraction() { return Range().AtLeast(0).AtMost(1); }
Range Between(double min, double max) { return Range().AtLeast(min).AtMost(max); }

PathKind PathKind::List() const {
  PathKind k = *this;
  k.list_ = true;
  return k;
}
PathKind PathKind::When(std::function<bool(const std::string&)> is_path) const {
  PathKind k = *this;
  k.when_ = std::move(is_path);
  return k;
}

PathKind InputFile() { return PathKind(PathKind::Kind::kInputFile); }
PathKind InputDir() { return PathKind(PathKind::Kind::kInputDir); }
PathKind InputPath() { return PathKind(PathKind::Kind::kInputPath); }
PathKind OutputFile() { return PathKind(PathKind::Kind::kOutputFile); }
PathKind OutputDir() { return PathKind(PathKind::Kind::kOutputDir); }
PathKind InputFileIfPathLike() {
  return InputFile().When([](const std::string& value) {
    absl::string_view v = absl::StripAsciiWhitespace(value);
    return !v.empty() && v.front() != '{' &&
           (absl::StrContains(v, '/') || absl::EndsWith(v, ".json"));
  });
}

absl::Status CheckPath(const std::string& name, const std::string& value, const PathKind& kind) {
  if (value.empty() || !kind.Applies(value)) return absl::OkStatus();
  if (!kind.list()) return CheckOnePath(name, value, kind.kind());
  for (absl::string_view part : absl::StrSplit(value, ',', absl::SkipWhitespace())) {
    if (auto s = CheckOnePath(name, std::string(absl::StripAsciiWhitespace(part)), kind.kind());
        !s.ok())
      return s;
  }
  return absl::OkStatus();
}

FlagSet::FlagSet(std::string command, std::string summary)
    : command_(std::move(command)), summary_(std::move(summary)) {}

FlagSet::Flag& FlagSet::Add(const std::string& name, Kind kind, void* out, const std::string& help,
                            bool required, std::string default_text) {
  Flag f;
  f.name = name;
  f.kind = kind;
  f.out = out;
  f.help = help;
  f.required = required;
  f.default_text = std::move(default_text);
  flags_.push_back(std::move(f));
  return flags_.back();
}

void FlagSet::String(const std::string& name, std::string* out, const std::string& help,
                     bool required) {
  Add(name, Kind::kString, out, help, required, *out);
}
void FlagSet::String(const std::string& name, std::string* out, const std::string& help,
                     const PathKind& path, bool required) {
  Add(name, Kind::kString, out, help, required, *out).path.push_back(path);
}
void FlagSet::Int(const std::string& name, int64_t* out, const std::string& help, bool required) {
  Add(name, Kind::kInt, out, help, required, absl::StrCat(*out));
}
void FlagSet::Int(const std::string& name, int64_t* out, const std::string& help,
                  const Range& range, bool required) {
  Flag& f = Add(name, Kind::kInt, out, help, required, absl::StrCat(*out));
  f.range = range;
  f.has_range = true;
}
void FlagSet::Double(const std::string& name, double* out, const std::string& help, bool required) {
  Add(name, Kind::kDouble, out, help, required, absl::StrFormat("%g", *out));
}
void FlagSet::Double(const std::string& name, double* out, const std::string& help,
                     const Range& range, bool required) {
  Flag& f = Add(name, Kind::kDouble, out, help, required, absl::StrFormat("%g", *out));
  f.range = range;
  f.has_range = true;
}
void FlagSet::Bool(const std::string& name, bool* out, const std::string& help) {
  Add(name, Kind::kBool, out, help, false, *out ? "true" : "false");
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

// Parses an Int or Double value and checks it against the flag's range.
absl::Status FlagSet::AssignNumber(Flag* f, const std::string& value) {
  const std::string expected =
      f->has_range ? absl::StrCat(", expected ", f->range.ToString()) : std::string();
  double v;
  if (f->kind == Kind::kInt) {
    int64_t i;
    if (!absl::SimpleAtoi(value, &i)) {
      const bool digits =
          !value.empty() && std::all_of(value.begin() + (value[0] == '-' || value[0] == '+'),
                                        value.end(), absl::ascii_isdigit);
      return FlagError(f->name, absl::StrCat("'", value, "' is ",
                                             digits ? "out of range" : "not an integer", expected));
    }
    *static_cast<int64_t*>(f->out) = i;
    v = static_cast<double>(i);
  } else {
    if (!absl::SimpleAtod(value, &v))
      return FlagError(f->name, absl::StrCat("'", value, "' is not a number", expected));
    *static_cast<double*>(f->out) = v;
  }
  if (f->range.Contains(v)) return absl::OkStatus();
  if (!std::isfinite(v)) {
    return FlagError(f->name, absl::StrCat("got ", value, ", expected a finite number",
                                           f->has_range ? " " + f->range.ToString() : ""));
  }
  return FlagError(f->name, absl::StrCat("got ", value, expected));
}

absl::Status FlagSet::Assign(Flag* f, const std::string& value) {
  f->set = true;
  switch (f->kind) {
    case Kind::kString:
      *static_cast<std::string*>(f->out) = value;
      return f->path.empty() ? absl::OkStatus() : CheckPath(f->name, value, f->path[0]);
    case Kind::kInt:
    case Kind::kDouble:
      return AssignNumber(f, value);
    case Kind::kBool: {
      bool v;
      if (!absl::SimpleAtob(value, &v))
        return FlagError(f->name, absl::StrCat("'", value, "' is not true or false"));
      *static_cast<bool*>(f->out) = v;
      return absl::OkStatus();
    }
  }
  return absl::OkStatus();
}

// " INT", " FILE", " DIR[,DIR...]", ...: what the value of a flag is, for Usage().
std::string FlagSet::TypeText(const Flag& f) {
  if (f.kind == Kind::kInt) return " INT";
  if (f.kind == Kind::kDouble) return " NUMBER";
  if (f.kind == Kind::kBool) return "";
  if (f.path.empty() || f.path[0].conditional()) return " VALUE";
  using K = PathKind::Kind;
  const K k = f.path[0].kind();
  const std::string word = k == K::kInputDir || k == K::kOutputDir ? "DIR"
                           : k == K::kInputPath                    ? "PATH"
                                                                   : "FILE";
  return f.path[0].list() ? absl::StrCat(" ", word, "[,", word, "...]") : " " + word;
}

absl::Status FlagSet::Parse(const std::vector<std::string>& args) {
  std::vector<std::string> free;
  bool only_positional = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (only_positional || a.size() < 2 || a[0] != '-') {
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
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name, " for 'edgeloop ",
                                                     command_, "' (see edgeloop ", command_,
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
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument '", free[0], "' for 'edgeloop ", command_, "'"));
  } else {
    if (static_cast<int>(free.size()) < positional_min_)
      return absl::InvalidArgumentError(
          absl::StrCat("'edgeloop ", command_, "' needs ", positional_name_));
    if (positional_max_ > 0 && static_cast<int>(free.size()) > positional_max_)
      return absl::InvalidArgumentError(absl::StrCat("too many arguments for 'edgeloop ", command_,
                                                     "': expected at most ", positional_max_));
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
    absl::StrAppend(&out, "  --", f.name, TypeText(f), "\n      ", f.help);
    std::vector<std::string> notes;
    if (f.required) {
      notes.push_back("required");
    } else if (!f.default_text.empty()) {
      notes.push_back(absl::StrCat("default: ", f.default_text));
    }
    if (f.has_range) notes.push_back(f.range.ToString());
    if (!notes.empty()) absl::StrAppend(&out, " (", absl::StrJoin(notes, "; "), ")");
    absl::StrAppend(&out, "\n");
  }
  absl::StrAppend(&out, "  --help\n      show this help\n");
  return out;
}

}  // namespace edgeloop::cli
