#include "api/http/server.hpp"

#include "api/http/request_parse.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <thread>

namespace vigil::api {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// A connection idle (no read or write completing) for this long is closed.
constexpr auto kIdleTimeout = std::chrono::seconds(120);
// A streamed answer quiet for this long gets an SSE comment line, so that proxies and clients
// keep the connection open.
constexpr auto kStreamHeartbeat = std::chrono::seconds(15);

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const Handler& handler)
      : socket_(std::move(socket)), idle_(socket_.get_executor()), handler_(handler) {}
  ~Session() {
    if (stream_) stream_->close();
  }

  void run() {
    touch();
    watch_idle(kIdleTimeout);
    read();
  }

 private:
  // The idle timeout: one timer per connection, re-armed only when it fires (a timer per read
  // would cost a timerfd system call per request).
  void touch() { last_ = std::chrono::steady_clock::now(); }
  void watch_idle(std::chrono::steady_clock::duration after) {
    idle_.expires_after(after);
    idle_.async_wait([weak = weak_from_this()](beast::error_code ec) {
      auto self = weak.lock();
      if (ec || !self) return;
      const auto quiet = std::chrono::steady_clock::now() - self->last_;
      if (self->stream_) {
        if (quiet >= kStreamHeartbeat && !self->writing_) self->send_stream(": keep-alive\n\n", false);
        self->watch_idle(kStreamHeartbeat);
        return;
      }
      if (quiet >= kIdleTimeout) {
        beast::error_code ignored;
        self->socket_.close(ignored);  // the pending read completes with operation_aborted
        return;
      }
      self->watch_idle(kIdleTimeout - quiet);
    });
  }

  void read() {
    parser_.emplace();
    configure(*parser_);
    http::async_read(socket_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       self->touch();
                       self->on_read(ec);
                     });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == net::error::operation_aborted ||
        ec == net::error::connection_reset || ec == net::error::bad_descriptor) {
      close();
      return;
    }
    // A body over the limit fails once the head is read (Content-Length) or during the body
    // (chunked): the method, target and fields are known either way.
    if (ec && !(ec == http::error::body_limit && !parser_->get().target().empty())) {
      // Malformed HTTP: answer once, then close.
      Response r = neutral_error(400, std::string("bad HTTP request: ") + ec.message());
      write(make(r, 11, false));
      return;
    }
    Request req = to_request(*parser_, static_cast<bool>(ec));
    Response r;
    try {
      r = handler_(req);
    } catch (const std::exception& e) {
      spdlog::error("handler failed on {} {}: {}", req.method, req.path, e.what());
      r = neutral_error(500, "internal error");
    }
    if (r.stream && r.status == 200 && !ec) {
      start_stream(r);
      return;
    }
    write(make(r, parser_->get().version(), parser_->get().keep_alive() && !ec));
  }

  // A streamed answer: the head, then the stream's output as it comes; the connection closes
  // when the stream ends or the client goes away (a read completing with an error tells).
  void start_stream(const Response& r) {
    stream_ = r.stream;
    std::string head = "HTTP/1.1 200 OK\r\nServer: vigil\r\nContent-Type: " + r.content_type +
                       "\r\nCache-Control: no-store\r\nConnection: close\r\n";
    for (const auto& [k, v] : r.headers) head += k + ": " + v + "\r\n";
    head += "\r\n";
    auto ex = socket_.get_executor();
    stream_->open([weak = weak_from_this(), ex] {
      net::post(ex, [weak] {
        if (auto self = weak.lock()) self->pump();
      });
    });
    send_stream(std::move(head), false);
    watch_close();
    watch_idle(kStreamHeartbeat);
  }

  void watch_close() {
    socket_.async_read_some(net::buffer(probe_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) {
        self->end_stream();
        return;
      }
      self->watch_close();  // a client sends nothing after its request: ignored
    });
  }

  void pump() {
    if (!stream_ || writing_) return;
    bool done = false;
    std::string out = stream_->take(done);
    if (out.empty()) {
      if (done) end_stream();
      return;
    }
    send_stream(std::move(out), done);
  }

  void send_stream(std::string data, bool last) {
    writing_ = true;
    out_ = std::move(data);
    net::async_write(socket_, net::buffer(out_), [self = shared_from_this(), last](beast::error_code ec, std::size_t) {
      self->writing_ = false;
      self->touch();
      if (ec || last) {
        self->end_stream();
        return;
      }
      self->pump();
    });
  }

  void end_stream() {
    if (stream_) {
      stream_->close();
      stream_.reset();
    }
    close();
    beast::error_code ignored;
    socket_.close(ignored);
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

  void write(http::response<http::string_body>&& res) {
    auto sp = std::make_shared<http::response<http::string_body>>(std::move(res));
    bool close_after = sp->need_eof();
    http::async_write(socket_, *sp,
                      [self = shared_from_this(), sp, close_after](beast::error_code ec, std::size_t) {
                        self->touch();
                        if (ec || close_after) {
                          self->close();
                          return;
                        }
                        self->read();
                      });
  }

  void close() {
    beast::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    idle_.cancel();
  }

  tcp::socket socket_;
  net::steady_timer idle_;
  std::chrono::steady_clock::time_point last_;
  beast::flat_buffer buffer_;
  std::optional<RequestParser> parser_;
  const Handler& handler_;
  // A streamed answer in progress (start_stream).
  std::shared_ptr<BodyStream> stream_;
  std::string out_;
  bool writing_ = false;
  char probe_[512];
};

}  // namespace

