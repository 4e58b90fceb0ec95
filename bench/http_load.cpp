// http_load: HTTP ingest load generator for the standard workloads (scripts/bench).
//
// Posts pre-generated bodies of BATCH measurements over N keep-alive HTTP/1.1 connections
// (Boost.Beast, one thread each), at a target rate or flat out, and reports what was
// acknowledged together with its own CPU time, so a benchmark can show the sender was not
// the bottleneck. Two body formats: Librato JSON (POST /v1/measurements, Vigil) and Influx
// line protocol (POST /write?precision=s, VictoriaMetrics and InfluxDB).
//
// Series: sid = 0 .. SERIES-1, tags host=h<sid/10> (zero-padded), region=r<sid%10>, as in W1.
// Body i carries round i / (SERIES/BATCH) for series chunk i % (SERIES/BATCH): time-major,
// one sample per series and round, value = splitmix64(sid * ROUNDS + round) scaled to [0,100).
//   finite  (--rounds K): K samples per series, times T0 + round * STEP; every body is
//           generated before the clock starts.
//   endless (--rounds 0): the bodies of 4 rounds are cycled, each measurement stamped with
//           the current second when sent, until --duration or SIGTERM / SIGINT.
//
// Output: one JSON object on stdout (also written to --stats FILE): samples acknowledged,
// requests, errors, elapsed seconds, samples/s, client CPU seconds while sending, request
// latency percentiles.
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "load_common.hpp"

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string path;  // default depends on the format
  std::string format = "librato";
  std::string metric = "bench.load";
  std::string auth;  // user:token for HTTP Basic
  std::string stats;
  int connections = 4;
  double rate = 0;  // samples/s, 0 = flat out
  double duration = 0;  // seconds, 0 = until the bodies are sent (finite) or a signal (endless)
  std::int64_t series = 10000;
  std::int64_t rounds = 0;
  std::int64_t batch = 1000;
  std::int64_t t0 = 1700000000;
  std::int64_t step = 10;
  bool progress = false;
};

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop.store(true); }

using vigil::bench::cpu_seconds;
using vigil::bench::workload_value;

std::string base64(const std::string& in) {
  static const char* t = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
    out += t[v >> 18], out += t[(v >> 12) & 63], out += t[(v >> 6) & 63], out += t[v & 63];
  }
  if (i + 1 == in.size()) {
    unsigned v = (unsigned char)in[i] << 16;
    out += t[v >> 18], out += t[(v >> 12) & 63], out += "==";
  } else if (i + 2 == in.size()) {
    unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8;
    out += t[v >> 18], out += t[(v >> 12) & 63], out += t[(v >> 6) & 63], out += '=';
  }
  return out;
}

// One request body, with the offsets of its 10-digit timestamps (patched in endless mode).
struct Body {
  std::string text;
  std::vector<std::uint32_t> time_at;
  std::int64_t samples = 0;
};

Body make_body(const Options& o, std::int64_t round, std::int64_t chunk, std::int64_t value_rounds, int host_width) {
  Body b;
  std::int64_t first = chunk * o.batch, last = std::min(o.series, first + o.batch);
  std::int64_t ts = o.t0 + round * o.step;
  bool json = o.format == "librato";
  b.text.reserve(static_cast<std::size_t>((last - first) * 96 + 32));
  if (json) b.text += "{\"measurements\":[";
  char buf[256];
  for (std::int64_t sid = first; sid < last; ++sid) {
    double v = workload_value(static_cast<std::uint64_t>(sid * value_rounds + round));
    long long host = sid / 10, region = sid % 10;
    if (json) {
      if (sid != first) b.text += ',';
      int n = std::snprintf(buf, sizeof buf, "{\"name\":\"%s\",\"time\":", o.metric.c_str());
      b.text.append(buf, n);
      b.time_at.push_back(static_cast<std::uint32_t>(b.text.size()));
      n = std::snprintf(buf, sizeof buf, "%010lld,\"value\":%.3f,\"tags\":{\"host\":\"h%0*lld\",\"region\":\"r%lld\"}}",
                        (long long)ts, v, host_width, host, region);
      b.text.append(buf, n);
    } else {
      int n = std::snprintf(buf, sizeof buf, "%s,host=h%0*lld,region=r%lld value=%.3f ", o.metric.c_str(), host_width,
                            host, region, v);
      b.text.append(buf, n);
      b.time_at.push_back(static_cast<std::uint32_t>(b.text.size()));
      n = std::snprintf(buf, sizeof buf, "%010lld\n", (long long)ts);
      b.text.append(buf, n);
    }
    ++b.samples;
  }
  if (json) b.text += "]}";
  return b;
}

void patch_time(std::string& text, const std::vector<std::uint32_t>& at, std::int64_t ts) {
  char d[24];
  std::snprintf(d, sizeof d, "%010lld", (long long)ts);
  for (std::uint32_t p : at) std::memcpy(&text[p], d, 10);
}

