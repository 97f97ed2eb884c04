#include "base/json.h"

#include <string>

#include "base/json_limits.h"
#include "base/proto_json.h"
#include "gtest/gtest.h"

namespace edgeloop {
namespace {

TEST(JsonTest, ParseAndAccess) {
  auto o = ParseJsonObject(R"({"a": 1.5, "s": "x\"y", "n": null, "l": [1, 2]})", "t.json");
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(*JsonNumber(*o, "a", "t.json"), 1.5);
  EXPECT_EQ(*JsonString(*o, "s", "t.json"), "x\"y");
  EXPECT_EQ(JsonField(*o, "missing"), nullptr);
  auto bad = JsonNumber(*o, "s", "t.json");
  EXPECT_NE(bad.status().message().find("t.json: \"s\" must be a number"), std::string::npos);
  EXPECT_NE(JsonString(*o, "zz", "t.json").status().message().find("t.json: missing \"zz\""),
            std::string::npos);
}

TEST(JsonTest, Errors) {
  auto v = ParseJson("{oops", "f.json");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().message().find('\n'), std::string::npos);
  EXPECT_EQ(v.status().message().rfind("f.json: not valid JSON", 0), 0u);
  EXPECT_FALSE(ParseJsonObject("[1]", "f.json").ok());
}

TEST(JsonTest, WriteRoundTrips) {
  EXPECT_EQ(JsonQuote("a\"b\\c\n\x01"), R"("a\"b\\c\n\u0001")");
  EXPECT_EQ(JsonNumberText(3), "3");
  EXPECT_EQ(JsonNumberText(0.1), "0.10000000000000001");
  EXPECT_EQ(JsonNumberArray({1, 2.5}), "[1,2.5]");
  EXPECT_EQ(JsonStringArray({"a", "b"}), R"(["a","b"])");
  auto v = ParseJson(R"({"b":[1,"x",true],"a":{"c":null}})", "t");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(JsonText(*v), R"({"a":{"c":null},"b":[1,"x",true]})");
}

// Nesting is bounded before protobuf's parser sees the text (40,000 levels took it minutes);
// brackets inside strings do not count, and size is bounded too.
TEST(JsonTest, DeepNestingAndHugeDocumentsAreRefusedInLinearTime) {
  const std::string deep = std::string(40000, '[') + std::string(40000, ']');
  auto v = ParseJson(deep, "deep.json");
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("deep.json: JSON nested deeper than 32 levels"),
            std::string::npos)
      << v.status();
  google::protobuf::Struct record;
  EXPECT_FALSE(ProtoFromJson("{\"a\":" + deep + "}", "state.json", &record).ok());
  const std::string fine = std::string(20, '[') + std::string(20, ']');
  EXPECT_TRUE(ParseJson(fine, "ok.json").ok());
  EXPECT_TRUE(ParseJson("{\"s\":\"" + std::string(1000, '[') + "\\\"{\"}", "s.json").ok());
  EXPECT_TRUE(CheckJsonLimits(std::string(33, '{'), "x").code() ==
              absl::StatusCode::kInvalidArgument);
  absl::Status big = CheckJsonLimits(std::string(2048, ' '), "big.json", 32, 1024);
  EXPECT_NE(big.message().find("big.json: JSON of 2048 bytes; at most 1024"), std::string::npos)
      << big;
}

}  // namespace
}  // namespace edgeloop
