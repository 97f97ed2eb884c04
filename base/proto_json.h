// The JSON form of every fixed-key document edgeloop persists (Protobuf messages such as
// search/search_state.proto's, predictor/model_meta.proto's, the pipeline's stage records):
// protobuf's JSON printer and parser under fixed options, so that every writer and reader
// of these files agrees.
//
// Printed: one line, keys exactly the .proto field names, every scalar printed even when
// zero or empty (readers find every key), unset message fields left out; doubles read back
// bit for bit, 64-bit integers print as strings. Parsed: keys the message does not know are
// ignored (a newer writer may add some), numbers are accepted for 64-bit integers, and null
// leaves a field at its default. A double that may be unknown is therefore a
// google.protobuf.Value in the message: NumberOrNull writes NaN and infinities as null,
// NumberOrNaN reads null (or an unset Value) back as NaN.
#ifndef EDGELOOP_BASE_PROTO_JSON_H_
#define EDGELOOP_BASE_PROTO_JSON_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "google/protobuf/struct.pb.h"

namespace edgeloop {

// Compact JSON of `record`, without a trailing newline.
absl::StatusOr<std::string> ProtoToJson(const google::protobuf::Message& record);

// Parses `text` into `record` (cleared first); `origin` names the text in errors.
absl::Status ProtoFromJson(absl::string_view text, absl::string_view origin,
                           google::protobuf::Message* record);

// null when `v` is not finite, else the number.
google::protobuf::Value NumberOrNull(double v);
// The number, or NaN for null or any other non-number.
double NumberOrNaN(const google::protobuf::Value& v);

}  // namespace edgeloop

#endif  // EDGELOOP_BASE_PROTO_JSON_H_