struct Shared {
  std::atomic<std::int64_t> next{0};
  std::atomic<std::int64_t> samples{0}, requests{0}, errors{0};
  std::mutex mu;
  std::vector<double> latencies_ms;
  std::vector<std::string> error_texts;
};

void usage() {
  std::cerr << "usage: http_load --port N [--host H] [--path P] [--format librato|lp] [--metric NAME]\n"
               "                 [--connections 4] [--rate SAMPLES_PER_S (0: flat out)] [--duration S]\n"
               "                 [--series 10000] [--rounds K (0: endless, time = now)] [--batch 1000]\n"
               "                 [--t0 1700000000] [--step 10] [--auth USER:TOKEN] [--stats FILE] [--progress]\n";
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (vigil::bench::Args a(argc, argv, usage); a.next();) {
    if (a.is("--host")) o.host = a.value();
    else if (a.is("--port")) o.port = static_cast<int>(a.integer());
    else if (a.is("--path")) o.path = a.value();
    else if (a.is("--format")) o.format = a.value();
    else if (a.is("--metric")) o.metric = a.value();
    else if (a.is("--auth")) o.auth = a.value();
    else if (a.is("--stats")) o.stats = a.value();
    else if (a.is("--connections")) o.connections = static_cast<int>(a.integer());
    else if (a.is("--rate")) o.rate = a.number();
    else if (a.is("--duration")) o.duration = a.number();
    else if (a.is("--series")) o.series = a.integer();
    else if (a.is("--rounds")) o.rounds = a.integer();
    else if (a.is("--batch")) o.batch = a.integer();
    else if (a.is("--t0")) o.t0 = a.integer();
    else if (a.is("--step")) o.step = a.integer();
    else if (a.is("--progress")) o.progress = true;
    else a.bad();
  }
  if (o.port <= 0 || o.connections <= 0 || o.series <= 0 || o.batch <= 0 ||
      (o.format != "librato" && o.format != "lp")) {
    usage();
    return 2;
  }
  if (o.path.empty()) o.path = o.format == "librato" ? "/v1/measurements" : "/write?precision=s";
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);

  // -- bodies, generated before the clock starts
  const bool endless = o.rounds == 0;
  const std::int64_t chunks = (o.series + o.batch - 1) / o.batch;
  const std::int64_t gen_rounds = endless ? 4 : o.rounds;
  int host_width = 4;
  for (std::int64_t h = (o.series - 1) / 10; h >= 10000; h /= 10) ++host_width;
  double g0 = cpu_seconds();
  std::vector<Body> bodies;
  bodies.reserve(static_cast<std::size_t>(gen_rounds * chunks));
  std::int64_t body_bytes = 0;
  for (std::int64_t r = 0; r < gen_rounds; ++r)
    for (std::int64_t c = 0; c < chunks; ++c) {
      bodies.push_back(make_body(o, r, c, gen_rounds, host_width));
      body_bytes += static_cast<std::int64_t>(bodies.back().text.size());
    }
  const double gen_cpu = cpu_seconds() - g0;
  const std::int64_t total = endless ? -1 : static_cast<std::int64_t>(bodies.size());

  std::string content_type = o.format == "librato" ? "application/json" : "text/plain";
  std::string authz = o.auth.empty() ? "" : "Basic " + base64(o.auth);
  Shared sh;
  const auto t0 = Clock::now();
  const double c0 = cpu_seconds();
  const auto deadline = o.duration > 0 ? t0 + std::chrono::duration_cast<Clock::duration>(
                                                  std::chrono::duration<double>(o.duration))
                                       : Clock::time_point::max();
  const double per_body_s = o.rate > 0 ? static_cast<double>(o.batch) / o.rate : 0;

  auto worker = [&]() {
    net::io_context ioc;
    tcp::endpoint ep(net::ip::make_address(o.host), static_cast<unsigned short>(o.port));
    beast::tcp_stream stream(ioc);
    bool connected = false;
    beast::flat_buffer buf;
    std::string local;  // endless mode: this thread's copy of the body, stamped with the time
    std::vector<double> lat;
    std::vector<std::string> errs;
    for (;;) {
      if (g_stop.load(std::memory_order_relaxed) || Clock::now() >= deadline) break;
      std::int64_t i = sh.next.fetch_add(1);
      if (total >= 0 && i >= total) break;
      if (per_body_s > 0) {
        auto due = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(i * per_body_s));
        while (Clock::now() < due && !g_stop.load(std::memory_order_relaxed))
          std::this_thread::sleep_until(std::min(due, Clock::now() + std::chrono::milliseconds(50)));
        if (g_stop.load(std::memory_order_relaxed) || Clock::now() >= deadline) break;
      }
      const Body& b = bodies[static_cast<std::size_t>(endless ? i % static_cast<std::int64_t>(bodies.size()) : i)];
      const char* data = b.text.data();
      std::size_t size = b.text.size();
      if (endless) {
        local = b.text;
        patch_time(local, b.time_at, std::chrono::duration_cast<std::chrono::seconds>(
                                          std::chrono::system_clock::now().time_since_epoch()).count());
        data = local.data();
      }
      beast::error_code ec;
      if (!connected) {
        stream.socket().close(ec);
        stream.connect(ep, ec);
        if (ec) {
          sh.errors.fetch_add(1);
          if (errs.size() < 5) errs.push_back("connect: " + ec.message());
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
          continue;
        }
        stream.socket().set_option(tcp::no_delay(true), ec);
        connected = true;
      }
      http::request<http::span_body<const char>> req{http::verb::post, o.path, 11};
      req.set(http::field::host, o.host);
      req.set(http::field::content_type, content_type);
      if (!authz.empty()) req.set(http::field::authorization, authz);
      req.body() = http::span_body<const char>::value_type(data, size);
      req.prepare_payload();
      auto ts = Clock::now();
      http::write(stream, req, ec);
      http::response<http::string_body> res;
      if (!ec) http::read(stream, buf, res, ec);
      lat.push_back(std::chrono::duration<double, std::milli>(Clock::now() - ts).count());
      sh.requests.fetch_add(1);
      if (ec) {
        sh.errors.fetch_add(1);
        if (errs.size() < 5) errs.push_back("request: " + ec.message());
        connected = false;
        continue;
      }
      unsigned st = res.result_int();
      if (st >= 200 && st < 300) {
        sh.samples.fetch_add(b.samples);
      } else {
        sh.errors.fetch_add(1);
        if (errs.size() < 5) errs.push_back("HTTP " + std::to_string(st) + " " + res.body().substr(0, 200));
      }
      if (!res.keep_alive()) connected = false;
    }
    beast::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    std::lock_guard<std::mutex> lk(sh.mu);
    sh.latencies_ms.insert(sh.latencies_ms.end(), lat.begin(), lat.end());
    for (auto& e : errs)
      if (sh.error_texts.size() < 10) sh.error_texts.push_back(e);
  };

  std::thread progress;
  std::atomic<bool> done{false};
  if (o.progress)
    progress = std::thread([&]() {
      while (!done.load()) {
        std::this_thread::sleep_for(std::chrono::seconds(1));
        double el = std::chrono::duration<double>(Clock::now() - t0).count();
        std::fprintf(stderr, "http_load: %.0f s, %lld samples acknowledged, %.0f samples/s, %lld errors\n", el,
                     (long long)sh.samples.load(), sh.samples.load() / el, (long long)sh.errors.load());
      }
    });
  std::vector<std::thread> threads;
  for (int c = 0; c < o.connections; ++c) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  const double cpu = cpu_seconds() - c0;
  done.store(true);
  if (progress.joinable()) progress.join();

  auto& l = sh.latencies_ms;
  std::sort(l.begin(), l.end());
  auto pct = [&](double p) -> double {
    if (l.empty()) return 0;
    std::size_t k = static_cast<std::size_t>(std::max(1.0, std::ceil(l.size() * p / 100.0)));
    return l[std::min(k, l.size()) - 1];
  };
  std::string errs = "[";
  for (std::size_t i = 0; i < sh.error_texts.size(); ++i) {
    std::string e;
    for (char ch : sh.error_texts[i])
      if (ch == '"' || ch == '\\') e += '\\', e += ch;
      else if (static_cast<unsigned char>(ch) >= 0x20) e += ch;
    errs += (i ? ",\"" : "\"") + e + "\"";
  }
  errs += "]";
  char out[2048];
  std::snprintf(out, sizeof out,
                "{\"tool\":\"http_load\",\"format\":\"%s\",\"path\":\"%s\",\"connections\":%d,\"target_rate\":%.0f,"
                "\"series\":%lld,\"rounds\":%lld,\"batch\":%lld,\"bodies\":%zu,\"body_bytes\":%lld,"
                "\"samples\":%lld,\"requests\":%lld,\"errors\":%lld,\"elapsed_s\":%.3f,\"rate\":%.1f,"
                "\"cpu_s\":%.3f,\"gen_cpu_s\":%.3f,\"req_p50_ms\":%.3f,\"req_p99_ms\":%.3f,\"req_max_ms\":%.3f,"
                "\"error_texts\":%s}",
                o.format.c_str(), o.path.c_str(), o.connections, o.rate, (long long)o.series, (long long)o.rounds,
                (long long)o.batch, bodies.size(), (long long)body_bytes, (long long)sh.samples.load(),
                (long long)sh.requests.load(), (long long)sh.errors.load(), elapsed,
                elapsed > 0 ? sh.samples.load() / elapsed : 0.0, cpu, gen_cpu, pct(50), pct(99),
                l.empty() ? 0.0 : l.back(), errs.c_str());
  std::cout << out << std::endl;
  if (!o.stats.empty()) std::ofstream(o.stats) << out << "\n";
  return sh.errors.load() == 0 ? 0 : 1;
}
