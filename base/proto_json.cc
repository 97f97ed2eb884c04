#include "base/proto_json.h"

#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "base/json_limits.h"
#include "google/protobuf/util/json_util.h"

namespace edgeloop {
namespace {

// `context` and the first line of protobuf's message (a parse error may carry a caret
// diagram on further lines).
template <typename ProtobufStatus>
absl::Status Explained(absl::StatusCode code, absl::string_view context,
                       const ProtobufStatus& status) {
  const std::string message(status.message().data(), status.message().size());
  return absl::Status(code,
                      absl::StrCat(context, " (", message.substr(0, message.find('\n')), ")"));
}

}  // namespace

absl::StatusOr<std::string> ProtoToJson(const google::protobuf::Message& record) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  const auto status = google::protobuf::util::MessageToJsonString(record, &out, options);
  if (!status.ok()) {
    return Explained(absl::StatusCode::kInternal,
                     absl::StrCat("cannot write ", record.GetTypeName(), " as JSON"), status);
  }
  return out;
}

absl::Status ProtoFromJson(absl::string_view text, absl::string_view origin,
                           google::protobuf::Message* record) {
  record->Clear();
  if (absl::Status s = CheckJsonLimits(text, origin); !s.ok()) return s;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(text.data(), text.size()), record, options);
  if (status.ok()) return absl::OkStatus();
  return Explained(absl::StatusCode::kInvalidArgument,
                   absl::StrCat(origin, ": not a valid ", record->GetTypeName()), status);
}

google::protobuf::Value NumberOrNull(double v) {
  google::protobuf::Value value;
  if (std::isfinite(v)) {
    value.set_number_value(v);
  } else {
    value.set_null_value(google::protobuf::NULL_VALUE);
  }
  return value;
}

double NumberOrNaN(const google::protobuf::Value& v) {
  return v.kind_case() == google::protobuf::Value::kNumberValue
             ? v.number_value()
             : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace edgeloop
