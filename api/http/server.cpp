#include "api/http/server.hpp"

#include <openssl/ssl.h>

#include "api/http/request_parse.hpp"
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <fstream>
#include <limits>
#include <list>
#include <thread>

#include "engine/stats/prom_text.hpp"

namespace vigil::api {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;

class TlsContext {
 public:
  TlsContext() : ctx(ssl::context::tls_server) {}
  ssl::context ctx;
};

namespace {

// A streamed answer quiet for this long gets an SSE comment line, so that proxies and clients
// keep the connection open.
constexpr auto kStreamHeartbeat = std::chrono::seconds(15);
// After an answer that leaves an announced body unread, the connection drains what the client
// still sends for at most this long (or this many bytes) before it closes: closing with unread
// data would reset the connection, and the client could lose the answer.
constexpr auto kLingerTime = std::chrono::seconds(2);
constexpr std::size_t kLingerBytes = 1 << 20;

// Why the server refused or cut a request or connection (vigil_http_refused_total{reason}).
enum Reason : std::size_t {
  r_connections,      // over server.max_connections
  r_busy,             // over server.max_in_flight
  r_unauthorized,     // 401 from the head
  r_forbidden,        // 403 from the head
  r_rate_limited,     // 429 from the head
  r_too_large,        // 413: declared or read body over server.max_body_mb
  r_header_timeout,   // head (or TLS handshake) not complete within server.header_timeout_ms
  r_body_timeout,     // body not complete within server.body_timeout_ms
  r_tls_handshake,    // the TLS handshake failed (protocol version, no client certificate, ...)
  r_bad_request,      // malformed HTTP
  r_count
};
constexpr std::array<const char*, r_count> kReasonNames = {
    "connections",    "in_flight",      "unauthorized", "forbidden",     "rate_limited",
    "body_too_large", "header_timeout", "body_timeout", "tls_handshake", "bad_request"};

struct Stats {
  std::atomic<std::uint64_t> connections{0};  // open
  std::atomic<std::uint64_t> in_flight{0};
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> accept_errors{0};
  std::array<std::atomic<std::uint64_t>, r_count> refused{};
  void refuse(Reason r) { refused[r].fetch_add(1, std::memory_order_relaxed); }
};

struct Shared {
  HttpHandler& handler;
  HttpLimits limits;
  Stats stats;
  // Where read handlers run (HttpServer::start): off the I/O threads, so that a slow query holds
  // one worker, never the other connections of its I/O thread.
  net::thread_pool* workers = nullptr;
};

// A session as its I/O thread's sweeper sees it.
class Timed {
 public:
  virtual ~Timed() = default;
  // Called on the session's thread every sweep: closes the session if its deadline passed.
  virtual void sweep(Clock::time_point now) = 0;
};

// One I/O thread: its io_context, the sessions it runs, and the sweeper that enforces their
// deadlines. A deadline is a time stored in the session (no timer per connection or per
// request); the sweeper checks them a few times a second.
struct Loop {
  std::list<Timed*> sessions;  // declared before the io_context: sessions leave it as they die
  net::io_context ioc{1};
  net::steady_timer sweeper{ioc};
  Clock::duration every{};

  void arm() {
    sweeper.expires_after(every);
    sweeper.async_wait([this](beast::error_code ec) {
      if (ec) return;
      const auto now = Clock::now();
      // sweep() never destroys a session synchronously (closing a socket only aborts its
      // pending operations, whose handlers run later), so the iteration stays valid.
      for (Timed* s : sessions) s->sweep(now);
      arm();
    });
  }
};

tcp::socket& lowest(tcp::socket& s) { return s; }
tcp::socket& lowest(ssl::stream<tcp::socket>& s) { return s.next_layer(); }

template <class Stream>
constexpr bool kTls = !std::is_same_v<Stream, tcp::socket>;

template <class Stream>
class Session : public Timed, public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <class... Args>
  Session(Shared& shared, Loop& loop, Args&&... args)
      : stream_(std::forward<Args>(args)...), shared_(shared), loop_(loop) {
    where_ = loop_.sessions.insert(loop_.sessions.end(), this);
  }
  ~Session() override {
    if (stream_body_) stream_body_->close();
    release_in_flight();
    loop_.sessions.erase(where_);
    shared_.stats.connections.fetch_sub(1, std::memory_order_relaxed);
  }

