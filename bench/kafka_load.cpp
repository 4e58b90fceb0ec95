// kafka_load: Kafka producer for the standard workloads (scripts/bench), on librdkafka.
//
// w1 mode (default): produces the 2,000,000 samples of W1 (docs: ../shared/bench/WORKLOAD.md;
// metric bench.cpu, host=h0000..h0999 x region=r0..r9, 200 points 10 s apart from
// 1,700,000,000, value = splitmix64(sid*200 + i) >> 11 scaled to [0,100), "%.3f"), in W1's
// time-major order, PER_MESSAGE measurements per message: 1 (a Librato measurement object or
// one line of line protocol) or more (a {"measurements":[...]} body, or that many lines).
// A series always goes to the same partition (partition = (sid / 100) % PARTITIONS; 100 series
// per group, so PARTITIONS dividing 100 spreads them evenly), which keeps per-series order.
// After the last delivery report it reads every partition's low / high watermarks: a bounded
// broker (librdkafka's mock cluster keeps about 5 MB or 100,000 message sets per partition)
// drops the oldest message sets, and the report says how many samples are still held.
//
// triggers mode (--triggers): reads one message per stdin line, produces it with linger.ms=0,
// waits for its delivery report and prints "<produce call> <acknowledged>" (epoch seconds,
// microsecond resolution), one line per message: the alert-latency benchmark's Kafka path.
//
// rate mode (--rate R --duration S): endless ingest for soak runs: R samples a second of metric
// --metric (default soak.kafka) over the 10,000 series of W1, each stamped with the current
// second, PER_MESSAGE measurements per message, for S seconds (or until SIGTERM / SIGINT); the
// report counts the samples whose messages the broker acknowledged.
//
// Output (w1, rate): one JSON object on stdout (and --stats FILE), with the producer's CPU seconds.
#include <librdkafka/rdkafka.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "load_common.hpp"

namespace {

constexpr std::int64_t kHosts = 1000, kRegions = 10, kPoints = 200, kStep = 10, kT0 = 1700000000;
constexpr std::int64_t kSeries = kHosts * kRegions, kBatch = 1000;

struct Options {
  std::string bootstrap, topic = "measurements", format = "json", compression = "lz4", stats;
  int partitions = 50;
  int per_message = 1;
  bool triggers = false;
  double rate = 0, duration = 0;
  std::string metric = "soak.kafka";
  std::vector<std::pair<std::string, std::string>> props;
};

using vigil::bench::cpu_seconds;
using vigil::bench::workload_value;

double epoch_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

struct Counters {
  std::int64_t delivered = 0, failed = 0;
  double last_ack = 0;
  std::string first_error;
};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  auto* c = static_cast<Counters*>(opaque);
  c->last_ack = epoch_now();
  if (m->err) {
    ++c->failed;
    if (c->first_error.empty()) c->first_error = rd_kafka_err2str(m->err);
  } else {
    ++c->delivered;
  }
}

rd_kafka_t* make_producer(const Options& o, Counters& c, bool low_latency) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  std::vector<std::pair<std::string, std::string>> kv = {{"bootstrap.servers", o.bootstrap}};
  if (low_latency) {
    kv.insert(kv.end(), {{"linger.ms", "0"}, {"compression.codec", "none"}});
  } else {
    kv.insert(kv.end(), {{"linger.ms", "50"},
                         {"batch.size", "1000000"},
                         {"batch.num.messages", "100000"},
                         {"queue.buffering.max.messages", "2000000"},
                         {"queue.buffering.max.kbytes", "1048576"},
                         {"compression.codec", o.compression}});
  }
  kv.insert(kv.end(), o.props.begin(), o.props.end());
  for (auto& [k, v] : kv)
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      std::cerr << "kafka_load: " << k << "=" << v << ": " << err << "\n";
      std::exit(2);
    }
  rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_conf_set_opaque(conf, &c);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (!rk) {
    std::cerr << "kafka_load: " << err << "\n";
    std::exit(1);
  }
  return rk;
}

void produce(rd_kafka_t* rk, const Options& o, int partition, const std::string& msg) {
  for (;;) {
    rd_kafka_resp_err_t e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(o.topic.c_str()), RD_KAFKA_V_PARTITION(partition),
                                              RD_KAFKA_V_VALUE(const_cast<char*>(msg.data()), msg.size()),
                                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR) return;
    if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      std::cerr << "kafka_load: produce: " << rd_kafka_err2str(e) << "\n";
      std::exit(1);
    }
    rd_kafka_poll(rk, 10);
  }
}

