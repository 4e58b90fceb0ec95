// The answer to a request that met a storage error (engine/storage/status.hpp): Librato's system error
// body naming it, {"errors":{"system":["storage error: corruption: ..."]}}. Corruption and I/O
// errors are the server's fault (500); the other kinds (busy, incomplete, timed out) may pass, and
// answer 503. A query that met one answers this, never a 200 with the points it could read.
#pragma once

#include "api/librato/errors.hpp"
#include "engine/storage/status.hpp"

namespace vigil::api::librato {

inline Response storage_error(const Status& st) {
  const int code = st.is_corruption() || st.is_io_error() ? 500 : 503;
  return system_error(code, "storage error: " + st.to_string());
}

}  // namespace vigil::api::librato
