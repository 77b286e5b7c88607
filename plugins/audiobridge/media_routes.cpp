#include "plugins/audiobridge/media_routes.h"

namespace junction::audiobridge {

mixers::AudioMixer::PacketSink make_packet_sink(plugin::Services& services, const MediaRoutes& routes) {
  // The batch is reused tick after tick (only this mixer's thread calls the sink).
  auto batch = std::make_shared<std::vector<plugin::OutgoingRtp>>();
  return [&services, &routes, batch](std::span<const mixers::OutgoingPacket> packets) {
    auto map = routes.snapshot();
    batch->clear();
    for (const mixers::OutgoingPacket& p : packets) {
      auto it = map->find(p.participant);
      if (it == map->end() || it->second.mindex < 0) continue;
      batch->push_back({p.participant, it->second.mindex, p.rtp});
    }
    if (!batch->empty()) services.relay_rtp_batch(*batch);
  };
}

mixers::AudioMixer::TalkingSink make_talking_sink(plugin::Services& services, const MediaRoutes& routes,
                                                  uint64_t room, bool events) {
  if (!events) return {};
  return [&services, &routes, room](uint64_t handle, bool talking, int /*level*/) {
    auto map = routes.snapshot();
    auto self = map->find(handle);
    if (self == map->end() || self->second.room != room) return;
    plugin::json event = {{"audiobridge", talking ? "talking" : "stopped-talking"},
                          {"room", room},
                          {"id", self->second.participant_id}};
    for (const auto& [other, route] : *map)
      if (route.room == room) services.push_event(other, "", event);
  };
}

}  // namespace junction::audiobridge