// One io_context per worker thread, each run by its thread alone: a connection's reads, handler
// and writes stay on one thread, so no request wakes another thread (with one shared io_context
// every completion could hop threads, and the wake-ups cost more than small requests do).
struct HttpServer::Impl {
  std::string host;
  std::uint16_t port;
  int threads;
  Handler handler;
  std::vector<std::unique_ptr<net::io_context>> ioc;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> pool;
  std::vector<net::executor_work_guard<net::io_context::executor_type>> guards;
  std::size_t next = 0;

  void accept() {
    net::io_context& target = *ioc[next++ % ioc.size()];
    acceptor->async_accept(target, [this](beast::error_code ec, tcp::socket s) {
      if (ec == net::error::operation_aborted) return;
      if (!ec) {
        s.set_option(tcp::no_delay(true), ec);
        std::make_shared<Session>(std::move(s), handler)->run();
      }
      if (acceptor && acceptor->is_open()) accept();
    });
  }
};

HttpServer::HttpServer(std::string host, std::uint16_t port, int threads, Handler handler)
    : impl_(std::make_unique<Impl>()) {
  impl_->host = std::move(host);
  impl_->port = port;
  impl_->threads = threads < 1 ? 1 : threads;
  impl_->handler = std::move(handler);
  for (int i = 0; i < impl_->threads; ++i) impl_->ioc.push_back(std::make_unique<net::io_context>(1));
}

HttpServer::~HttpServer() { stop(); }

bool HttpServer::start(std::string& err) {
  auto& I = *impl_;
  beast::error_code ec;
  std::string host = I.host;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  auto addr = net::ip::make_address(host, ec);
  if (ec) {
    tcp::resolver resolver(*I.ioc[0]);
    auto results = resolver.resolve(host, std::to_string(I.port), ec);
    if (ec || results.empty()) {
      err = "cannot resolve listen host '" + I.host + "': " + ec.message();
      return false;
    }
    addr = results.begin()->endpoint().address();
  }
  tcp::endpoint ep(addr, I.port);
  I.acceptor.emplace(*I.ioc[0]);
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
  for (auto& c : I.ioc) I.guards.push_back(net::make_work_guard(*c));
  I.accept();
  for (int i = 0; i < I.threads; ++i) I.pool.emplace_back([this, i] { impl_->ioc[i]->run(); });
  return true;
}

void HttpServer::stop() {
  auto& I = *impl_;
  if (I.pool.empty()) return;
  net::post(*I.ioc[0], [this] {
    beast::error_code ec;
    if (impl_->acceptor) impl_->acceptor->close(ec);
  });
  I.guards.clear();
  for (auto& c : I.ioc) c->stop();
  for (auto& t : I.pool) t.join();
  I.pool.clear();
}

std::uint16_t HttpServer::port() const { return impl_->port; }

}  // namespace vigil::api
