// The helpers the Deeploy route files share (api/deeploy/resources.hpp).
#include <cctype>

#include "actors/engine.hpp"
#include "api/deeploy/resources.hpp"
#include "engine/meta/doc_store.hpp"

namespace vigil::api::deeploy {

namespace {

const char* reason(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return status < 500 ? "Bad Request" : "Internal Server Error";
  }
}

std::string media_type(std::string_view ct) {
  ct = ct.substr(0, ct.find(';'));
  while (!ct.empty() && ct.back() == ' ') ct.remove_suffix(1);
  std::string out(ct);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

Response error_answer(int status, const std::string& message, const std::string& field) {
  nlohmann::json body = {{"statusCode", status}, {"error", reason(status)}, {"message", message}};
  if (!field.empty()) body["field"] = field;
  // Messages may quote path or query text, which need not be UTF-8.
  return json_answer(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

bool path_namespace(const PathParams& p, std::string& workspace, std::string& deployment,
                    Response& err) {
  workspace = p["workspace"];
  deployment = p["deployment"];
  if (!valid_namespace_id(workspace)) {
    err = error_answer(400, "workspaceId must be 1-128 characters of A-Za-z0-9._-", "workspaceId");
    return false;
  }
  if (!valid_namespace_id(deployment)) {
    err =
        error_answer(400, "deploymentId must be 1-128 characters of A-Za-z0-9._-", "deploymentId");
    return false;
  }
  return true;
}

bool json_body(Resources& res, const Request& req, nlohmann::json& out, Response& err) {
  std::string type = media_type(req.header("content-type"));
  if (!type.empty() && type != "application/json") {
    res.rejects.bad_content_type.fetch_add(1);
    err = error_answer(415, "the body must be application/json", "body");
    return false;
  }
  if (req.body.find_first_not_of(" \t\r\n") == std::string::npos) {
    out = nullptr;
    return true;
  }
  out = nlohmann::json::parse(req.body, nullptr, false);
  if (out.is_discarded()) {
    res.rejects.bad_body.fetch_add(1);
    err = error_answer(400, "the body is not valid JSON", "body");
    return false;
  }
  return true;
}

std::optional<MetricDoc> find_metric(Resources& res, const std::string& workspace,
                                     const std::string& deployment, const std::string& id,
                                     Response& err) {
  std::optional<MetricDoc> m;
  if (auto doc = res.docs.get(doc_key(workspace, deployment, id))) m = metric_from_json(*doc);
  if (!m)
    err = error_answer(
        404, "customMetricId " + id + " is not a custom metric of deployment " + deployment,
        "customMetricId");
  return m;
}

bool drop_samples(Resources& res, const MetricDoc& m, std::string& err) {
  const std::string name = vigil_metric(m);
  Storage::Batch batch;
  batch.del(Cf::meta, Catalog::storage_key(name));
  std::size_t removed = 0;
  if (!res.engine.series().remove_metric(metric_key(name), batch, removed, err)) return false;
  res.engine.catalog().forget(name);
  return true;
}

}  // namespace vigil::api::deeploy
