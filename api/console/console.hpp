// The web console, served beside the API on the same address: the page and its bundle at `/`
// (StaticFiles), who the signed-in caller is (GET /console/session), and live samples as
// Server-Sent Events (GET /console/live, LiveHub). It owns the paths no dialect owns; the router
// hands them here. Credentials are the API's: HTTP Basic account email and token, checked by
// the Authenticator against the one token store.
#pragma once

#include <memory>
#include <string>

#include "api/http/message.hpp"

namespace vigil::actors {
class Engine;
}

namespace vigil::api {
class Authenticator;
}

namespace vigil::api::console {

class LiveHub;
class StaticFiles;

struct ConsoleOptions {
  std::string web_root;  // the directory of the built console files
  bool auth_enabled = true;
};

class Console {
 public:
  // Reads the files; the live hub listens to the engine's applies while a stream is open.
  Console(actors::Engine& engine, Authenticator& auth, ConsoleOptions opts);
  ~Console();

  Response handle(const Request& req);
  // Why the page cannot be served (its files are missing), or empty.
  const std::string& load_error() const { return load_error_; }

 private:
  Response session(const Request& req);
  Response live(const Request& req);
  Response file(const Request& req);

  actors::Engine& engine_;
  Authenticator& auth_;
  ConsoleOptions opts_;
  std::unique_ptr<StaticFiles> files_;
  std::shared_ptr<LiveHub> hub_;
  std::string load_error_;
};

}  // namespace vigil::api::console