  void run() {
    phase_ = Phase::head;
    deadline_ = Clock::now() + shared_.limits.header_timeout;
    if constexpr (kTls<Stream>) {
      stream_.async_handshake(ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
        if (ec) {
          if (ec != net::error::operation_aborted) self->shared_.stats.refuse(r_tls_handshake);
          spdlog::debug("TLS handshake failed: {}", ec.message());
          self->drop();
          return;
        }
        self->read_head(false);
      });
    } else {
      read_head(false);
    }
  }

  void sweep(Clock::time_point now) override {
    if (stream_body_) {
      if (now - last_write_ >= kStreamHeartbeat && !writing_) send_stream(": keep-alive\n\n", false);
      return;
    }
    if (now < deadline_) return;
    if (phase_ == Phase::head) shared_.stats.refuse(r_header_timeout);
    else if (phase_ == Phase::body) shared_.stats.refuse(r_body_timeout);
    deadline_ = Clock::time_point::max();
    drop();  // the pending operation completes with operation_aborted
  }

 private:
  enum class Phase { head, idle, body, handler, write, linger };

  // The head of the next request. On a kept-alive connection with nothing buffered, the idle
  // timeout runs until the first byte arrives, then the header timeout (on a new connection the
  // header timeout runs from the accept, TLS handshake included).
  void read_head(bool kept_alive) {
    parser_.emplace();
    configure_head(*parser_);
    if (kept_alive) {
      if (buffer_.size() == 0) {
        phase_ = Phase::idle;
        deadline_ = Clock::now() + shared_.limits.idle_timeout;
        stream_.async_read_some(buffer_.prepare(65536),
                                [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                                  if (ec) {
                                    self->drop();
                                    return;
                                  }
                                  self->buffer_.commit(n);
                                  self->deadline_ = Clock::now() + self->shared_.limits.header_timeout;
                                  self->read_rest_of_head();
                                });
        return;
      }
      deadline_ = Clock::now() + shared_.limits.header_timeout;
    }
    read_rest_of_head();
  }

