#include "predictor/latency_model.h"

#include <sqlite3.h>
#include <xgboost/c_api.h>
#if __has_include(<xgboost/version_config.h>)
#include <xgboost/version_config.h>
#endif

#include <string>

#include "absl/strings/str_cat.h"

namespace edgeloop::predictor {

std::vector<LibraryVersion> LibraryVersions() {
  int major = 0, minor = 0, patch = 0;
  XGBoostVersion(&major, &minor, &patch);
  const std::string xgboost = absl::StrCat(major, ".", minor, ".", patch);
#ifdef XGBOOST_VER_MAJOR
  const std::string xgboost_built =
      absl::StrCat(XGBOOST_VER_MAJOR, ".", XGBOOST_VER_MINOR, ".", XGBOOST_VER_PATCH);
#else
  const std::string xgboost_built = xgboost;
#endif
  return {{"XGBoost", xgboost_built, xgboost}, {"SQLite", SQLITE_VERSION, sqlite3_libversion()}};
}

}  // namespace edgeloop::predictor
