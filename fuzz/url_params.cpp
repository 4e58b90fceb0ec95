// URL parameters of the Librato read routes: a query string through GET /v1/measurements/:name
// and the legacy GET /v1/metrics/:name over an in-memory reader, plus paging and ids.
#include <string>

#include "api/librato/params.hpp"
#include "api/librato/query_api.hpp"
#include "api/http/form.hpp"
#include "engine/meta/catalog.hpp"
#include "fuzz/fuzz.hpp"
#include "tests/support/fake_reader.hpp"

using namespace vigil;
using namespace vigil::api::librato;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto s = fuzz::text(data, size);
  test_support::FakeReader reader;
  for (const char* host : {"web-1", "web-2"}) {
    auto id = reader.add_series("cpu", {{"host", host}, {"region", "us-east"}});
    for (std::int64_t t = fuzz::kNow - 7200; t <= fuzz::kNow; t += 450) reader.add(id, t, double(t % 97));
  }
  MetricInfo info;
  info.name = "cpu";
  const Params q = parse_urlencoded(s);
  api::Response r = get_measurements("cpu", q, &info, reader, fuzz::kNow, 100000, "http://localhost");
  VIGIL_FUZZ_CHECK(r.status == 200 || (r.status >= 400 && r.status < 500), "a client error or an answer");
  if (r.status == 200) VIGIL_FUZZ_CHECK(!nlohmann::json::parse(r.body, nullptr, false).is_discarded(), "JSON answer");
  api::Response legacy = get_metric("cpu", q, info, reader, fuzz::kNow, 100000);
  VIGIL_FUZZ_CHECK(legacy.status == 200 || (legacy.status >= 400 && legacy.status < 500), "a client error or an answer");
  api::Request req;
  req.query = std::string(s);
  Page page;
  api::Response error;
  if (parse_page(query_json(req), {"name", "updated_at"}, page, error))
    VIGIL_FUZZ_CHECK(page.length >= 1 && page.length <= 100 && page.offset >= 0, "page within bounds");
  std::optional<std::string> name;
  (void)parse_name_listing(req, page, name, error);
  std::uint64_t id;
  (void)parse_id(s, id);
  return 0;
}
