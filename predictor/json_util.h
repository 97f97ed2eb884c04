// The predictor's JSON helpers are the project's shared ones (base/json.h).
#ifndef EDGELOOP_PREDICTOR_JSON_UTIL_H_
#define EDGELOOP_PREDICTOR_JSON_UTIL_H_

#include "base/json.h"

namespace edgeloop::predictor {

using ::edgeloop::JsonField;
using ::edgeloop::JsonNumber;
using ::edgeloop::JsonNumberArray;
using ::edgeloop::JsonNumberText;
using ::edgeloop::JsonQuote;
using ::edgeloop::JsonString;
using ::edgeloop::JsonStringArray;
using ::edgeloop::ParseJson;

}  // namespace edgeloop::predictor

#endif  // EDGELOOP_PREDICTOR_JSON_UTIL_H_