// One measurement, appended to `out`.
void append_sample(std::string& out, const Options& o, std::int64_t sid, std::int64_t ti) {
  double v = workload_value(static_cast<std::uint64_t>(sid * kPoints + ti));
  long long ts = kT0 + ti * kStep, host = sid / kRegions, region = sid % kRegions;
  char buf[192];
  int n;
  if (o.format == "json")
    n = std::snprintf(buf, sizeof buf,
                      "{\"name\":\"bench.cpu\",\"time\":%lld,\"value\":%.3f,\"tags\":{\"host\":\"h%04lld\",\"region\":\"r%lld\"}}",
                      ts, v, host, region);
  else
    n = std::snprintf(buf, sizeof buf, "bench.cpu,host=h%04lld,region=r%lld value=%.3f %lld000000000", host, region, v,
                      ts);
  out.append(buf, static_cast<std::size_t>(n));
}

int run_w1(const Options& o) {
  Counters c;
  rd_kafka_t* rk = make_producer(o, c, false);
  const double c0 = cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  std::int64_t messages = 0, samples = 0, value_bytes = 0;
  std::string msg;
  const bool json = o.format == "json";
  for (std::int64_t b = 0; b < kSeries * kPoints / kBatch; ++b) {
    std::int64_t ti = b / (kSeries / kBatch), first = (b % (kSeries / kBatch)) * kBatch;
    for (std::int64_t s = first; s < first + kBatch; s += o.per_message) {
      msg.clear();
      if (o.per_message == 1) {
        append_sample(msg, o, s, ti);
      } else {
        if (json) msg += "{\"measurements\":[";
        for (std::int64_t k = 0; k < o.per_message && s + k < first + kBatch; ++k) {
          if (k) msg += json ? "," : "\n";
          append_sample(msg, o, s + k, ti);
        }
        if (json) msg += "]}";
      }
      produce(rk, o, static_cast<int>((s / 100) % o.partitions), msg);
      ++messages;
      samples += std::min<std::int64_t>(o.per_message, first + kBatch - s);
      value_bytes += static_cast<std::int64_t>(msg.size());
      rd_kafka_poll(rk, 0);
    }
  }
  rd_kafka_resp_err_t fe = rd_kafka_flush(rk, 300000);
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = cpu_seconds() - c0;

  // What the broker still holds.
  std::int64_t held = 0, truncated = 0, lost = 0;
  for (int p = 0; p < o.partitions; ++p) {
    int64_t lo = 0, hi = 0;
    rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(rk, o.topic.c_str(), p, &lo, &hi, 10000);
    if (e) {
      std::cerr << "kafka_load: watermarks of partition " << p << ": " << rd_kafka_err2str(e) << "\n";
      continue;
    }
    held += hi - lo;
    if (lo > 0) ++truncated, lost += lo;
  }
  rd_kafka_destroy(rk);
  char out[1024];
  std::snprintf(out, sizeof out,
                "{\"tool\":\"kafka_load\",\"format\":\"%s\",\"per_message\":%d,\"partitions\":%d,\"compression\":\"%s\","
                "\"messages\":%lld,\"samples\":%lld,\"value_bytes\":%lld,\"delivered\":%lld,\"failed\":%lld,"
                "\"flush_ok\":%s,\"elapsed_s\":%.3f,\"cpu_s\":%.3f,\"held_messages\":%lld,\"held_samples\":%lld,"
                "\"truncated_partitions\":%lld,\"dropped_messages\":%lld,\"first_error\":\"%s\"}",
                o.format.c_str(), o.per_message, o.partitions, o.compression.c_str(), (long long)messages,
                (long long)samples, (long long)value_bytes, (long long)c.delivered, (long long)c.failed,
                fe ? "false" : "true", elapsed, cpu, (long long)held, (long long)(held * o.per_message),
                (long long)truncated, (long long)lost, c.first_error.c_str());
  std::cout << out << std::endl;
  if (!o.stats.empty()) std::ofstream(o.stats) << out << "\n";
  return c.failed == 0 && fe == 0 ? 0 : 1;
}

std::atomic<bool> g_stop{false};

