// One HTTP request as the server reads it: Beast's request parser configured as the server does
// (api/http/request_parse.hpp), the Request built from it, then the body decoding every dialect
// goes through: gzip / deflate inflation within the inflated-size bound, the JSON or form body,
// the query string.
#include <boost/asio/buffer.hpp>
#include <string>

#include "api/http/body.hpp"
#include "api/http/encoding.hpp"
#include "api/http/request_parse.hpp"
#include "fuzz/fuzz.hpp"

using namespace vigil;
namespace http = boost::beast::http;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  api::RequestParser parser;
  api::configure_head(parser);
  parser.body_limit(64ull << 20);  // server.max_body_mb's default
  parser.eager(true);
  boost::beast::error_code ec;
  std::size_t used = 0;
  // The bytes as they might arrive: in pieces of up to 512. After need_more, the parser must be
  // given what it did not consume plus more (Beast's contract, which the server's reads keep: a
  // call with no new byte trips an assertion of the chunk parser); at the end of the input, stop.
  std::size_t offer = 512;
  while (!parser.is_done() && used < size) {
    std::size_t n = std::min<std::size_t>(offer, size - used);
    std::size_t taken = parser.put(boost::asio::buffer(data + used, n), ec);
    used += taken;
    if (ec == http::error::need_more) {
      ec = {};
      const std::size_t pending = n - taken;  // offered, not consumed
      if (used + pending >= size) break;      // nothing new to give
      offer = pending + 512;
      continue;
    }
    if (ec) break;
    offer = 512;
  }
  if (!parser.is_done() && !parser.is_header_done()) return 0;
  if (ec && ec != http::error::body_limit) return 0;
  if (!parser.is_done() && !ec) {
    // End of input inside the body: the server would wait or see the connection close.
    parser.put_eof(ec);
    if (ec || !parser.is_done()) return 0;
  }
  api::Request req = api::to_request(parser, static_cast<bool>(ec));
  VIGIL_FUZZ_CHECK(req.path.find('?') == std::string::npos, "the path stops at the query string");
  const bool encoded = api::has_content_encoding(req);
  std::string err;
  int st = api::decode_content(req, 1u << 20, err);
  VIGIL_FUZZ_CHECK(st == 0 || st == 400 || st == 413 || st == 415, "a decoding refusal is a client error");
  if (st == 0) {
    VIGIL_FUZZ_CHECK(!api::has_content_encoding(req), "an inflated body has no encoding left");
    VIGIL_FUZZ_CHECK(!encoded || req.body.size() <= (1u << 20), "inflated within the bound");
    nlohmann::json out;
    if (auto e = api::decode_body(req, out)) {
      VIGIL_FUZZ_CHECK(e->status == 400 || e->status == 415, "a body refusal is 400 or 415");
    } else {
      VIGIL_FUZZ_CHECK(out.is_object(), "a decoded body is an object");
    }
  }
  (void)api::query_json(req).dump();
  return 0;
}
