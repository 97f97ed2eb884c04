// RFC 4180 CSV tables: a header row, then rows of the same width. Fields may be quoted
// ("a,b", "say ""hi"""), so architecture JSON fits in one column. Errors name the file,
// the line and the column.
#ifndef EDGELOOP_PREDICTOR_CSV_H_
#define EDGELOOP_PREDICTOR_CSV_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace edgeloop::predictor {

struct CsvTable {
  std::string origin;  // file name, for errors
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;

  // Index of a column, or -1.
  int Column(absl::string_view name) const;
  // The values of a column as numbers; InvalidArgument naming the line when a cell is empty
  // or not a finite number, or when the column is missing.
  absl::StatusOr<std::vector<double>> NumericColumn(absl::string_view name) const;
  // True when every cell of the column parses as a finite number.
  bool IsNumeric(int column) const;
};

absl::StatusOr<CsvTable> ParseCsv(absl::string_view text, absl::string_view origin);
absl::StatusOr<CsvTable> ReadCsv(const std::string& path);

// One field, quoted when it holds a comma, quote or newline.
std::string CsvField(absl::string_view value);
// One line (with '\n') from fields.
std::string CsvLine(const std::vector<std::string>& fields);

bool ParseNumber(absl::string_view text, double* out);

}  // namespace edgeloop::predictor

#endif  // EDGELOOP_PREDICTOR_CSV_H_