  void read_rest_of_head() {
    phase_ = Phase::head;
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                              self->on_head(ec);
                            });
  }

  static bool gone(const beast::error_code& ec) {
    return ec == http::error::end_of_stream || ec == http::error::partial_message ||
           ec == net::error::operation_aborted ||
           ec == net::error::connection_reset || ec == net::error::bad_descriptor || ec == net::error::eof ||
           ec == net::ssl::error::stream_truncated;
  }

  void on_head(beast::error_code ec) {
    deadline_ = Clock::time_point::max();
    if (gone(ec)) {
      drop();
      return;
    }
    if (ec) {  // malformed HTTP: answer once, then close
      shared_.stats.refuse(r_bad_request);
      Response r = ec == http::error::header_limit
                       ? neutral_error(431, "the request head is over the size limit (8 KiB)")
                       : neutral_error(400, std::string("bad HTTP request: ") + ec.message());
      write(make(r, 11, false), true);
      return;
    }
    auto& msg = parser_->get();
    ++requests_;
    head_to_request(msg, req_);
    adm_.clear();
    const bool has_body = !parser_->is_done();
    keep_alive_ = msg.keep_alive() && (shared_.limits.max_requests_per_connection == 0 ||
                                       requests_ < shared_.limits.max_requests_per_connection);

    // The in-flight bound, before anything costs more (authentication included).
    if (shared_.stats.in_flight.fetch_add(1, std::memory_order_relaxed) >= shared_.limits.max_in_flight) {
      shared_.stats.in_flight.fetch_sub(1, std::memory_order_relaxed);
      shared_.stats.refuse(r_busy);
      Response r = guarded([&] {
        return shared_.handler.refuse(req_, 503,
                                      "the server is busy: " + std::to_string(shared_.limits.max_in_flight) +
                                          " requests in flight (server.max_in_flight); retry later");
      });
      r.headers.emplace_back("Retry-After", "1");
      answer(r, has_body);
      return;
    }
    in_flight_ = true;
    if (auto cl = parser_->content_length(); cl && *cl > shared_.limits.max_body_bytes) req_.unread_status = 413;
    std::optional<Response> early;
    try {
      early = shared_.handler.admit(req_, adm_);
    } catch (const std::exception& e) {
      spdlog::error("admission failed on {} {}: {}", req_.method, req_.path, e.what());
      early = neutral_error(500, "internal error");
    }
    if (!early && req_.unread_status) early = guarded([&] { return shared_.handler.handle(req_, adm_); });
    if (early) {
      switch (early->status) {
        case 401: shared_.stats.refuse(r_unauthorized); break;
        case 403: shared_.stats.refuse(r_forbidden); break;
        case 413: shared_.stats.refuse(r_too_large); break;
        case 429: shared_.stats.refuse(r_rate_limited); break;
        default: break;
      }
      answer(*early, has_body);
      return;
    }
    if (!has_body) {
      serve();
      return;
    }
    parser_->body_limit(shared_.limits.max_body_bytes);
    phase_ = Phase::body;
    deadline_ = Clock::now() + shared_.limits.body_timeout;
    auto expect = msg[http::field::expect];
    if (beast::iequals(expect, "100-continue")) {
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      net::async_write(stream_, net::buffer(kContinue),
                       [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                         if (ec) {
                           self->drop();
                           return;
                         }
                         self->read_body();
                       });
      return;
    }
    read_body();
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_body(ec);
    });
  }

  void on_body(beast::error_code ec) {
    deadline_ = Clock::time_point::max();
    if (ec == http::error::body_limit) {  // a chunked body over the limit
      shared_.stats.refuse(r_too_large);
      req_.unread_status = 413;
      keep_alive_ = false;
      Response r = guarded([&] { return shared_.handler.handle(req_, adm_); });
      write(make(r, parser_->get().version(), false), true);
      return;
    }
    if (gone(ec)) {
      drop();
      return;
    }
    if (ec) {
      shared_.stats.refuse(r_bad_request);
      write(make(neutral_error(400, std::string("bad HTTP request: ") + ec.message()), 11, false), true);
      return;
    }
    req_.body = std::move(parser_->get().body());
    serve();
  }

  template <class F>
  Response guarded(F&& f) {
    try {
      return f();
    } catch (const std::exception& e) {
      spdlog::error("handler failed on {} {}: {}", req_.method, req_.path, e.what());
      return neutral_error(500, "internal error");
    }
  }

  // Reads (GET, HEAD: queries, which may run up to query.timeout_ms) run on a worker and the
  // answer is written from the session's I/O thread; meanwhile the session starts no I/O and the
  // sweeper leaves it alone (its deadline is unset). Writes run here: they wait at most
  // engine.ingest_wait_ms, and the hand-offs would cost the ingest path a fifth of its rate.
  void serve() {
    phase_ = Phase::handler;
    if (req_.method != "GET" && req_.method != "HEAD") {
      respond(guarded([&] { return shared_.handler.handle(req_, adm_); }));
      return;
    }
    net::post(*shared_.workers, [self = this->shared_from_this()]() mutable {
      auto r = std::make_shared<Response>(self->guarded([&] { return self->shared_.handler.handle(self->req_, self->adm_); }));
      auto ex = lowest(self->stream_).get_executor();
      // The worker keeps no reference: the session ends on its own thread (its loop's list).
      net::post(ex, [self = std::move(self), r = std::move(r)] { self->respond(*r); });
    });
  }

  void respond(const Response& r) {
    if (r.stream && r.status == 200) {
      start_stream(r);
      return;
    }
    write(make(r, parser_->get().version(), keep_alive_), false);
  }

  // An answer given from the head: a body left unread closes the connection after it.
  void answer(const Response& r, bool body_unread) {
    if (body_unread) keep_alive_ = false;
    write(make(r, parser_->get().version(), keep_alive_), body_unread);
  }

  // A streamed answer: the head, then the stream's output as it comes; the connection closes
  // when the stream ends or the client goes away (a read completing with an error tells).
  // A stream is not a request in flight: it lasts as long as the client listens.
  void start_stream(const Response& r) {
    release_in_flight();
    stream_body_ = r.stream;
    std::string head = "HTTP/1.1 200 OK\r\nServer: vigil\r\nContent-Type: " + r.content_type +
                       "\r\nCache-Control: no-store\r\nConnection: close\r\n";
    for (const auto& [k, v] : r.headers) head += k + ": " + v + "\r\n";
    head += "\r\n";
    auto ex = lowest(stream_).get_executor();
    stream_body_->open([weak = this->weak_from_this(), ex] {
      net::post(ex, [weak] {
        if (auto self = weak.lock()) self->pump();
      });
    });
    send_stream(std::move(head), false);
    watch_close();
  }

  void watch_close() {
    stream_.async_read_some(net::buffer(probe_), [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) {
        self->end_stream();
        return;
      }
      self->watch_close();  // a client sends nothing after its request: ignored
    });
  }

  void pump() {
    if (!stream_body_ || writing_) return;
    bool done = false;
    std::string out = stream_body_->take(done);
    if (out.empty()) {
      if (done) end_stream();
      return;
    }
    send_stream(std::move(out), done);
  }

  void send_stream(std::string data, bool last) {
    writing_ = true;
    out_ = std::move(data);
    last_write_ = Clock::now();
    net::async_write(stream_, net::buffer(out_),
                     [self = this->shared_from_this(), last](beast::error_code ec, std::size_t) {
                       self->writing_ = false;
                       self->last_write_ = Clock::now();
                       if (ec || last) {
                         self->end_stream();
                         return;
                       }
                       self->pump();
                     });
  }

  void end_stream() {
    if (stream_body_) {
      stream_body_->close();
      stream_body_.reset();
    }
    drop();
  }

  http::response<http::string_body> make(const Response& r, unsigned version, bool keep_alive) {
    http::response<http::string_body> res{static_cast<http::status>(r.status), version};
    res.set(http::field::server, "vigil");
    if (!r.body.empty() || r.status != 204) res.set(http::field::content_type, r.content_type);
    for (const auto& [k, v] : r.headers) res.set(k, v);
    res.keep_alive(keep_alive);
    res.body() = r.body;
    res.prepare_payload();
    return res;
  }

  // Writes an answer; then the next request, or the end of the connection (draining an unread
  // body first when `linger`).
  void write(http::response<http::string_body>&& res, bool linger) {
    phase_ = Phase::write;
    deadline_ = Clock::now() + shared_.limits.idle_timeout;
    auto sp = std::make_shared<http::response<http::string_body>>(std::move(res));
    bool close_after = sp->need_eof();
    http::async_write(stream_, *sp,
                      [self = this->shared_from_this(), sp, close_after, linger](beast::error_code ec, std::size_t) {
                        self->deadline_ = Clock::time_point::max();
                        self->release_in_flight();
                        if (ec) {
                          self->drop();
                          return;
                        }
                        if (close_after) {
                          self->finish(linger);
                          return;
                        }
                        self->read_head(true);
                      });
  }

  void release_in_flight() {
    if (!in_flight_) return;
    in_flight_ = false;
    shared_.stats.in_flight.fetch_sub(1, std::memory_order_relaxed);
  }

  // The end of a connection after its last answer.
  void finish(bool linger) {
    beast::error_code ec;
    if constexpr (kTls<Stream>) {
      if (!linger) {
        // close_notify, then the TCP connection goes (the sweeper cuts a peer that never answers).
        phase_ = Phase::linger;
        deadline_ = Clock::now() + kLingerTime;
        stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) { self->drop(); });
        return;
      }
    }
    lowest(stream_).shutdown(tcp::socket::shutdown_send, ec);
    if (!linger) return;  // no more operations: the session ends, the socket closes
    phase_ = Phase::linger;
    deadline_ = Clock::now() + kLingerTime;
    drain();
  }

  void drain() {
    lowest(stream_).async_read_some(net::buffer(probe_),
                                    [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                                      self->drained_ += n;
                                      if (ec || self->drained_ >= kLingerBytes) {
                                        self->drop();
                                        return;
                                      }
                                      self->drain();
                                    });
  }

  // Closes the socket: pending operations complete with operation_aborted, and the session
  // ends when the last of them returns.
  void drop() {
    beast::error_code ec;
    lowest(stream_).close(ec);
  }

  Stream stream_;
  Shared& shared_;
  Loop& loop_;
  std::list<Timed*>::iterator where_;
  Phase phase_ = Phase::head;
  Clock::time_point deadline_ = Clock::time_point::max();
  beast::flat_buffer buffer_;
  std::optional<RequestParser> parser_;
  Request req_;
  Admission adm_;
  std::uint64_t requests_ = 0;
  bool keep_alive_ = false;
  bool in_flight_ = false;
  std::size_t drained_ = 0;
  // A streamed answer in progress (start_stream).
  std::shared_ptr<BodyStream> stream_body_;
  std::string out_;
  bool writing_ = false;
  Clock::time_point last_write_;
  char probe_[4096];
};

