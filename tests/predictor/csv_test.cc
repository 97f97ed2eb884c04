#include "predictor/csv.h"

#include "gtest/gtest.h"

namespace edgeloop::predictor {
namespace {

TEST(CsvTest, QuotedFieldsRoundTrip) {
  const std::vector<std::string> fields = {"a", "{\"x\":[1,2]}", "say \"hi\"", "line\nbreak", ""};
  const std::string text = "h1,h2,h3,h4,h5\n" + CsvLine(fields);
  auto t = ParseCsv(text, "mem");
  ASSERT_TRUE(t.ok()) << t.status();
  ASSERT_EQ(t->rows.size(), 1u);
  EXPECT_EQ(t->rows[0], fields);
}

TEST(CsvTest, NumericColumnsAndErrors) {
  auto t = ParseCsv("a,b,c\r\n1,2,x\r\n3,4.5,y\r\n\r\n", "f.csv");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*t->NumericColumn("b"), (std::vector<double>{2, 4.5}));
  EXPECT_TRUE(t->IsNumeric(0));
  EXPECT_FALSE(t->IsNumeric(2));
  auto bad = t->NumericColumn("c");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("f.csv: line 2, column \"c\""), std::string::npos)
      << bad.status();
  EXPECT_NE(t->NumericColumn("zz").status().message().find("no column \"zz\""), std::string::npos);
}

TEST(CsvTest, RaggedRowsAndUnterminatedQuotesAreErrors) {
  auto ragged = ParseCsv("a,b\n1\n", "r.csv");
  ASSERT_FALSE(ragged.ok());
  EXPECT_NE(ragged.status().message().find("line 2"), std::string::npos) << ragged.status();
  EXPECT_FALSE(ParseCsv("a,b\n\"1,2\n", "q.csv").ok());
  EXPECT_FALSE(ParseCsv("", "e.csv").ok());
}

}  // namespace
}  // namespace edgeloop::predictor
