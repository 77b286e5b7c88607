// test.plugin.probe: a second plugin for tests that need more than one (tokens allowed for one
// plugin and not another) and one that answers admin requests (message_plugin). No media.
// Its metrics: a counter of messages, a `rooms` gauge fixed at 2 (so that a family shared with
// another plugin can be tested) and two metrics the gateway must refuse (a bad name, a counter
// without `_total`).
#include "core/gateway/plugin.h"

#include <set>

namespace {

using junction::plugin::HandleId;
using junction::plugin::json;
using junction::plugin::MessageResult;

class ProbePlugin : public junction::plugin::Plugin {
 public:
  junction::plugin::Info info() const override {
    return {"test.plugin.probe", "Probe (tests only)", "Answers messages and admin requests", "The Junction authors",
            "0.1.0", 1};
  }
  void init(junction::plugin::Services&, const json&) override {}
  void shutdown() override {}
  void create_session(HandleId handle) override { handles_.insert(handle); }
  void destroy_session(HandleId handle) override { handles_.erase(handle); }
  json query_session(HandleId handle) override { return {{"probe", true}, {"handle", handle}}; }
  MessageResult handle_message(HandleId, const std::string&, const json& body, const json&) override {
    ++messages_;
    return MessageResult::ok({{"probe", "pong"}, {"body", body}});
  }
  json handle_admin_message(const json& request) override {
    return {{"probe", "admin"}, {"handles", handles_.size()}, {"request", request}};
  }
  std::vector<junction::plugin::Metric> metrics() override {
    using Kind = junction::plugin::Metric::Kind;
    return {{"probe_messages_total", "Messages the probe answered.", Kind::kCounter, static_cast<double>(messages_)},
            {"rooms", "Probe: always 2.", Kind::kGauge, 2},
            {"Bad name!", "refused", Kind::kGauge, 1},
            {"probe_no_suffix", "refused", Kind::kCounter, 1}};
  }

 private:
  std::set<HandleId> handles_;
  uint64_t messages_ = 0;
};

}  // namespace

JUNCTION_PLUGIN(ProbePlugin)
