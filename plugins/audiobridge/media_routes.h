#pragma once
// What the threads outside the control loop need to know about a room's handles.
//
// Media workers: incoming_rtp names a handle; its MixerParticipant (the jitter buffer the
// payload goes to), the m-line and the audio-level extension id come from an immutable snapshot
// that the control loop replaces on every change (copy on write). A packet costs one atomic load
// of the snapshot, no lock, whichever worker calls.
//
// Mixer threads: the mixer of a room names its participants by handle id; its sinks turn one
// tick's packets into one relay_rtp_batch() call, and talking changes into events.
#include <cstdint>
#include <memory>
#include <vector>

#include "core/gateway/plugin.h"
#include "mixers/audio/audio_mixer.h"
#include "plugins/common/route_table.h"

namespace junction::audiobridge {

using plugin::HandleId;

struct Route {
  std::shared_ptr<mixers::MixerParticipant> participant;
  uint64_t room = 0;
  uint64_t participant_id = 0;
  int mindex = -1;       // the audio m-line; -1 until an offer was answered
  int level_ext_id = 0;  // RFC 6464 extension id negotiated with the peer; 0: none
  int payload_type = -1;  // Opus as negotiated; packets of other types are not mixed
};

using MediaRoutes = plugins::RouteTable<Route>;

// The sinks of a room's mixer (they run on its thread).
mixers::AudioMixer::PacketSink make_packet_sink(plugin::Services& services, const MediaRoutes& routes);
mixers::AudioMixer::TalkingSink make_talking_sink(plugin::Services& services, const MediaRoutes& routes,
                                                  uint64_t room, bool events);

}  // namespace junction::audiobridge
