#include "connectors/notify/http_client.hpp"

#include <vector>

#include "engine/model/egress.hpp"

#include <string_view>

#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <memory>

namespace vigil::connectors {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

bool parse_url(const std::string& url, ParsedUrl& out, std::string& err) {
  constexpr std::string_view kHttps = "https://", kHttp = "http://";
  std::string rest;
  if (url.rfind(kHttps, 0) == 0) {
    out.tls = true;
    rest = url.substr(kHttps.size());
  } else if (url.rfind(kHttp, 0) == 0) {
    out.tls = false;
    rest = url.substr(kHttp.size());
  } else {
    err = "unsupported URL scheme in " + url;
    return false;
  }
  auto slash = rest.find_first_of("/?");
  std::string authority = rest.substr(0, slash);
  out.target = slash == std::string::npos ? "/" : rest.substr(slash);
  if (!out.target.empty() && out.target[0] == '?') out.target = "/" + out.target;
  auto at = authority.rfind('@');
  if (at != std::string::npos) authority = authority.substr(at + 1);
  if (!authority.empty() && authority[0] == '[') {
    auto close = authority.find(']');
    if (close == std::string::npos) {
      err = "bad IPv6 host in " + url;
      return false;
    }
    out.host = authority.substr(1, close - 1);
    out.port = close + 2 <= authority.size() && authority.size() > close + 1 && authority[close + 1] == ':'
                   ? authority.substr(close + 2)
                   : "";
  } else {
    auto colon = authority.rfind(':');
    out.host = authority.substr(0, colon);
    out.port = colon == std::string::npos ? "" : authority.substr(colon + 1);
  }
  if (out.port.empty()) out.port = out.tls ? "443" : "80";
  if (out.host.empty()) {
    err = "no host in " + url;
    return false;
  }
  return true;
}

asio::ssl::context make_tls_context() {
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                  asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
  ctx.set_default_verify_paths();
  ctx.set_verify_mode(asio::ssl::verify_peer);
  return ctx;
}

namespace {

template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <class... Args>
  Session(asio::io_context& io, ParsedUrl url, const HttpRequestSpec& spec, std::chrono::milliseconds timeout,
          bool allow_private, std::function<void(HttpResult)> done, Args&&... stream_args)
      : resolver_(io),
        stream_(std::forward<Args>(stream_args)...),
        allow_private_(allow_private),
        timer_(io),
        url_(std::move(url)),
        timeout_(timeout),
        done_(std::move(done)) {
    req_.method(http::verb::post);
    req_.target(url_.target);
    req_.version(11);
    bool default_port = url_.port == (url_.tls ? "443" : "80");
    req_.set(http::field::host, default_port ? url_.host : url_.host + ":" + url_.port);
    for (const auto& [k, v] : spec.headers) req_.set(k, v);
    req_.set(http::field::connection, "close");
    req_.body() = spec.body;
    req_.prepare_payload();
  }

  void start() {
    if constexpr (kTls) {
      // SNI and host name verification.
      if (!SSL_set_tlsext_host_name(stream_.native_handle(), url_.host.c_str())) {
        finish({0, "cannot set SNI host name", ""});
        return;
      }
      stream_.set_verify_callback(asio::ssl::host_name_verification(url_.host));
    }
    auto self = this->shared_from_this();
    timer_.expires_after(timeout_);
    timer_.async_wait([self](beast::error_code ec) {
      if (ec) return;
      self->timed_out_ = true;
      self->resolver_.cancel();
      beast::error_code ignored;
      beast::get_lowest_layer(self->stream_).socket().close(ignored);
    });
    resolver_.async_resolve(url_.host, url_.port, [self](beast::error_code ec, tcp::resolver::results_type results) {
      if (ec) return self->fail(ec, "resolve");
      // The egress policy on the addresses the name resolves to now (DNS rebinding included).
      std::vector<tcp::endpoint> allowed;
      std::string refusal;
      for (const auto& r : results) {
        std::string addr = r.endpoint().address().to_string();
        std::string why = egress_refusal(addr, self->allow_private_);
        if (why.empty()) allowed.push_back(r.endpoint());
        else if (refusal.empty()) refusal = self->url_.host + " resolves to " + addr + ": " + why;
      }
      if (allowed.empty()) return self->finish({0, std::string(kEgressRefused) + refusal, ""});
      self->endpoints_ = std::move(allowed);
      beast::get_lowest_layer(self->stream_).async_connect(
          self->endpoints_, [self](beast::error_code ec2, const tcp::endpoint&) {
            if (ec2) return self->fail(ec2, "connect");
            self->after_connect();
          });
    });
  }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  void after_connect() {
    auto self = this->shared_from_this();
    if constexpr (kTls) {
      stream_.async_handshake(asio::ssl::stream_base::client, [self](beast::error_code ec) {
        if (ec) return self->fail(ec, "TLS handshake");
        self->write();
      });
    } else {
      write();
    }
  }

  void write() {
    auto self = this->shared_from_this();
    http::async_write(stream_, req_, [self](beast::error_code ec, std::size_t) {
      if (ec) return self->fail(ec, "write");
      http::async_read(self->stream_, self->buffer_, self->res_, [self](beast::error_code ec2, std::size_t) {
        if (ec2) return self->fail(ec2, "read");
        HttpResult r;
        r.status = static_cast<int>(self->res_.result_int());
        r.body = self->res_.body();
        if (r.body.size() > 512) r.body.resize(512);
        beast::error_code ignored;
        beast::get_lowest_layer(self->stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
        self->finish(std::move(r));
      });
    });
  }

  void fail(beast::error_code ec, const char* what) {
    if (timed_out_) return finish({0, "timed out after " + std::to_string(timeout_.count()) + " ms", ""});
    finish({0, std::string(what) + ": " + ec.message(), ""});
  }

  void finish(HttpResult r) {
    if (finished_) return;
    finished_ = true;
    timer_.cancel();
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().close(ignored);
    auto done = std::move(done_);
    done(std::move(r));
  }

  tcp::resolver resolver_;
  Stream stream_;
  bool allow_private_;
  std::vector<tcp::endpoint> endpoints_;
  asio::steady_timer timer_;
  ParsedUrl url_;
  std::chrono::milliseconds timeout_;
  std::function<void(HttpResult)> done_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
  beast::flat_buffer buffer_;
  bool timed_out_ = false;
  bool finished_ = false;
};

}  // namespace

void async_post(asio::io_context& io, asio::ssl::context& tls, const HttpRequestSpec& req,
                std::chrono::milliseconds timeout, bool allow_private, std::function<void(HttpResult)> done) {
  ParsedUrl url;
  std::string err;
  if (!parse_url(req.url, url, err)) {
    asio::post(io, [done = std::move(done), err] { done({0, err, ""}); });
    return;
  }
  if (url.tls) {
    std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(io, url, req, timeout, allow_private,
                                                                     std::move(done), io, tls)
        ->start();
  } else {
    std::make_shared<Session<beast::tcp_stream>>(io, url, req, timeout, allow_private, std::move(done), io)->start();
  }
}

}  // namespace vigil::connectors
