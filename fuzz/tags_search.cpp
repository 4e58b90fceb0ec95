// The tags_search grammar of GET /v1/measurements, parsed and matched against a few tag sets.
#include <string>

#include "api/librato/lang/tags_search.hpp"
#include "fuzz/fuzz.hpp"

using namespace vigil;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string err;
  auto search = parse_tags_search(fuzz::text(data, size), err);
  if (!search) {
    VIGIL_FUZZ_CHECK(!err.empty(), "a refused expression says why");
    return 0;
  }
  const Tags sets[] = {Tags{}, Tags{{"host", "web-1"}}, Tags{{"host", "db-2"}, {"region", "us-east"}},
                       Tags{{"a", "*"}, {"region", "eu"}, {"zone", "x.y:z_1"}}};
  for (const auto& t : sets) (void)search->matches(t);
  return 0;
}
