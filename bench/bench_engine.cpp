// Samples/s through the engine: ingest (series resolution, ingest-log write, hand-off to the shard
// actors) and apply in the shards, with 100,000 series in time-major batches of 1,000 samples (the
// shape of agent traffic: every series reports once per interval). Each iteration ends with
// sync(), so the figure includes the shards' flushes of raw samples and rollups to RocksDB.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <random>

#include "actors/engine.hpp"

namespace {

using vigil::Measurement;

std::vector<std::vector<Measurement>> make_batches(int series, int rounds, int batch) {
  std::vector<Measurement> all;
  all.reserve(static_cast<std::size_t>(series) * rounds);
  std::mt19937_64 rng(7);
  for (int r = 0; r < rounds; ++r) {
    for (int s = 0; s < series; ++s) {
      Measurement m;
      m.name = "bench.cpu";
      char host[16], region[8];
      std::snprintf(host, sizeof host, "h%05d", s / 10);
      std::snprintf(region, sizeof region, "r%d", s % 10);
      m.tags = {{"host", host}, {"region", region}};
      m.time = 1700000000 + r * 10;
      m.agg = vigil::Agg::of_value(static_cast<double>(rng() % 10000) / 100.0, m.time);
      all.push_back(std::move(m));
    }
  }
  std::vector<std::vector<Measurement>> out;
  for (std::size_t i = 0; i < all.size(); i += static_cast<std::size_t>(batch))
    out.emplace_back(all.begin() + static_cast<std::ptrdiff_t>(i),
                     all.begin() + static_cast<std::ptrdiff_t>(std::min(all.size(), i + static_cast<std::size_t>(batch))));
  return out;
}

void BM_EngineIngest(benchmark::State& state) {
  const int series = static_cast<int>(state.range(0));
  auto dir = std::filesystem::temp_directory_path() / ("vigil-bench-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  vigil::actors::EngineOptions opts;
  opts.data_dir = dir.string();
  std::string err;
  auto engine = vigil::actors::Engine::open(opts, err);
  if (!engine) {
    state.SkipWithError(err.c_str());
    return;
  }
  // Create the series once so that the timed loop measures steady-state ingest.
  auto warm = make_batches(series, 1, 1000);
  for (auto& b : warm) engine->ingest(b, 0);
  engine->sync();
  auto batches = make_batches(series, 3, 1000);
  std::size_t samples = 0;
  for (auto _ : state) {
    for (auto& b : batches) {
      auto r = engine->ingest(b, 0);
      if (!r.ok) state.SkipWithError(r.error.c_str());
      samples += b.size();
    }
    engine->sync();
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(samples));
  engine->shutdown();
  engine.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_EngineIngest)->Arg(100000)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
