// KafkaConsumer's life: start (configuration, the consumer and dead-letter producer, the
// subscription, the four threads) and stop (the fetch thread leaves the group and stops the
// others). What each thread does is in fetch.cpp and pipeline.cpp.
#include <pthread.h>
#include <spdlog/spdlog.h>

#include "connectors/kafka/consumer_impl.hpp"

namespace vigil::connectors {

KafkaConsumer::KafkaConsumer() : impl_(std::make_unique<Impl>()) {}

KafkaConsumer::~KafkaConsumer() {
  stop();
  auto& I = *impl_;
  // Messages go before the handle they came from (after stop() there are none left).
  I.drop_buffered();
  I.handoff.spare.clear();
  I.queue.reset();
  I.rk.reset();
  I.dlq.reset();
}

std::unique_ptr<KafkaConsumer> KafkaConsumer::start(actors::Engine& engine,
                                                    const KafkaOptions& opts, std::string& err) {
  std::unique_ptr<KafkaConsumer> c(new KafkaConsumer());
  auto& I = *c->impl_;
  I.engine = &engine;
  I.opts = opts;
  if (I.opts.batch_size == 0) I.opts.batch_size = 1;
  if (!parse_time_precision(opts.timestamp_precision, I.precision)) {
    err = "invalid timestamp precision '" + opts.timestamp_precision + "'";
    return nullptr;
  }
  char errstr[512];

  kafka::Conf conf = kafka::consumer_conf(opts, err);
  if (!conf) return nullptr;
  rd_kafka_conf_set_opaque(conf.get(), &I);
  rd_kafka_conf_set_rebalance_cb(conf.get(), &Impl::rebalance_cb);
  kafka::lower_broker_threads(conf.get(), &I.opts.broker_thread_nice);
  I.rk.reset(rd_kafka_new(RD_KAFKA_CONSUMER, conf.get(), errstr, sizeof errstr));
  if (!I.rk) {
    err = std::string("kafka consumer: ") + errstr;  // on failure the conf is still ours
    return nullptr;
  }
  conf.release();  // the consumer owns it now
  rd_kafka_poll_set_consumer(I.rk.get());
  I.queue.reset(rd_kafka_queue_get_consumer(I.rk.get()));

  if (!opts.dead_letter_topic.empty()) {
    kafka::Conf pconf = kafka::dead_letter_conf(opts, err);
    if (!pconf) return nullptr;
    rd_kafka_conf_set_opaque(pconf.get(), &I);
    rd_kafka_conf_set_dr_msg_cb(pconf.get(), &Impl::delivery_cb);
    kafka::lower_broker_threads(pconf.get(), &I.opts.broker_thread_nice);
    I.dlq.reset(rd_kafka_new(RD_KAFKA_PRODUCER, pconf.get(), errstr, sizeof errstr));
    if (!I.dlq) {
      err = std::string("kafka dead-letter producer: ") + errstr;
      return nullptr;
    }
    pconf.release();  // the producer owns it now
  }

  kafka::PartitionList topics(
      rd_kafka_topic_partition_list_new(static_cast<int>(opts.topics.size())));
  for (const auto& t : opts.topics)
    rd_kafka_topic_partition_list_add(topics.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t e = rd_kafka_subscribe(I.rk.get(), topics.get());
  topics.reset();
  if (e) {
    err = std::string("kafka subscribe: ") + rd_kafka_err2str(e);
    return nullptr;
  }
  std::string list;
  for (const auto& t : opts.topics) list += (list.empty() ? "" : ",") + t;
  spdlog::info("kafka: consuming {} from {} as group {} (dead letters: {})", list,
               opts.bootstrap_servers, opts.group_id,
               opts.dead_letter_topic.empty() ? "off" : opts.dead_letter_topic);
  // Named for top -H and perf.
  auto named = [&I](const char* name, void (Impl::*loop)()) {
    return std::thread([&I, name, loop] {
      pthread_setname_np(pthread_self(), name);
      (I.*loop)();
    });
  };
  if (std::thread::hardware_concurrency() > 1)
    I.split.thread = named("vk-parse", &Impl::parse_loop);
  I.handoff.thread = named("vk-ingest", &Impl::ingest_loop);
  I.process_thread = named("vk-process", &Impl::process_loop);
  I.thread = named("vk-fetch", &Impl::run);
  return c;
}

void KafkaConsumer::stop() {
  auto& I = *impl_;
  if (I.stopped) return;
  I.stopped = true;
  I.stopping.store(true);
  if (I.thread.joinable()) I.thread.join();
  spdlog::info("kafka: consumer stopped");
}

}  // namespace vigil::connectors
