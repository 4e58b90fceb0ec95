// Throughput of the /v1/measurements parser on a 1,000-measurement body.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>

#include "engine/ingest_parser.hpp"

namespace {

std::string make_body(int n) {
  std::string body = R"({"tags":{"region":"r3"},"measurements":[)";
  char buf[160];
  for (int i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf,
                  R"(%s{"name":"bench.cpu","time":%d,"value":%d.%03d,"tags":{"host":"h%04d"}})",
                  i ? "," : "", 1700000000 + i / 100, 80 + i % 20, (i * 331) % 1000, i % 10000);
    body += buf;
  }
  body += "]}";
  return body;
}

void BM_parse_measurements_json(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const std::string body = make_body(n);
  for (auto _ : state) {
    vigil::ParseOutcome out = vigil::parse_measurements_json(body, 1700000000);
    if (out.measurements.size() != static_cast<std::size_t>(n)) {
      state.SkipWithError("unexpected measurement count");
      break;
    }
    benchmark::DoNotOptimize(out.measurements.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(body.size()));
  state.counters["body_bytes"] = static_cast<double>(body.size());
}
BENCHMARK(BM_parse_measurements_json)->Arg(1000);

}  // namespace

BENCHMARK_MAIN();
