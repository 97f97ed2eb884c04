// Small JSON helpers shared by the modules: parse any JSON document into a
// google::protobuf::Value (protobuf's JSON parser, already a dependency of the architecture
// contract), typed field access with one-line errors, and writing values.
//
// Numbers are written with 17 significant digits so doubles survive a round trip exactly
// (integers print without a fraction).
#ifndef EDGELOOP_BASE_JSON_H_
#define EDGELOOP_BASE_JSON_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"

namespace edgeloop {

// Parses a JSON document; `origin` names it in errors (e.g. a file path).
absl::StatusOr<google::protobuf::Value> ParseJson(absl::string_view text, absl::string_view origin);
// Parses a document that must be an object.
absl::StatusOr<google::protobuf::Struct> ParseJsonObject(absl::string_view text,
                                                         absl::string_view origin);

// A field of an object, or null when absent.
const google::protobuf::Value* JsonField(const google::protobuf::Struct& object,
                                         absl::string_view key);
absl::StatusOr<double> JsonNumber(const google::protobuf::Struct& object, absl::string_view key,
                                  absl::string_view origin);
absl::StatusOr<std::string> JsonString(const google::protobuf::Struct& object,
                                       absl::string_view key, absl::string_view origin);

std::string JsonQuote(absl::string_view s);
std::string JsonNumberText(double v);
std::string JsonStringArray(const std::vector<std::string>& values);
std::string JsonNumberArray(const std::vector<double>& values);
// Serialises a parsed value back to compact JSON.
std::string JsonText(const google::protobuf::Value& value);

}  // namespace edgeloop

#endif  // EDGELOOP_BASE_JSON_H_
