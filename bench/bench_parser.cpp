// Throughput of the /v1/measurements parser: a 1,000-measurement body (HTTP), and 1,000 bodies of
// one measurement each appended to one batch (a Kafka batch of W1 messages).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <string>

#include "api/librato/lang/ingest_parser.hpp"

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

// `n` bodies of one W1-shaped measurement each, on 1,000 series.
std::vector<std::string> single_bodies(int n) {
  std::vector<std::string> bodies;
  char buf[200];
  for (int i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf,
                  R"({"name":"bench.cpu","time":%d,"value":%d.%03d,"tags":{"host":"h%04d","region":"r%d"}})",
                  1700000000 + i / 100, 80 + i % 20, (i * 331) % 1000, i % 1000, i % 10);
    bodies.emplace_back(buf);
  }
  return bodies;
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

void BM_parse_single_measurement_bodies(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const std::vector<std::string> bodies = single_bodies(n);
  vigil::ParseOutcome out;
  for (auto _ : state) {
    vigil::recycle(out.measurements);
    out.measurements.clear();
    for (const auto& b : bodies) vigil::parse_measurements_json_into(b, 1700000000, nullptr, out);
    if (out.measurements.size() != static_cast<std::size_t>(n)) {
      state.SkipWithError("unexpected measurement count");
      break;
    }
    benchmark::DoNotOptimize(out.measurements.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_parse_single_measurement_bodies)->Arg(1000);

// The same bodies as a Kafka consumer's parser sees them once it has learned their series
// (parse_measurement_message): time and value parsed, the series named by its id.
void BM_parse_known_series_messages(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const std::vector<std::string> bodies = single_bodies(n);
  vigil::ParseOutcome out;
  for (const auto& b : bodies) vigil::parse_measurement_message(b, 1700000000, nullptr, 1, out);
  for (std::size_t i = 0; i < out.measurements.size(); ++i) {
    out.measurements[i].series_id = i + 1;
    out.measurements[i].series_generation = 1;
  }
  vigil::learn_series(out.measurements);
  for (auto _ : state) {
    out.measurements.clear();
    for (const auto& b : bodies) vigil::parse_measurement_message(b, 1700000000, nullptr, 1, out);
    if (out.measurements.size() != static_cast<std::size_t>(n) || out.measurements[0].series_id == 0) {
      state.SkipWithError("unexpected outcome");
      break;
    }
    benchmark::DoNotOptimize(out.measurements.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_parse_known_series_messages)->Arg(1000);

}  // namespace

BENCHMARK_MAIN();
