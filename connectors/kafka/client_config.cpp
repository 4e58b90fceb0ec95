// librdkafka configuration: the consumer's defaults and the user's properties over them, the
// dead-letter producer's, librdkafka's log lines through spdlog, and the interceptor that lowers
// the priority of librdkafka's broker threads.
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "connectors/kafka/consumer_impl.hpp"

namespace vigil::connectors::kafka {

void log_cb(const rd_kafka_t*, int level, const char* fac, const char* buf) {
  if (level <= 3)
    spdlog::error("kafka: {}: {}", fac, buf);
  else if (level <= 4)
    spdlog::warn("kafka: {}: {}", fac, buf);
  else if (level <= 6)
    spdlog::info("kafka: {}: {}", fac, buf);
  else
    spdlog::debug("kafka: {}: {}", fac, buf);
}

bool set_conf(rd_kafka_conf_t* conf, const std::string& k, const std::string& v, std::string& err) {
  char errstr[512];
  if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
    err = "kafka property " + k + "=" + v + ": " + errstr;
    return false;
  }
  return true;
}

Conf consumer_conf(const KafkaOptions& opts, std::string& err) {
  Conf conf(rd_kafka_conf_new());
  rd_kafka_conf_set_log_cb(conf.get(), log_cb);
  const std::pair<const char*, std::string> defaults[] = {
      {"bootstrap.servers", opts.bootstrap_servers},
      {"group.id", opts.group_id},
      {"client.id", "vigil"},
      {"enable.auto.commit", "false"},
      {"auto.offset.reset", "earliest"},
      {"enable.partition.eof", "false"},
      // librdkafka's own queue: it keeps fetching a partition until it holds queued.min.messages
      // or queued.max.messages.kbytes of it (per partition in this librdkafka), then waits a
      // second before fetching it again. The fetch thread drains this queue into the consumer's
      // buffer (kafka.prefetch_mb) at once, so the bounds only cap librdkafka's memory.
      {"queued.max.messages.kbytes", "8192"},
      {"queued.min.messages", "1000000"},
      // Latency: the broker answers a fetch after at most 10 ms even if little data is waiting
      // (librdkafka's default is 500 ms, which would delay alerts on Kafka-borne samples).
      {"fetch.wait.max.ms", "10"},
      // A member that stops heartbeating (a crashed node) is out of the group after 6 s (the
      // broker's default group.min.session.timeout.ms; librdkafka's default is 45 s), so that its
      // partitions move to the other members, or back to it once restarted, within seconds.
      {"session.timeout.ms", "6000"},
      {"heartbeat.interval.ms", "1000"},
  };
  for (const auto& [k, v] : defaults)
    if (!set_conf(conf.get(), k, v, err)) return nullptr;
  // Static membership: the restarted node is the same member, and a broker hands it its
  // partitions back without waiting for the session timeout.
  if (!opts.group_instance_id.empty() && !set_conf(conf.get(), "group.instance.id", opts.group_instance_id, err))
    return nullptr;
  for (const auto& [k, v] : opts.rdkafka)
    if (!set_conf(conf.get(), k, v, err)) return nullptr;
  return conf;
}

Conf dead_letter_conf(const KafkaOptions& opts, std::string& err) {
  Conf conf(rd_kafka_conf_new());
  rd_kafka_conf_set_log_cb(conf.get(), log_cb);
  bool ok = set_conf(conf.get(), "bootstrap.servers", opts.bootstrap_servers, err) &&
            set_conf(conf.get(), "client.id", "vigil-dlq", err) &&
            set_conf(conf.get(), "linger.ms", "5", err);
  // Security and connection properties apply to the producer too; consumer-only ones are skipped.
  for (const auto& [k, v] : opts.rdkafka) {
    if (!ok) break;
    if (k.rfind("security.", 0) == 0 || k.rfind("ssl.", 0) == 0 || k.rfind("sasl.", 0) == 0 ||
        k.rfind("socket.", 0) == 0 || k == "broker.address.family")
      ok = set_conf(conf.get(), k, v, err);
  }
  if (!ok) return nullptr;
  return conf;
}

namespace {

// librdkafka's broker threads (fetching, for a consumer) start at a lower scheduling priority
// (KafkaOptions::broker_thread_nice): on cores kept busy by the consumer's own threads, fetching
// runs when parsing and writing leave room, rather than filling the prefetch buffer ahead of them.
rd_kafka_resp_err_t on_thread_start(rd_kafka_t*, rd_kafka_thread_type_t type, const char* name,
                                    void* opaque) {
  const int nice = *static_cast<const int*>(opaque);
  if (type == RD_KAFKA_THREAD_BROKER && nice > 0 &&
      setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), nice) != 0)
    spdlog::debug("kafka: cannot lower the priority of {}: {}", name, std::strerror(errno));
  return RD_KAFKA_RESP_ERR_NO_ERROR;
}

rd_kafka_resp_err_t on_new(rd_kafka_t* rk, const rd_kafka_conf_t*, void* opaque, char*, size_t) {
  return rd_kafka_interceptor_add_on_thread_start(rk, "vigil-broker-nice", on_thread_start, opaque);
}

}  // namespace

void lower_broker_threads(rd_kafka_conf_t* conf, int* nice) {
  if (*nice > 0) rd_kafka_conf_interceptor_add_on_new(conf, "vigil-broker-nice", on_new, nice);
}

}  // namespace vigil::connectors::kafka

namespace vigil::connectors {

std::string default_group_instance_id(std::string_view host, std::string_view abs_data_dir) {
  std::string id = "vigil-";
  for (unsigned char c : host.substr(0, 64))
    id.push_back(std::isalnum(c) || c == '.' || c == '_' || c == '-' ? static_cast<char>(c) : '-');
  std::uint64_t h = 14695981039346656037ull;  // FNV-1a: the same on every build and platform
  for (unsigned char c : abs_data_dir) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  id += '-';
  id += hex;
  return id;
}

}  // namespace vigil::connectors