constexpr auto kAcceptBackoffFirst = std::chrono::milliseconds(50);
constexpr auto kAcceptBackoffMax = std::chrono::milliseconds(1000);

}  // namespace

std::shared_ptr<TlsContext> make_tls_context(const TlsOptions& opts, std::string& key, std::string& err) {
  auto readable = [&](const std::string& file, const char* setting) {
    std::ifstream in(file, std::ios::binary);
    if (in) return true;
    key = setting;
    err = "cannot read '" + file + "': " + std::strerror(errno);
    return false;
  };
  if (opts.cert_file.empty()) {
    key = opts.key_file.empty() ? "tls.client_ca_file" : "tls.key_file";
    err = "needs tls.cert_file (TLS is on only with a certificate and its key)";
    return nullptr;
  }
  if (opts.key_file.empty()) {
    key = "tls.key_file";
    err = "is required with tls.cert_file";
    return nullptr;
  }
  if (!readable(opts.cert_file, "tls.cert_file") || !readable(opts.key_file, "tls.key_file")) return nullptr;
  if (!opts.client_ca_file.empty() && !readable(opts.client_ca_file, "tls.client_ca_file")) return nullptr;
  auto t = std::make_shared<TlsContext>();
  auto& ctx = t->ctx;
  beast::error_code ec;
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                      ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use,
                  ec);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), opts.min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION);
  auto failed = [&](const char* setting, const char* what) {
    key = setting;
    err = std::string(what) + ": " + ec.message();
    return nullptr;
  };
  ctx.use_certificate_chain_file(opts.cert_file, ec);
  if (ec) return failed("tls.cert_file", "not a PEM certificate chain");
  ctx.use_private_key_file(opts.key_file, ssl::context::pem, ec);
  if (ec) return failed("tls.key_file", "not a PEM private key");
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1) {
    key = "tls.key_file";
    err = "the key does not match the certificate of tls.cert_file";
    return nullptr;
  }
  if (!opts.client_ca_file.empty()) {
    ctx.load_verify_file(opts.client_ca_file, ec);
    if (ec) return failed("tls.client_ca_file", "not a PEM CA certificate file");
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(opts.client_ca_file.c_str()))
      SSL_CTX_set_client_CA_list(ctx.native_handle(), names);
    ctx.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert, ec);
    if (ec) return failed("tls.client_ca_file", "cannot require client certificates");
  }
  return t;
}

