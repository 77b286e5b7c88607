// The gateway's WebRTC side: a handle's jsep becomes a PeerConnection on the handle's media
// worker; the plugin's answer gets the transport's attributes; candidates trickle both ways;
// PeerConnection events become `webrtcup`, `media`, `trickle` and `hangup` for the client.
#include <algorithm>
#include <memory>
#include <tuple>
#include <vector>

#include "core/base/log.h"
#include "core/gateway/gateway.h"
#include "core/media/sdp.h"
#include "signaling/api_error.h"
#include "signaling/api_message.h"

namespace junction::gateway {

using nlohmann::json;
using signaling::ApiError;
using signaling::ApiException;
using transports::PeerConnection;

namespace {
auto& logger() {
  static auto l = log::get("webrtc");
  return l;
}

json handle_event(std::string_view janus, const Session& session, const Handle& handle) {
  json event = signaling::make_reply(janus, {}, session.id);
  event["sender"] = handle.id;
  return event;
}
}  // namespace

Handle* Gateway::find_handle(uint64_t handle_id, Session** session_out) {
  auto owner = handle_sessions_.find(handle_id);
  if (owner == handle_sessions_.end()) return nullptr;
  Session& session = *sessions_.at(owner->second);
  if (session_out != nullptr) *session_out = &session;
  return session.handles.at(handle_id).get();
}

void Gateway::on_handle(uint64_t handle_id, std::function<void(Session&, Handle&)> work) {
  post([this, handle_id, work = std::move(work)] {
    Session* session = nullptr;
    if (Handle* handle = find_handle(handle_id, &session)) work(*session, *handle);
  });
}

transports::PeerConnection::Events Gateway::pc_events(uint64_t id) {
  PeerConnection::Events events;
  events.local_candidate = [this, id](const std::string& candidate) {
    on_handle(id, [candidate](Session& session, Handle& handle) {
      if (!handle.local_sent) return;  // it went out inside our SDP
      json event = handle_event("trickle", session, handle);
      event["candidate"] = {{"sdpMid", handle.transport_mid}, {"sdpMLineIndex", 0}, {"candidate", candidate}};
      session.send(event);
    });
  };
  events.gathering_done = [this, id] {
    on_handle(id, [](Session& session, Handle& handle) {
      if (!handle.local_sent) return;
      json event = handle_event("trickle", session, handle);
      event["candidate"] = {{"completed", true}};
      session.send(event);
    });
  };
  events.connected = [this, id] {
    on_handle(id, [](Session& session, Handle& handle) {
      handle.webrtc_up = true;
      session.send(handle_event("webrtcup", session, handle));
      handle.plugin->instance->setup_media(handle.id);
    });
  };
  events.closed = [this, id](const std::string& reason) {
    on_handle(id, [this, reason](Session& session, Handle& handle) { hangup(session, handle, reason, true); });
  };
  events.media_state = [this, id, seconds = config_.no_media_timer](int mindex, media::MediaKind kind, bool receiving) {
    on_handle(id, [mindex, kind, receiving, seconds](Session& session, Handle& handle) {
      json event = handle_event("media", session, handle);
      if (mindex >= 0 && static_cast<std::size_t>(mindex) < handle.mids.size()) event["mid"] = handle.mids[mindex];
      event["type"] = kind == media::MediaKind::kVideo ? "video" : "audio";
      event["receiving"] = receiving;
      if (!receiving) event["seconds"] = seconds;
      session.send(event);
    });
  };
  events.slowlink = [this, id](int mindex, media::MediaKind kind, bool uplink, uint32_t lost) {
    on_handle(id, [mindex, kind, uplink, lost](Session& session, Handle& handle) {
      json event = handle_event("slowlink", session, handle);
      if (mindex >= 0 && static_cast<std::size_t>(mindex) < handle.mids.size()) event["mid"] = handle.mids[mindex];
      event["media"] = kind == media::MediaKind::kVideo ? "video" : "audio";
      event["uplink"] = uplink;
      event["lost"] = lost;
      session.send(event);
    });
  };
  // Media goes straight from the worker to the plugin, never through the control loop.
  LoadedPlugin* plugin = find_handle(id)->plugin;
  events.rtp = [plugin, id](const media::IncomingRtp& packet) { plugin->instance->incoming_rtp(id, packet); };
  events.keyframe_request = [plugin, id](int mindex) { plugin->instance->incoming_keyframe_request(id, mindex); };
  events.remb = [plugin, id](uint64_t bitrate) { plugin->instance->incoming_remb(id, bitrate); };
  events.data = [plugin, id](const media::DataMessage& message) { plugin->instance->incoming_data(id, message); };
  events.data_ready = [plugin, id] { plugin->instance->data_ready(id); };
  return events;
}

void Gateway::create_pc(Handle& handle, const json* body) {
  plugin::Plugin& plugin = *handle.plugin->instance;
  uint64_t key = body != nullptr ? plugin.media_affinity_for(handle.id, *body) : plugin.media_affinity(handle.id);
  transports::MediaWorker* worker = &workers_->for_key(key);
  PeerConnection::Events events = pc_events(handle.id);
  PeerConnection* created = nullptr;
  worker->run_sync([&] { created = new PeerConnection(*worker, handle.id, pc_config_, std::move(events)); });
  // Whoever drops the last reference, the PeerConnection dies on its own worker.
  handle.pc = std::shared_ptr<PeerConnection>(created, [worker](PeerConnection* pc) {
    worker->post([pc] { delete pc; });
  });
  handle.worker = worker;
  {
    std::lock_guard lock(data_routes_mutex_);
    data_routes_[handle.id] = worker;
  }
  logger()->debug("handle {}: PeerConnection on media worker {}", handle.id, worker->index());
}

json Gateway::apply_remote_jsep(Handle& handle, const json& jsep, const json& body) {
  const std::string& type = jsep.at("type").get_ref<const std::string&>();
  std::string error;
  auto sdp = media::parse_sdp(jsep.at("sdp").get_ref<const std::string&>(), &error);
  if (!sdp) throw ApiException(ApiError::kJsepInvalidSdp, "JSEP error: invalid SDP (" + error + ")");
  if (std::string why = media::validate_webrtc(*sdp); !why.empty())
    throw ApiException(ApiError::kJsepInvalidSdp, "JSEP error: unusable SDP (" + why + ")");
  bool offer = type == "offer";
  if (!offer && !handle.offer_pending) throw ApiException(ApiError::kUnexpectedAnswer, "Unexpected ANSWER (no OFFER)");
  bool update = handle.pc != nullptr && handle.remote_set;
  if (!handle.pc) create_pc(handle, &body);
  std::shared_ptr<PeerConnection> pc = handle.pc;
  std::string failure;
  // Janus's jsep field: "lmh" when the sender lists its simulcast rids lowest first.
  const bool rids_lowest_first = jsep.contains("rid_order") && jsep["rid_order"] == "lmh";
  handle.worker->run_sync([&] {
    failure = pc->set_remote_description(*sdp, offer, rids_lowest_first);
    if (failure.empty() && !update) pc->gather();
  });
  if (!failure.empty()) {
    if (!update) handle.pc.reset();
    throw ApiException(ApiError::kJsepInvalidSdp, "JSEP error: " + failure);
  }
  handle.remote_set = true;
  if (!offer) handle.offer_pending = false;
  for (const json& candidate : handle.pending_trickles) trickle(handle, candidate);
  handle.pending_trickles.clear();
  json out = jsep;
  if (update) out["update"] = true;
  return out;
}

json Gateway::complete_local_jsep(Session& session, Handle& handle, const json& jsep) {
  std::string type = jsep.value("type", "");
  std::string error;
  auto sdp = jsep.contains("sdp") && jsep["sdp"].is_string()
                 ? media::parse_sdp(jsep["sdp"].get_ref<const std::string&>(), &error)
                 : std::nullopt;
  if (!sdp || (type != "offer" && type != "answer")) {
    logger()->error("{}: handle {} sent an unusable jsep ({}), not forwarded", handle.plugin->info.package,
                    handle.id, sdp ? "type must be offer or answer" : error);
    return nullptr;
  }
  bool offer = type == "offer";
  if (!offer && (!handle.pc || !handle.remote_set)) {
    logger()->error("{}: handle {} answered without an offer, not forwarded", handle.plugin->info.package, handle.id);
    return nullptr;
  }
  if (offer && !handle.pc) create_pc(handle);
  std::shared_ptr<PeerConnection> pc = handle.pc;
  std::string text;
  handle.worker->run_sync([&] {
    if (offer) pc->prepare_offer();
    pc->set_local_description(*sdp);
    pc->fill_transport(*sdp, offer);
    text = media::write_sdp(*sdp);
  });
  handle.mids.clear();
  for (const auto& m : sdp->media) handle.mids.push_back(m.mid);
  auto bundle = sdp->bundle_mids();
  handle.transport_mid = !bundle.empty() ? bundle.front() : (handle.mids.empty() ? "0" : handle.mids.front());
  handle.local_sent = true;
  handle.offer_pending = offer;
  logger()->debug("session {} handle {}: sent {}", session.id, handle.id, type);
  json out = jsep;
  out["sdp"] = text;
  return out;
}

void Gateway::trickle(Handle& handle, const json& candidate) {
  if (!handle.pc || !handle.remote_set) {
    if (handle.pending_trickles.size() < 200) handle.pending_trickles.push_back(candidate);
    return;
  }
  std::shared_ptr<PeerConnection> pc = handle.pc;
  // End of candidates: {"completed": true}, or null / a non-object (as janus.js and Janus treat it).
  if (!candidate.is_object() || candidate.value("completed", false)) {
    handle.worker->post([pc] { pc->remote_candidates_done(); });
    return;
  }
  auto line = candidate.find("candidate");
  if (line == candidate.end() || !line->is_string() || line->get_ref<const std::string&>().empty()) return;
  handle.worker->post([pc, text = line->get<std::string>()] { pc->add_remote_candidate(text); });
}

void Gateway::hangup(Session& session, Handle& handle, const std::string& reason, bool notify) {
  if (!handle.pc) return;
  std::shared_ptr<PeerConnection> pc = std::move(handle.pc);
  handle.worker->post([pc, reason] { pc->close(reason); });
  {
    std::lock_guard lock(data_routes_mutex_);
    data_routes_.erase(handle.id);
  }
  handle.remote_set = handle.local_sent = handle.offer_pending = handle.webrtc_up = false;
  handle.pending_trickles.clear();
  handle.plugin->instance->hangup_media(handle.id);
  if (notify) {
    json event = handle_event("hangup", session, handle);
    event["reason"] = reason;
    session.send(event);
  }
  logger()->info("session {} handle {}: PeerConnection closed ({})", session.id, handle.id, reason);
}

// --- media services for plugins (on the handle's worker) ---

void Gateway::relay_rtp(plugin::HandleId handle, int mindex, std::span<const uint8_t> packet) {
  if (PeerConnection* pc = PeerConnection::find_on_this_worker(handle)) pc->send_rtp(mindex, packet);
}

void Gateway::send_keyframe_request(plugin::HandleId handle, int mindex) {
  if (PeerConnection* pc = PeerConnection::find_on_this_worker(handle)) pc->request_keyframe(mindex);
}

void Gateway::send_remb(plugin::HandleId handle, uint64_t bitrate_bps) {
  if (PeerConnection* pc = PeerConnection::find_on_this_worker(handle)) pc->send_remb(bitrate_bps);
}

void Gateway::relay_data(plugin::HandleId handle, const media::DataMessage& message) {
  if (PeerConnection* pc = PeerConnection::find_on_this_worker(handle)) {
    pc->send_data(message.label, message.protocol, message.binary, message.bytes);
    return;
  }
  transports::MediaWorker* worker = nullptr;
  {
    std::lock_guard lock(data_routes_mutex_);
    auto it = data_routes_.find(handle);
    if (it != data_routes_.end()) worker = it->second;
  }
  if (worker == nullptr) return;
  worker->post([handle, label = std::string(message.label), protocol = std::string(message.protocol),
                binary = message.binary, bytes = std::vector<uint8_t>(message.bytes.begin(), message.bytes.end())] {
    if (PeerConnection* pc = PeerConnection::find_on_this_worker(handle)) pc->send_data(label, protocol, binary, bytes);
  });
}

// From any thread: one copy of the batch per media worker it involves, posted there.
void Gateway::relay_rtp_batch(std::span<const plugin::OutgoingRtp> packets) {
  struct Batch {
    std::vector<uint8_t> bytes;
    std::vector<std::tuple<plugin::HandleId, int, size_t, size_t>> packets;  // handle, mindex, offset, size
  };
  std::vector<std::pair<transports::MediaWorker*, Batch>> batches;
  {
    std::lock_guard lock(data_routes_mutex_);
    for (const plugin::OutgoingRtp& p : packets) {
      auto found = data_routes_.find(p.handle);
      if (found == data_routes_.end()) continue;
      auto it = std::find_if(batches.begin(), batches.end(), [&](const auto& b) { return b.first == found->second; });
      if (it == batches.end()) {
        batches.emplace_back(found->second, Batch{});
        it = batches.end() - 1;
        it->second.bytes.reserve(packets.size() * 128);
        it->second.packets.reserve(packets.size());
      }
      Batch& b = it->second;
      b.packets.emplace_back(p.handle, p.mindex, b.bytes.size(), p.packet.size());
      b.bytes.insert(b.bytes.end(), p.packet.begin(), p.packet.end());
    }
  }
  for (auto& [worker, batch] : batches)
    worker->post([this, batch = std::make_shared<Batch>(std::move(batch))] {
      for (const auto& [handle, mindex, offset, size] : batch->packets)
        relay_rtp(handle, mindex, {batch->bytes.data() + offset, size});
    });
}

void Gateway::close_pc(plugin::HandleId handle) {
  on_handle(handle, [this](Session& session, Handle& h) { hangup(session, h, "Closed by the plugin", true); });
}

}  // namespace junction::gateway
