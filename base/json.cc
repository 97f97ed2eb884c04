#include "base/json.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/json_limits.h"
#include "google/protobuf/util/json_util.h"

namespace edgeloop {

using google::protobuf::Struct;
using google::protobuf::Value;

absl::StatusOr<Value> ParseJson(absl::string_view text, absl::string_view origin) {
  if (absl::Status s = CheckJsonLimits(text, origin); !s.ok()) return s;
  Value v;
  auto st = google::protobuf::util::JsonStringToMessage(std::string(text), &v);
  if (!st.ok()) {
    std::string msg(st.message().data(), st.message().size());
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ": not valid JSON (", msg.substr(0, msg.find('\n')), ")"));
  }
  return v;
}

absl::StatusOr<Struct> ParseJsonObject(absl::string_view text, absl::string_view origin) {
  auto v = ParseJson(text, origin);
  if (!v.ok()) return v.status();
  if (v->kind_case() != Value::kStructValue)
    return absl::InvalidArgumentError(absl::StrCat(origin, ": expected a JSON object"));
  return v->struct_value();
}

const Value* JsonField(const Struct& object, absl::string_view key) {
  auto it = object.fields().find(std::string(key));
  return it == object.fields().end() ? nullptr : &it->second;
}

namespace {

// The field `key` of `object`, which must be there with the kind `kind` (`what` names it in
// the error: "a number").
absl::StatusOr<const Value*> TypedJsonField(const Struct& object, absl::string_view key,
                                            absl::string_view origin, Value::KindCase kind,
                                            absl::string_view what) {
  const Value* v = JsonField(object, key);
  if (v == nullptr)
    return absl::InvalidArgumentError(absl::StrCat(origin, ": missing \"", key, "\""));
  if (v->kind_case() != kind)
    return absl::InvalidArgumentError(absl::StrCat(origin, ": \"", key, "\" must be ", what));
  return v;
}

}  // namespace

absl::StatusOr<double> JsonNumber(const Struct& object, absl::string_view key,
                                  absl::string_view origin) {
  auto v = TypedJsonField(object, key, origin, Value::kNumberValue, "a number");
  if (!v.ok()) return v.status();
  return (*v)->number_value();
}

absl::StatusOr<std::string> JsonString(const Struct& object, absl::string_view key,
                                       absl::string_view origin) {
  auto v = TypedJsonField(object, key, origin, Value::kStringValue, "a string");
  if (!v.ok()) return v.status();
  return (*v)->string_value();
}

std::string JsonQuote(absl::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string JsonNumberText(double v) {
  if (!std::isfinite(v)) return "null";
  return absl::StrFormat("%.17g", v);
}

std::string JsonStringArray(const std::vector<std::string>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i)
    absl::StrAppend(&out, i ? "," : "", JsonQuote(values[i]));
  return out + "]";
}

std::string JsonNumberArray(const std::vector<double>& values) {
  std::string out = "[";
  for (size_t i = 0; i < values.size(); ++i)
    absl::StrAppend(&out, i ? "," : "", JsonNumberText(values[i]));
  return out + "]";
}

std::string JsonText(const Value& value) {
  switch (value.kind_case()) {
    case Value::kNumberValue:
      return JsonNumberText(value.number_value());
    case Value::kStringValue:
      return JsonQuote(value.string_value());
    case Value::kBoolValue:
      return value.bool_value() ? "true" : "false";
    case Value::kStructValue: {
      std::string out = "{";
      bool first = true;
      // Map order is unspecified; sort keys so the text is stable.
      std::vector<std::string> keys;
      for (const auto& [k, v] : value.struct_value().fields()) keys.push_back(k);
      std::sort(keys.begin(), keys.end());
      for (const auto& k : keys) {
        absl::StrAppend(&out, first ? "" : ",", JsonQuote(k), ":",
                        JsonText(value.struct_value().fields().at(k)));
        first = false;
      }
      return out + "}";
    }
    case Value::kListValue: {
      std::string out = "[";
      for (int i = 0; i < value.list_value().values_size(); ++i)
        absl::StrAppend(&out, i ? "," : "", JsonText(value.list_value().values(i)));
      return out + "]";
    }
    default:
      return "null";
  }
}

}  // namespace edgeloop