// One io_context per I/O thread, each run by its thread alone: a connection's reads and writes
// stay on one thread (with one shared io_context every completion could hop threads). Reads run
// on a pool of as many workers (Shared::workers): two hand-offs per query, so that a slow one
// never stalls the other connections of its I/O thread; writes run on the I/O thread.
struct HttpServer::Impl {
  Impl(HttpHandler& h, HttpLimits l) : shared{h, l, {}} {}
  std::string host;
  std::uint16_t port = 0;
  int threads = 1;
  Shared shared;
  std::shared_ptr<TlsContext> tls;
  std::vector<std::unique_ptr<Loop>> loops;
  std::unique_ptr<net::thread_pool> workers;  // after the loops: destroyed (and joined) first
  std::optional<tcp::acceptor> acceptor;
  std::optional<net::steady_timer> backoff_timer;
  Clock::duration backoff{};
  Clock::time_point last_accept_log{};
  std::vector<std::thread> pool;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> guards;
  std::size_t next = 0;

  ~Impl() {
    // Sessions still held by pending handlers die with their io_context, before the loops'
    // session lists and `shared`.
    backoff_timer.reset();
    acceptor.reset();
    for (auto& l : loops) l->sweeper.cancel();
  }

  template <class Stream, class... Args>
  static void start_session(Shared& shared, Loop& loop, Args&&... args) {
    std::make_shared<Session<Stream>>(shared, loop, std::forward<Args>(args)...)->run();
  }

