#include "api/librato/resources.hpp"

namespace vigil::api::librato {

bool route_resources(actors::Engine& /*engine*/, Access& access, const Request& req, Response& out) {
  return route_tokens(access, req, out);
}

}  // namespace vigil::api::librato
