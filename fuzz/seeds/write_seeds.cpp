// Writes the seed corpora of the binary targets (raw_block, rollup_block, columns, store_keys)
// with the store's own encoders: `fuzz_write_seeds fuzz/corpus`. Run once when an encoding
// changes; the seeds are checked in.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "engine/alerting/alert_eval.hpp"
#include "engine/encoding/bytes.hpp"
#include "engine/encoding/columns.hpp"
#include "engine/encoding/compact.hpp"
#include "engine/encoding/raw_block.hpp"
#include "engine/encoding/rollup_block.hpp"
#include "engine/encoding/series_key.hpp"
#include "engine/shard/shard_state.hpp"

using namespace vigil;

namespace {

void put(const std::filesystem::path& dir, const std::string& target, int i, const std::string& bytes) {
  std::filesystem::create_directories(dir / target);
  std::ofstream(dir / target / ("seed-" + std::to_string(100 + i).substr(1)), std::ios::binary) << bytes;
}

Agg agg(double c, double s, double mn, double mx, double last, std::int64_t lt) {
  Agg a;
  a.count = c;
  a.sum = s;
  a.min = mn;
  a.max = mx;
  a.last = last;
  a.last_time = lt;
  a.sumsq = s * s / c;
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path dir = argc > 1 ? argv[1] : "fuzz/corpus";
  const std::int64_t day = 1699920000;
  // raw_block: first byte 1 = the reference day above.
  {
    int i = 0;
    for (int kind = 0; kind < 4; ++kind) {
      std::string out;
      enc::RawBlockWriter w(out, day);
      const int n = kind == 0 ? 1 : kind == 1 ? 60 : kind == 2 ? 500 : 7;
      for (int k = 0; k < n; ++k) {
        const std::int64_t t = day + k * (kind == 3 ? 37 + k : 10);
        if (kind == 3 && k % 2) w.add(t, agg(3, 6.5, 1, 4, 2, t + 5));
        else w.add_value(t, kind == 2 ? std::sin(k) : 0.1 * k);
      }
      w.finish();
      put(dir, "raw_block", i++, std::string(1, '\x01') + out);
    }
  }
  // rollup_block: first byte: resolution index (bits 0-1), fields (bits 2-5).
  {
    int i = 0;
    static constexpr std::int64_t kRes[] = {60, 900, 3600, 86400};
    for (int r = 0; r < 4; ++r)
      for (int kind = 0; kind < 3; ++kind) {
        const std::int64_t res = kRes[r];
        const std::int64_t chunk = day - day % (res * 1440);
        std::string out;
        enc::RollupBlockWriter w(out, chunk, res);
        const int n = kind == 0 ? 1 : kind == 1 ? 2 : 90;
        for (int k = 0; k < n; ++k) {
          const std::int64_t b = chunk + res * (kind == 2 ? k : 3 * k + 1);
          w.add_bucket(b, kind == 2 && k % 3 ? Agg::of_value(k * 0.5, b + 1) : agg(2, k, 0, k, k, b + res - 1));
        }
        w.finish();
        put(dir, "rollup_block", i++, std::string(1, static_cast<char>(r | (15 << 2))) + out);
      }
  }
  // columns: first byte the codec (0 int, 1 double, 2 patched, 3 skip, 4 compact double,
  // 5 compact agg, 6 varints), second byte k for a count of 17 k.
  {
    int i = 0;
    for (int k : {1, 3, 20}) {
      const std::size_t n = 17u * k;
      std::vector<std::int64_t> iv(n);
      std::vector<double> dv(n);
      std::vector<std::uint64_t> pv(n);
      for (std::size_t j = 0; j < n; ++j) {
        iv[j] = 1699920000 + 60 * static_cast<std::int64_t>(j) - (j % 5 == 0 ? 7 : 0);
        dv[j] = j % 11 == 0 ? 1.0 / 3 : 0.25 * j + 100;
        pv[j] = j % 13 == 0 ? 1ull << 40 : j % 4;
      }
      std::string a, b, c;
      enc::put_int_column(a, iv.data(), n);
      enc::put_double_column(b, dv.data(), n);
      enc::put_patched_column(c, pv.data(), n);
      const std::string head = std::string(1, static_cast<char>(k));
      put(dir, "columns", i++, std::string(1, '\0') + head + a);
      put(dir, "columns", i++, std::string(1, '\1') + head + b);
      put(dir, "columns", i++, std::string(1, '\2') + head + c);
      put(dir, "columns", i++, std::string(1, '\3') + head + a + b + c);
    }
    std::string d, g, v;
    for (double x : {0.0, 1.5, -3.25, 1e300, 12345.678, std::nan("")}) enc::put_double(d, x);
    enc::put_compact_agg(g, agg(4, 10, 1, 4, 3, 1699920030), 1699920000);
    enc::put_compact_agg(g, Agg::of_value(2.5, 1699920000), 1699920000);
    for (std::uint64_t x : {0ull, 127ull, 128ull, 1ull << 35, ~0ull}) enc::put_varint(v, x);
    put(dir, "columns", i++, std::string("\4\0", 2) + d);
    put(dir, "columns", i++, std::string("\5\17", 2) + g);
    put(dir, "columns", i++, std::string("\6\0", 2) + v);
  }
  // store_keys: series keys, tag keys, log entries, alert stream states.
  {
    int i = 0;
    put(dir, "store_keys", i++, enc::series_key("cpu", {{"host", "web-1"}, {"region", "us-east"}}));
    put(dir, "store_keys", i++, enc::series_key("ubiops.p.1", {{"ubiops:labels", "none"}}));
    put(dir, "store_keys", i++, enc::series_key("weird name/é", {{"a b", "c=d,e"}}));
    std::string tk;
    enc::append_tags_key(tk, {{"host", "a"}, {"x", "y"}});
    put(dir, "store_keys", i++, tk);
    std::string log;
    encode_log_entry({{1, 1699920000, Agg::of_value(1.5, 1699920000)}, {77, 1699920060, agg(2, 3, 1, 2, 2, 1699920061)}}, log);
    put(dir, "store_keys", i++, log);
    alerting::StreamState st;
    st.conds = {1, -1, 0};
    st.values = {2.5, 0, -1};
    st.firing = true;
    st.triggered_at = 1699920000000;
    put(dir, "store_keys", i++, alerting::encode(st));
  }
  return 0;
}