  void accept() {
    Loop& target = *loops[next++ % loops.size()];
    acceptor->async_accept(target.ioc, [this, &target](beast::error_code ec, tcp::socket s) {
      if (ec == net::error::operation_aborted) return;
      if (ec) {
        // EMFILE, ENFILE, ENOBUFS, ...: the pending connection stays queued; try again after a
        // pause that grows, instead of failing again at once.
        shared.stats.accept_errors.fetch_add(1, std::memory_order_relaxed);
        backoff = backoff == Clock::duration{} ? Clock::duration(kAcceptBackoffFirst)
                                               : std::min<Clock::duration>(backoff * 2, kAcceptBackoffMax);
        auto now = Clock::now();
        if (now - last_accept_log >= std::chrono::seconds(10)) {
          last_accept_log = now;
          spdlog::warn("accepting a connection failed: {}; retrying in {} ms", ec.message(),
                       std::chrono::duration_cast<std::chrono::milliseconds>(backoff).count());
        }
        backoff_timer->expires_after(backoff);
        backoff_timer->async_wait([this](beast::error_code e) {
          if (!e && acceptor && acceptor->is_open()) accept();
        });
        return;
      }
      backoff = Clock::duration{};
      shared.stats.accepted.fetch_add(1, std::memory_order_relaxed);
      if (shared.stats.connections.load(std::memory_order_relaxed) >= shared.limits.max_connections) {
        shared.stats.refuse(r_connections);
        if (!tls) {
          static const std::string kFull = [] {
            std::string body = R"({"error":"too many connections (server.max_connections); retry later"})";
            return "HTTP/1.1 503 Service Unavailable\r\nServer: vigil\r\nContent-Type: application/json\r\n"
                   "Retry-After: 1\r\nConnection: close\r\nContent-Length: " +
                   std::to_string(body.size()) + "\r\n\r\n" + body;
          }();
          s.non_blocking(true, ec);
          if (!ec) s.write_some(net::buffer(kFull), ec);
          s.shutdown(tcp::socket::shutdown_send, ec);
        }
        s.close(ec);
      } else {
        shared.stats.connections.fetch_add(1, std::memory_order_relaxed);
        s.set_option(tcp::no_delay(true), ec);
        net::post(target.ioc, [this, &target, sock = std::move(s)]() mutable {
          if (tls)
            start_session<ssl::stream<tcp::socket>>(shared, target, std::move(sock), tls->ctx);
          else
            start_session<tcp::socket>(shared, target, std::move(sock));
        });
      }
      if (acceptor && acceptor->is_open()) accept();
    });
  }
};

