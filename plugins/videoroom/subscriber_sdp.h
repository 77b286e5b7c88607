#pragma once
// The server's offer to a subscriber (control plane): one sendonly m-line per subscribed stream,
// in mindex order, mid "0", "1", ... (inactive, without SSRCs, once unsubscribed or its feed is
// gone), and the m=application line at `data_mindex` (-1: none); each stream carries the codec and payload type its publisher negotiated
// (so forwarding needs no payload type mapping), RTX for video, the mid header extension, and
// SSRCs of its own (the gateway puts them on every packet it relays there). ICE and DTLS
// attributes are added by the gateway.
#include <string>
#include <vector>

#include "core/media/sdp.h"
#include "plugins/videoroom/room.h"

namespace junction::videoroom {

media::SessionDescription make_subscriber_offer(const std::vector<SubscribedStream>& streams, int data_mindex,
                                                uint64_t session_id, uint64_t session_version);

}  // namespace junction::videoroom
