// application/x-www-form-urlencoded: percent decoding, pairs, and bracket keys as nested JSON
// (form bodies and query strings of every dialect).
#include <string>

#include "api/http/body.hpp"
#include "api/http/form.hpp"
#include "fuzz/fuzz.hpp"

using namespace vigil;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto s = fuzz::text(data, size);
  const std::string decoded = url_decode(s);
  VIGIL_FUZZ_CHECK(decoded.size() <= s.size(), "decoding never grows");
  auto pairs = parse_urlencoded(s);
  std::string too_deep;
  nlohmann::json body = api::form_to_json(pairs, &too_deep);
  VIGIL_FUZZ_CHECK(body.is_object(), "a form body is an object");
  VIGIL_FUZZ_CHECK(too_deep.empty() || body.empty(), "a refused body keeps nothing");
  nlohmann::json query = api::form_to_json(pairs);
  VIGIL_FUZZ_CHECK(query.is_object(), "a query string is an object");
  (void)query.dump();
  api::Request req;
  req.body = std::string(s);
  req.query = req.body;
  nlohmann::json out;
  (void)api::decode_body(req, out);
  req.headers = {{"content-type", "application/json"}};
  if (!api::decode_body(req, out)) VIGIL_FUZZ_CHECK(out.is_object(), "a JSON body is an object");
  (void)api::query_json(req);
  return 0;
}
