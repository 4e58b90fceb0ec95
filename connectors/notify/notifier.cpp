#include "connectors/notify/notifier.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <deque>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "actors/alerting/hub.hpp"
#include "connectors/notify/http_client.hpp"
#include "connectors/notify/smtp.hpp"
#include "engine/alerting/alert_model.hpp"

namespace vigil::connectors {

namespace asio = boost::asio;
using actors::OutboxRecord;

namespace {

alerting::Service to_service(const actors::OutboxService& o) {
  alerting::Service s;
  s.id = o.id;
  s.type = o.type;
  s.title = o.title;
  s.settings_json = o.settings_json;
  return s;
}

}  // namespace

std::int64_t Notifier::backoff_ms(const NotifierOptions& o, int attempt) {
  double d = o.backoff_initial_ms;
  for (int i = 1; i < attempt && d < o.backoff_max_ms; ++i) d *= 2;
  return static_cast<std::int64_t>(std::min<double>(d, o.backoff_max_ms));
}

struct Notifier::Impl {
  actors::AlertHub& hub;
  NotifierOptions opts;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> guard{io.get_executor()};
  std::unique_ptr<asio::ssl::context> tls;  // created at the first https delivery (loads the CA store)
  std::thread thread;
  asio::thread_pool mail{1};  // SMTP sessions block: one at a time, off the event loop
  std::mt19937_64 rng{std::random_device{}()};

  // The records of one service, by outbox id. One request is in flight per service at a time;
  // the next one sent is the oldest record that is due and not behind an older record of its
  // own stream (alert and stream): a record waiting for its retry delays only the later records
  // of its stream, never the other streams of the service (no head-of-line blocking), and a
  // trigger is still never overtaken by its resolve.
  struct Queue {
    std::map<std::uint64_t, OutboxRecord> items;
    bool busy = false;
    std::uint64_t in_flight = 0;  // the id being attempted while busy
    std::unique_ptr<asio::steady_timer> timer;
    std::int64_t timer_at = 0;  // when the timer fires (wall ms); 0: not armed
  };
  std::map<std::uint64_t, Queue> queues;  // by service id
  std::set<std::uint64_t> known;          // outbox ids queued in this run
  std::unique_ptr<asio::steady_timer> housekeeping;

  Impl(actors::AlertHub& h, NotifierOptions o) : hub(h), opts(o) {}

  // Records of one stream are delivered in order; test notifications stand alone.
  static std::string order_key(const OutboxRecord& r) {
    if (r.alert.id == 0) return "t" + std::to_string(r.id);
    return std::to_string(r.alert.id) + '\0' + r.stream_key;
  }

  void enqueue(OutboxRecord r) {
    if (!known.insert(r.id).second) return;
    std::uint64_t sid = r.service.id;
    auto& q = queues[sid];
    if (!q.timer) q.timer = std::make_unique<asio::steady_timer>(io);
    std::uint64_t id = r.id;
    q.items.emplace(id, std::move(r));
    pump(sid);
  }

  void pump(std::uint64_t sid) {
    auto& q = queues[sid];
    if (q.busy || q.items.empty()) return;
    const std::int64_t now = actors::wall_ms();
    std::set<std::string> blocked;  // streams with an older record not due yet
    std::int64_t earliest = 0;
    for (auto& [id, r] : q.items) {
      std::string key = order_key(r);
      if (blocked.count(key)) continue;
      if (r.next_attempt_ms <= now) {
        q.busy = true;
        q.in_flight = id;
        attempt(sid);
        return;
      }
      blocked.insert(std::move(key));
      if (earliest == 0 || r.next_attempt_ms < earliest) earliest = r.next_attempt_ms;
    }
    if (earliest == 0 || (q.timer_at != 0 && q.timer_at <= earliest)) return;
    q.timer_at = earliest;
    q.timer->expires_after(std::chrono::milliseconds(std::max<std::int64_t>(1, earliest - now)));
    q.timer->async_wait([this, sid](boost::system::error_code ec) {
      if (ec) return;  // re-armed for another time, or stopped
      queues[sid].timer_at = 0;
      pump(sid);
    });
  }

  OutboxRecord& current(std::uint64_t sid) {
    auto& q = queues[sid];
    return q.items.at(q.in_flight);
  }

  void done_with_head(std::uint64_t sid) {
    auto& q = queues[sid];
    known.erase(q.in_flight);
    q.items.erase(q.in_flight);
    q.busy = false;
    pump(sid);
  }

  // Outcomes the outbox could not record (a storage error): the record is not attempted again in
  // this run, and the write is retried until it succeeds (a delivered record would otherwise be
  // sent again after a restart, a failed one stay pending).
  struct Unrecorded {
    OutboxRecord r;
    bool delivered = false;
    int status = 0;
  };
  std::map<std::uint64_t, Unrecorded> unrecorded;

  void record_failed(const OutboxRecord& r) {
    if (!hub.outbox_failed(r)) unrecorded[r.id] = Unrecorded{r, false, 0};
  }

  // The hub's periodic work (retries of unpersisted alert state, idle streams, retention of
  // failed notifications) and the outcomes to record again, on this thread, four times a second.
  void housekeep() {
    hub.housekeep();
    for (auto it = unrecorded.begin(); it != unrecorded.end();) {
      auto& u = it->second;
      bool ok = u.delivered ? hub.outbox_delivered(u.r, u.status) : hub.outbox_failed(u.r);
      it = ok ? unrecorded.erase(it) : std::next(it);
    }
    housekeeping->expires_after(std::chrono::milliseconds(250));
    housekeeping->async_wait([this](boost::system::error_code ec) {
      if (!ec) housekeep();
    });
  }