HttpServer::HttpServer(std::string host, std::uint16_t port, int threads, HttpHandler& handler, HttpLimits limits,
                       std::shared_ptr<TlsContext> tls)
    : impl_(std::make_unique<Impl>(handler, limits)) {
  impl_->host = std::move(host);
  impl_->port = port;
  impl_->threads = threads < 1 ? 1 : threads;
  impl_->tls = std::move(tls);
  auto& L = impl_->shared.limits;
  if (L.max_in_flight < 1) L.max_in_flight = 1;
  if (L.max_connections < 1) L.max_connections = 1;
  // The sweeper's period: a tenth of the shortest timeout, within 20..500 ms.
  auto shortest = std::min({L.header_timeout, L.body_timeout, L.idle_timeout});
  Clock::duration every = std::clamp<Clock::duration>(shortest / 10, std::chrono::milliseconds(20),
                                                      std::chrono::milliseconds(500));
  for (int i = 0; i < impl_->threads; ++i) {
    impl_->loops.push_back(std::make_unique<Loop>());
    impl_->loops.back()->every = every;
  }
}

HttpServer::~HttpServer() { stop(); }

bool HttpServer::start(std::string& err) {
  auto& I = *impl_;
  beast::error_code ec;
  std::string host = I.host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  auto addr = net::ip::make_address(host, ec);
  if (ec) {
    tcp::resolver resolver(I.loops[0]->ioc);
    auto results = resolver.resolve(host, std::to_string(I.port), ec);
    if (ec || results.empty()) {
      err = "cannot resolve listen host '" + I.host + "': " + ec.message();
      return false;
    }
    addr = results.begin()->endpoint().address();
  }
  tcp::endpoint ep(addr, I.port);
  I.acceptor.emplace(I.loops[0]->ioc);
  I.acceptor->open(ep.protocol(), ec);
  if (!ec) I.acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) I.acceptor->bind(ep, ec);
  if (!ec) I.acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    err = "cannot listen on " + I.host + ":" + std::to_string(I.port) + ": " + ec.message();
    I.acceptor.reset();
    return false;
  }
  I.port = I.acceptor->local_endpoint().port();
  I.backoff_timer.emplace(I.loops[0]->ioc);
  for (auto& l : I.loops) I.guards.push_back(net::make_work_guard(l->ioc));
  for (auto& l : I.loops) l->arm();
  I.workers = std::make_unique<net::thread_pool>(static_cast<std::size_t>(I.threads));
  I.shared.workers = I.workers.get();
  I.accept();
  for (int i = 0; i < I.threads; ++i) I.pool.emplace_back([this, i] { impl_->loops[i]->ioc.run(); });
  return true;
}

void HttpServer::stop() {
  auto& I = *impl_;
  if (I.pool.empty()) return;
  net::post(I.loops[0]->ioc, [this] {
    beast::error_code ec;
    if (impl_->acceptor) impl_->acceptor->close(ec);
  });
  I.guards.clear();
  for (auto& l : I.loops) l->ioc.stop();
  for (auto& t : I.pool) t.join();
  I.pool.clear();
  // Handlers running finish (their answers are not written); queued ones are dropped.
  if (I.workers) {
    I.workers->stop();
    I.workers->join();
  }
}

std::uint16_t HttpServer::port() const { return impl_->port; }

std::string HttpServer::metrics_text() const {
  const Stats& s = impl_->shared.stats;
  std::string out;
  prom::metric(out, "vigil_http_connections", "gauge", "Open HTTP connections.", s.connections.load());
  prom::metric(out, "vigil_http_in_flight", "gauge", "HTTP requests admitted and not yet answered.",
               s.in_flight.load());
  prom::metric(out, "vigil_http_accepted_total", "counter", "HTTP connections accepted.", s.accepted.load());
  prom::metric(out, "vigil_http_accept_errors_total", "counter",
               "Failed accepts (EMFILE and the like), each followed by a pause.", s.accept_errors.load());
  prom::head(out, "vigil_http_refused_total", "counter", "HTTP requests and connections refused or cut, by reason.");
  for (std::size_t r = 0; r < r_count; ++r)
    prom::sample(out, "vigil_http_refused_total", "reason", kReasonNames[r], s.refused[r].load());
  return out;
}

}  // namespace vigil::api
