#pragma once
// The simulcast layers a remote sender announces on one m-line, numbered as Janus numbers them:
// substream 0 is the lowest quality. Two announcement forms exist:
// - rid-based (RFC 8853): "a=rid:<id> send" lines and "a=simulcast:send <list>"; each packet of
//   a layer carries its rid in the RFC 8852 rtp-stream-id header extension (at least until the
//   receiver has reported on that SSRC). The list's order is the sender's: janus.js and most
//   pages list the highest layer first ("h;m;l"), which is Janus's default `rid_order` "hml";
//   a client that lists the lowest first says `rid_order: "lmh"` in its jsep.
// - SSRC-based (legacy Chrome munging): "a=ssrc-group:SIM <low> <mid> <high>", lowest first.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/media/sdp.h"

namespace junction::media {

struct SimulcastLayers {
  std::vector<std::string> rids;  // by substream, lowest first (rid-based)
  std::vector<uint32_t> ssrcs;    // by substream, lowest first (SSRC-based)

  bool empty() const { return rids.empty() && ssrcs.empty(); }
  // The substream of a layer named by its rid or SSRC; -1 when not one of the announced layers.
  int substream_of_rid(std::string_view rid) const;
  int substream_of_ssrc(uint32_t ssrc) const;
};

// The layers the remote side of `section` sends; empty when it sends no simulcast. Rids paused
// in the list ("~m") still count (they may be resumed); alternatives ("h,x") name one layer each
// by their first entry. `lowest_first`: the jsep's rid_order is "lmh".
SimulcastLayers simulcast_layers(const MediaSection& section, bool lowest_first);

}  // namespace junction::media