int run_rate(const Options& o) {
  std::signal(SIGTERM, [](int) { g_stop = true; });
  std::signal(SIGINT, [](int) { g_stop = true; });
  Counters c;
  rd_kafka_t* rk = make_producer(o, c, false);
  const double c0 = cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  const bool json = o.format == "json";
  std::int64_t produced = 0, messages = 0, sid = 0, round = 0;
  std::string msg;
  char buf[224];
  while (!g_stop) {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (o.duration > 0 && elapsed >= o.duration) break;
    const auto due = static_cast<std::int64_t>(o.rate * elapsed);
    if (produced >= due) {
      rd_kafka_poll(rk, 1);
      continue;
    }
    const long long now = static_cast<long long>(epoch_now());
    while (produced < due && !g_stop) {
      msg.clear();
      if (json && o.per_message > 1) msg += "{\"measurements\":[";
      for (int k = 0; k < o.per_message; ++k, ++sid) {
        if (sid == kSeries) sid = 0, ++round;
        const double v = workload_value(static_cast<std::uint64_t>(sid * 1000003 + round));
        const long long host = sid / kRegions, region = sid % kRegions;
        int n;
        if (json)
          n = std::snprintf(buf, sizeof buf,
                            "%s{\"name\":\"%s\",\"time\":%lld,\"value\":%.3f,\"tags\":{\"host\":\"h%04lld\",\"region\":\"r%lld\"}}",
                            k ? "," : "", o.metric.c_str(), now, v, host, region);
        else
          n = std::snprintf(buf, sizeof buf, "%s%s,host=h%04lld,region=r%lld value=%.3f %lld000000000", k ? "\n" : "",
                            o.metric.c_str(), host, region, v, now);
        msg.append(buf, static_cast<std::size_t>(std::min<int>(n, static_cast<int>(sizeof buf) - 1)));
      }
      if (json && o.per_message > 1) msg += "]}";
      produce(rk, o, static_cast<int>(((sid - 1) / 100) % o.partitions), msg);
      ++messages;
      produced += o.per_message;
      rd_kafka_poll(rk, 0);
    }
  }
  rd_kafka_resp_err_t fe = rd_kafka_flush(rk, 300000);
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = cpu_seconds() - c0;
  rd_kafka_destroy(rk);
  char out[768];
  std::snprintf(out, sizeof out,
                "{\"tool\":\"kafka_load\",\"mode\":\"rate\",\"metric\":\"%s\",\"format\":\"%s\",\"per_message\":%d,"
                "\"messages\":%lld,\"samples\":%lld,\"delivered\":%lld,\"delivered_samples\":%lld,\"failed\":%lld,"
                "\"flush_ok\":%s,\"elapsed_s\":%.3f,\"cpu_s\":%.3f,\"first_error\":\"%s\"}",
                o.metric.c_str(), o.format.c_str(), o.per_message, (long long)messages, (long long)produced,
                (long long)c.delivered, (long long)(c.delivered * o.per_message), (long long)c.failed,
                fe ? "false" : "true", elapsed, cpu, c.first_error.c_str());
  std::cout << out << std::endl;
  if (!o.stats.empty()) std::ofstream(o.stats) << out << "\n";
  return c.failed == 0 && fe == 0 ? 0 : 1;
}

int run_triggers(const Options& o) {
  Counters c;
  rd_kafka_t* rk = make_producer(o, c, true);
  std::string line;
  std::cout << "ready" << std::endl;
  while (std::getline(std::cin, line)) {
    if (line.empty()) continue;
    std::int64_t before = c.delivered + c.failed;
    double sent = epoch_now();
    produce(rk, o, RD_KAFKA_PARTITION_UA, line);
    while (c.delivered + c.failed == before) rd_kafka_poll(rk, 1);
    std::printf("%.6f %.6f %s\n", sent, c.last_ack, c.failed ? "failed" : "ok");
    std::fflush(stdout);
  }
  rd_kafka_flush(rk, 10000);
  rd_kafka_destroy(rk);
  return c.failed == 0 ? 0 : 1;
}

void usage() {
  std::cerr << "usage: kafka_load --bootstrap HOST:PORT [--topic measurements] [--partitions 50]\n"
               "                  [--per-message 1|100] [--format json|line] [--compression lz4|none|...]\n"
               "                  [-X librdkafka.property=value ...] [--stats FILE]\n"
               "       kafka_load --bootstrap HOST:PORT --rate SAMPLES_PER_S [--duration S] [--metric soak.kafka]\n"
               "                  [--per-message N] [--format json|line]   (endless, time = now)\n"
               "       kafka_load --bootstrap HOST:PORT --triggers    (stdin lines -> messages, prints send/ack times)\n";
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (vigil::bench::Args a(argc, argv, usage); a.next();) {
    if (a.is("--bootstrap")) o.bootstrap = a.value();
    else if (a.is("--topic")) o.topic = a.value();
    else if (a.is("--partitions")) o.partitions = static_cast<int>(a.integer());
    else if (a.is("--per-message")) o.per_message = static_cast<int>(a.integer());
    else if (a.is("--format")) o.format = a.value();
    else if (a.is("--compression")) o.compression = a.value();
    else if (a.is("--stats")) o.stats = a.value();
    else if (a.is("--triggers")) o.triggers = true;
    else if (a.is("--rate")) o.rate = a.number();
    else if (a.is("--duration")) o.duration = a.number();
    else if (a.is("--metric")) o.metric = a.value();
    else if (a.is("-X")) {
      std::string kv = a.value();
      auto eq = kv.find('=');
      if (eq == std::string::npos) a.bad();
      o.props.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    } else {
      a.bad();
    }
  }
  if (o.bootstrap.empty() || o.partitions <= 0 || o.per_message <= 0 || kBatch % o.per_message != 0 ||
      (o.format != "json" && o.format != "line")) {
    usage();
    return 2;
  }
  if (o.triggers) return run_triggers(o);
  return o.rate > 0 ? run_rate(o) : run_w1(o);
}
