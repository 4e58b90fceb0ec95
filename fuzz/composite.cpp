// The Librato composite language: the parser, then the evaluator over two metrics of two
// sources each (semantic errors are std::invalid_argument, as the route answers them with 400).
#include <stdexcept>
#include <string>

#include "api/librato/composite.hpp"
#include "fuzz/fuzz.hpp"

using namespace vigil;
using namespace vigil::composite;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(fuzz::text(data, size));
  std::string err;
  auto node = parse(text, err);
  if (!node) {
    VIGIL_FUZZ_CHECK(!err.empty(), "a refused expression says why");
    return 0;
  }
  (void)first_query(*node);
  Fetch fetch = [](const std::string& metric, const std::string& source, const std::string&) {
    Set out;
    for (const char* m : {"cpu", "mem"})
      for (const char* s : {"web-1", "web-2"})
        if ((metric == m || metric == "*") && (source == "*" || source == s))
          out.push_back({m, s, {{0, 1.5}, {60, -2}, {120, 4}, {180, 0}}});
    return out;
  };
  Sources sources = [](const std::string&) { return std::vector<std::string>{"web-1", "web-2"}; };
  try {
    Set r = evaluate(*node, fetch, Interval{0, 180, 60}, sources);
    for (const auto& s : r)
      for (std::size_t i = 1; i < s.points.size(); ++i)
        VIGIL_FUZZ_CHECK(s.points[i - 1].first <= s.points[i].first, "points in ascending time");
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
