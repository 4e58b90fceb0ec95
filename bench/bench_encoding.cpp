// Micro-benchmarks of the store's encodings: series keys as the ingest path builds them, and the
// raw and rollup block codecs over one day of one series.
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "engine/encoding/raw_block.hpp"
#include "engine/encoding/rollup_block.hpp"
#include "engine/encoding/series_key.hpp"

namespace {

using namespace vigil;
using namespace vigil::enc;

// A batch of series keys as the ingest path builds them: metric, NUL, a few sorted tags.
std::vector<std::pair<std::string, Tags>> sample_series(std::size_t n) {
  std::mt19937_64 rng(7);
  std::vector<std::pair<std::string, Tags>> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    Tags tags = {{"env", "prod"},
                 {"host", "web-" + std::to_string(rng() % 500)},
                 {"region", "us-east." + std::to_string(rng() % 4)},
                 {"service", "checkout_api"}};
    out.emplace_back("app.requests.latency_" + std::to_string(i % 50), std::move(tags));
  }
  return out;
}

void BM_append_series_key(benchmark::State& state) {
  const auto series = sample_series(static_cast<std::size_t>(state.range(0)));
  std::string buf;
  for (auto _ : state) {
    buf.clear();
    for (const auto& [metric, tags] : series) enc::append_series_key(buf, metric, tags);
    benchmark::DoNotOptimize(buf.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * series.size()));
}
BENCHMARK(BM_append_series_key)->Arg(1000);

void BM_parse_series_key(benchmark::State& state) {
  const auto series = sample_series(static_cast<std::size_t>(state.range(0)));
  std::vector<std::string> keys;
  for (const auto& [metric, tags] : series) keys.push_back(enc::series_key(metric, tags));
  std::string metric;
  Tags tags;
  for (auto _ : state) {
    for (const auto& k : keys) benchmark::DoNotOptimize(enc::parse_series_key(k, metric, tags));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * keys.size()));
}
BENCHMARK(BM_parse_series_key)->Arg(1000);

// One UTC day of a series sampled every 10 s with two-decimal gauge values.
std::vector<std::pair<std::int64_t, double>> day_of_samples() {
  std::mt19937_64 rng(11);
  std::vector<std::pair<std::int64_t, double>> out;
  double v = 50;
  for (std::int64_t t = 1700006400; t < 1700006400 + 86400; t += 10) {
    v += static_cast<double>(static_cast<int>(rng() % 201) - 100) / 100.0;
    out.emplace_back(t, std::round(v * 100) / 100);
  }
  return out;
}

void BM_raw_block_encode(benchmark::State& state) {
  const auto samples = day_of_samples();
  std::string out;
  RawBlockWriter w(out, 1700006400);
  for (auto _ : state) {
    out.clear();
    w.reset(1700006400);
    for (const auto& [t, v] : samples) w.add_value(t, v);
    w.finish();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * samples.size()));
}
BENCHMARK(BM_raw_block_encode);

void BM_raw_block_decode(benchmark::State& state) {
  const auto samples = day_of_samples();
  std::string block;
  RawBlockWriter w(block, 1700006400);
  for (const auto& [t, v] : samples) w.add_value(t, v);
  w.finish();
  std::vector<std::pair<std::int64_t, Agg>> recs;
  for (auto _ : state) {
    recs.clear();
    benchmark::DoNotOptimize(get_raw_records(block, 1700006400, recs));
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * samples.size()));
}
BENCHMARK(BM_raw_block_decode);

// A full chunk of 60 s buckets, each folding six samples.
std::vector<Agg> chunk_of_aggs() {
  const auto samples = day_of_samples();
  std::vector<Agg> out;
  for (std::size_t i = 0; i + 6 <= samples.size(); i += 6) {
    Agg a = Agg::of_value(samples[i].second, samples[i].first);
    for (std::size_t j = 1; j < 6; ++j) a.add(samples[i + j].second, samples[i + j].first);
    out.push_back(a);
  }
  return out;
}

void BM_rollup_block_encode(benchmark::State& state) {
  const auto aggs = chunk_of_aggs();
  std::string out;
  RollupBlockWriter w(out, 1700006400, 60);
  for (auto _ : state) {
    out.clear();
    for (std::size_t i = 0; i < aggs.size(); ++i) w.add(static_cast<std::uint16_t>(i), aggs[i]);
    w.finish();
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * aggs.size()));
}
BENCHMARK(BM_rollup_block_encode);

void BM_rollup_block_decode(benchmark::State& state) {
  const auto aggs = chunk_of_aggs();
  std::string block;
  RollupBlockWriter w(block, 1700006400, 60);
  for (std::size_t i = 0; i < aggs.size(); ++i) w.add(static_cast<std::uint16_t>(i), aggs[i]);
  w.finish();
  RollupColumns cols;
  for (auto _ : state) benchmark::DoNotOptimize(decode_rollup_block(block, 1700006400, 60, cols));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * aggs.size()));
}
BENCHMARK(BM_rollup_block_decode);

}  // namespace

BENCHMARK_MAIN();
