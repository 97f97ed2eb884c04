#include "edge_bench/host_info.h"

#include <openssl/crypto.h>
#include <openssl/opensslv.h>

#include <boost/version.hpp>
#include <string>

#include "absl/strings/str_cat.h"

namespace edgeloop::edge_bench {

std::vector<LibraryVersion> LibraryVersions() {
  const std::string boost = absl::StrCat(BOOST_VERSION / 100000, ".", BOOST_VERSION / 100 % 1000,
                                         ".", BOOST_VERSION % 100);
  // "OpenSSL 3.0.15 3 Sep 2024": the version is the second word.
  auto second_word = [](std::string text) {
    text = text.substr(text.find(' ') + 1);
    return text.substr(0, text.find(' '));
  };
  return {{"Boost", boost, ""},
          {"OpenSSL", second_word(OPENSSL_VERSION_TEXT),
           second_word(OpenSSL_version(OPENSSL_VERSION))}};
}

}  // namespace edgeloop::edge_bench
