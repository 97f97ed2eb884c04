#include "predictor/csv.h"

#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "base/atomic_file.h"

namespace edgeloop::predictor {

int CsvTable::Column(absl::string_view name) const {
  for (size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return static_cast<int>(i);
  return -1;
}

bool ParseNumber(absl::string_view text, double* out) {
  text = absl::StripAsciiWhitespace(text);
  if (text.empty() || !absl::SimpleAtod(text, out)) return false;
  return std::isfinite(*out);
}

absl::StatusOr<std::vector<double>> CsvTable::NumericColumn(absl::string_view name) const {
  const int c = Column(name);
  if (c < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ": no column \"", name, "\" in the header"));
  }
  std::vector<double> out(rows.size());
  for (size_t r = 0; r < rows.size(); ++r) {
    if (!ParseNumber(rows[r][c], &out[r])) {
      return absl::InvalidArgumentError(absl::StrCat(origin, ": line ", r + 2, ", column \"", name,
                                                     "\": \"", rows[r][c], "\" is not a number"));
    }
  }
  return out;
}

bool CsvTable::IsNumeric(int column) const {
  double v;
  for (const auto& row : rows)
    if (!ParseNumber(row[column], &v)) return false;
  return !rows.empty();
}

absl::StatusOr<CsvTable> ParseCsv(absl::string_view text, absl::string_view origin) {
  CsvTable table;
  table.origin = std::string(origin);
  std::vector<std::vector<std::string>> records;
  std::vector<std::string> record;
  std::string field;
  bool in_quotes = false, field_started = false;
  int line = 1, record_line = 1;
  auto end_record = [&]() {
    record.push_back(std::move(field));
    field.clear();
    field_started = false;
    // A blank line is no record.
    if (!(record.size() == 1 && record[0].empty())) records.push_back(std::move(record));
    record.clear();
  };
  std::vector<int> record_lines;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"' && !field_started) {
      in_quotes = true;
      field_started = true;
    } else if (c == ',') {
      record.push_back(std::move(field));
      field.clear();
      field_started = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      const size_t before = records.size();
      end_record();
      if (records.size() > before) record_lines.push_back(record_line);
      ++line;
      record_line = line;
    } else {
      field += c;
      field_started = true;
    }
  }
  if (in_quotes) {
    return absl::InvalidArgumentError(
        absl::StrCat(origin, ": line ", record_line, ": unterminated quoted field"));
  }
  if (field_started || !record.empty()) {
    const size_t before = records.size();
    end_record();
    if (records.size() > before) record_lines.push_back(record_line);
  }
  if (records.empty())
    return absl::InvalidArgumentError(absl::StrCat(origin, ": empty CSV (no header)"));
  table.header = std::move(records[0]);
  for (auto& h : table.header) h = std::string(absl::StripAsciiWhitespace(h));
  for (size_t r = 1; r < records.size(); ++r) {
    if (records[r].size() != table.header.size()) {
      return absl::InvalidArgumentError(absl::StrCat(origin, ": line ", record_lines[r], ": ",
                                                     records[r].size(), " fields, the header has ",
                                                     table.header.size()));
    }
    table.rows.push_back(std::move(records[r]));
  }
  return table;
}

absl::StatusOr<CsvTable> ReadCsv(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  return ParseCsv(*text, path);
}

std::string CsvField(absl::string_view value) {
  if (value.find_first_of(",\"\n\r") == absl::string_view::npos) return std::string(value);
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string CsvLine(const std::vector<std::string>& fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i)
    absl::StrAppend(&out, i ? "," : "", CsvField(fields[i]));
  return out + "\n";
}

}  // namespace edgeloop::predictor