  void attempt(std::uint64_t sid) {
    OutboxRecord& r = current(sid);
    std::string err;
    if (!alerting::deliverable_service_type(r.service.type)) {
      r.attempts += 1;
      r.last_error = "undeliverable: the " + r.service.type + " service no longer exists";
      spdlog::warn("notification {} to service {}: {}", r.id, sid, r.last_error);
      record_failed(r);
      done_with_head(sid);
      return;
    }
    if (r.service.type == "mail") {
      MailSpec mail_spec;
      if (!render_mail(r, mail_spec, err)) {
        r.attempts += 1;
        r.last_error = err;
        record_failed(r);
        done_with_head(sid);
        return;
      }
      SmtpOptions so;
      so.url = opts.smtp_url;
      so.from = opts.smtp_from;
      so.username = opts.smtp_username;
      so.password = opts.smtp_password;
      so.starttls = opts.smtp_starttls;
      so.timeout_ms = opts.delivery_timeout_ms;
      asio::post(mail, [this, sid, so = std::move(so), m = std::move(mail_spec)] {
        SmtpResult res = send_mail(so, m);
        asio::post(io, [this, sid, res = std::move(res)] {
          finish(sid, res.ok, res.ok ? static_cast<int>(res.code ? res.code : 250) : 0, !res.permanent, res.error);
        });
      });
      return;
    }
    HttpRequestSpec spec;
    if (!render_notification(r, spec, err)) {
      r.attempts += 1;
      r.last_error = err;
      spdlog::warn("notification {} cannot be sent: {}", r.id, err);
      record_failed(r);
      done_with_head(sid);
      return;
    }
    if (!tls) tls = std::make_unique<asio::ssl::context>(make_tls_context());
    async_post(io, *tls, spec, std::chrono::milliseconds(opts.delivery_timeout_ms), opts.allow_private_targets,
               [this, sid](HttpResult res) { on_result(sid, std::move(res)); });
  }

  void on_result(std::uint64_t sid, HttpResult res) {
    bool ok = res.status >= 200 && res.status < 300;
    std::string error = res.status != 0 ? "HTTP " + std::to_string(res.status) + (res.body.empty() ? "" : ": " + res.body)
                                        : res.error;
    bool retryable = res.status == 0 || res.status >= 500 || res.status == 408 || res.status == 429;
    if (res.status == 0 && res.error.rfind(kEgressRefused, 0) == 0) retryable = false;  // policy, not a fault
    finish(sid, ok, res.status, retryable, std::move(error));
  }

  // The end of an attempt: delivered (with the receiver's status), retried later, or failed.
  void finish(std::uint64_t sid, bool ok, int status, bool retryable, std::string error) {
    auto& q = queues[sid];
    OutboxRecord& r = current(sid);
    int attempts = r.attempts + 1;
    r.attempts = attempts;
    if (ok) {
      if (!hub.outbox_delivered(r, status)) unrecorded[r.id] = Unrecorded{r, true, status};
      done_with_head(sid);
      return;
    }
    // A receiver's answer is kept without the service's secrets (a receiver may echo them) and cut.
    r.last_error = alerting::scrub_secrets(error, to_service(r.service), 300);
    error = r.last_error;
    if (!retryable || attempts >= opts.max_attempts) {
      spdlog::warn("notification {} to service {} failed after {} attempt(s): {}", r.id, sid, attempts, error);
      record_failed(r);
      done_with_head(sid);
      return;
    }
    std::int64_t base = backoff_ms(opts, attempts);
    std::uniform_real_distribution<double> jitter(0.5, 1.0);
    std::int64_t delay = static_cast<std::int64_t>(static_cast<double>(base) * jitter(rng));
    r.next_attempt_ms = actors::wall_ms() + delay;
    spdlog::info("notification {} to service {}: attempt {} failed ({}); retrying in {} ms", r.id, sid, attempts, error,
                 delay);
    if (!hub.outbox_update(r))  // the stored record keeps its older attempt count: a restart retries sooner
      spdlog::warn("notification {}: the retry schedule could not be stored", r.id);
    q.busy = false;
    pump(sid);
  }
};

Notifier::Notifier(actors::AlertHub& hub, NotifierOptions opts) : impl_(std::make_unique<Impl>(hub, opts)) {}

Notifier::~Notifier() { stop(); }

void Notifier::start() {
  auto* I = impl_.get();
  I->hub.set_listener([I](std::vector<OutboxRecord> records) {
    asio::post(I->io, [I, records = std::move(records)]() mutable {
      for (auto& r : records) I->enqueue(std::move(r));
    });
  });
  I->housekeeping = std::make_unique<asio::steady_timer>(I->io);
  asio::post(I->io, [I] { I->housekeep(); });
  asio::post(I->io, [I] {
    auto pending = I->hub.pending_outbox();
    if (!pending.empty()) spdlog::info("notifier: resuming {} pending notification(s)", pending.size());
    for (auto& r : pending) I->enqueue(std::move(r));
  });
  I->thread = std::thread([I] { I->io.run(); });
}

void Notifier::stop() {
  auto* I = impl_.get();
  if (!I->thread.joinable()) return;
  I->hub.set_listener(nullptr);
  I->guard.reset();
  I->io.stop();
  I->thread.join();
  I->mail.stop();  // a session under way ends within its timeout; its record stays pending
  I->mail.join();
}

}  // namespace vigil::connectors
