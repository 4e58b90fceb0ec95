// The HTTP/1.1 front: Boost.Beast sessions on a pool of I/O threads. Beast stays behind this
// header. It knows no dialect: a malformed request is answered with neutral_error(). Handlers
// run on the I/O thread that read the request and may block briefly.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/http/message.hpp"

namespace vigil::api {

using Handler = std::function<Response(const Request&)>;

class HttpServer {
 public:
  HttpServer(std::string host, std::uint16_t port, int threads, Handler handler);
  ~HttpServer();

  // Binds and starts serving; false and `err` if the address cannot be used.
  bool start(std::string& err);
  // Stops accepting, closes sessions, joins the I/O threads.
  void stop();
  // The bound port (useful with port 0).
  std::uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vigil::api
