#include "edge_bench/protocol.h"

#include "edge_bench/host_info.h"
#include "edge_bench/result_cache.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace edgeloop::edge_bench {
namespace {

TEST(ProtocolTest, ParsesEdgeUrls) {
  auto ep = ParseEdgeUrl("ws://127.0.0.1:8765");
  ASSERT_TRUE(ep.ok());
  EXPECT_FALSE(ep->tls);
  EXPECT_EQ(ep->host, "127.0.0.1");
  EXPECT_EQ(ep->port, "8765");
  EXPECT_EQ(ep->target, "/");
  ep = ParseEdgeUrl("wss://localhost:9000/edge");
  ASSERT_TRUE(ep.ok());
  EXPECT_TRUE(ep->tls);
  EXPECT_EQ(ep->target, "/edge");
  EXPECT_EQ(ep->ToString(), "wss://localhost:9000/edge");
  for (const char* bad : {"http://h:1", "ws://h", "ws://h:0", "ws://h:70000", "ws://:80", ""})
    EXPECT_FALSE(ParseEdgeUrl(bad).ok()) << bad;
  auto hp = ParseHostPort("127.0.0.1:0");
  ASSERT_TRUE(hp.ok());
  EXPECT_EQ(hp->second, 0);
  EXPECT_FALSE(ParseHostPort("127.0.0.1").ok());
}

TEST(ProtocolTest, ClassifiesBadFrames) {
  Envelope e;
  e.mutable_ping()->set_nonce(7);
  std::string good = EncodeEnvelope(e);
  Envelope out;
  std::string why;
  EXPECT_EQ(DecodeEnvelope(good, &out, &why), ERROR_UNSPECIFIED);
  EXPECT_EQ(out.ping().nonce(), 7u);
  EXPECT_EQ(out.protocol_version(), kProtocolVersion);

  EXPECT_EQ(DecodeEnvelope("\xff\xff\xff\xff\xff", &out, &why), ERROR_BAD_MESSAGE);
  Envelope future = e;
  future.set_protocol_version(kProtocolVersion + 1);
  EXPECT_EQ(DecodeEnvelope(future.SerializeAsString(), &out, &why), ERROR_UNSUPPORTED_VERSION);
  // Field 99 (varint 1): a message type this version does not know.
  std::string unknown = std::string("\x08\x01", 2) + std::string("\x98\x06\x01", 3);
  EXPECT_EQ(DecodeEnvelope(unknown, &out, &why), ERROR_UNKNOWN_MESSAGE);
}

TEST(ProtocolTest, ErrorsMapToStatusCodes) {
  Error err;
  err.set_code(ERROR_BUSY);
  err.set_message("full");
  absl::Status st = StatusFromError(err);
  EXPECT_TRUE(absl::IsResourceExhausted(st));
  EXPECT_EQ(st.message(), "busy: full");
}

TEST(ResultCacheTest, PersistsAtomicallyAndRejectsGarbage) {
  testing::TempDir dir;
  const std::string path = dir.File("cache.pb");
  const std::string key = ResultCache::Key("p2.4.4-e96", 4, "abcd", 2);
  {
    auto cache = ResultCache::Open(path);
    ASSERT_TRUE(cache.ok());
    EXPECT_FALSE((*cache)->Lookup(key).has_value());
    BatchResult r;
    r.set_batch_size(4);
    r.set_median_ms(12.5);
    ASSERT_TRUE((*cache)->Put(key, r).ok());
  }
  auto reopened = ResultCache::Open(path);
  ASSERT_TRUE(reopened.ok());
  auto hit = (*reopened)->Lookup(key);
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->median_ms(), 12.5);
  EXPECT_FALSE((*reopened)->Lookup(ResultCache::Key("p2.4.4-e96", 4, "abcd", 1)).has_value());

  FILE* f = fopen(path.c_str(), "wb");
  fputs("\xff\xff not a cache", f);
  fclose(f);
  EXPECT_TRUE(absl::IsDataLoss(ResultCache::Open(path).status()));
}

TEST(HostInfoTest, FingerprintIsStableAndSensitive) {
  DeviceInfo a;
  a.set_cpu_model(CpuModel());
  a.set_cores(LogicalCores());
  a.set_threads(1);
  a.set_torch_version("1.13.0");
  a.set_device("cpu");
  DeviceInfo b = a;
  b.set_hostname("elsewhere");  // the host name is not part of the device
  EXPECT_EQ(DeviceFingerprint(a), DeviceFingerprint(b));
  EXPECT_EQ(DeviceFingerprint(a).size(), 16u);
  b.set_threads(2);
  EXPECT_NE(DeviceFingerprint(a), DeviceFingerprint(b));
  EXPECT_GT(ProcessRssBytes(), 0);
  EXPECT_GE(ProcessPeakRssBytes(), ProcessRssBytes() / 2);
}

}  // namespace
}  // namespace edgeloop::edge_bench
