// An RTCPeerConnection tied to a plugin handle: local candidates are trickled to the server as
// they are found (then end-of-candidates), the server's trickled candidates are added once a
// remote description exists (queued until then), and offers/answers go in Janus's jsep shape.
export class Peer {
  #pendingRemote = [];
  #closed = false;

  constructor(handle, { iceServers = [], onTrack = null } = {}) {
    this.handle = handle;
    this.pc = new RTCPeerConnection({ iceServers, bundlePolicy: 'max-bundle' });
    this.pc.onicecandidate = (e) => {
      if (this.#closed) return;
      this.handle.trickle(e.candidate).catch((err) => console.warn('trickle failed:', err.message));
    };
    if (onTrack) this.pc.ontrack = onTrack;
    this.offTrickle = handle.on('trickle', (candidate) => this.#remoteCandidate(candidate));
  }

  async #remoteCandidate(candidate) {
    if (!candidate || candidate.completed) candidate = null;
    if (!this.pc.remoteDescription) {
      this.#pendingRemote.push(candidate);
      return;
    }
    await this.#add(candidate);
  }

  async #add(candidate) {
    try {
      await this.pc.addIceCandidate(candidate ?? undefined);
    } catch (err) {
      console.warn('remote candidate refused:', err.message);
    }
  }

  async #remoteSet(jsep) {
    await this.pc.setRemoteDescription({ type: jsep.type, sdp: jsep.sdp });
    const queued = this.#pendingRemote.splice(0);
    for (const candidate of queued) await this.#add(candidate);
  }

  // Local offer (set as local description), as a jsep for the plugin.
  async offer(options) {
    const offer = await this.pc.createOffer(options);
    await this.pc.setLocalDescription(offer);
    return { type: 'offer', sdp: this.pc.localDescription.sdp };
  }

  // The server's offer in, our answer out.
  async answer(jsep) {
    await this.#remoteSet(jsep);
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    return { type: 'answer', sdp: this.pc.localDescription.sdp };
  }

  // The server's answer to our offer.
  async accept(jsep) {
    await this.#remoteSet(jsep);
  }

  close() {
    if (this.#closed) return;
    this.#closed = true;
    this.offTrickle();
    this.pc.close();
  }
}

// Totals of the inbound and outbound RTP of a PeerConnection, from getStats().
export async function rtpStats(pc) {
  const out = { inbound: [], outbound: [] };
  const report = await pc.getStats();
  report.forEach((s) => {
    if (s.type === 'inbound-rtp') {
      out.inbound.push({ kind: s.kind, mid: s.mid, packets: s.packetsReceived, lost: s.packetsLost, bytes: s.bytesReceived,
        framesDecoded: s.framesDecoded, width: s.frameWidth, height: s.frameHeight });
    } else if (s.type === 'outbound-rtp') {
      out.outbound.push({ kind: s.kind, rid: s.rid, packets: s.packetsSent, bytes: s.bytesSent,
        width: s.frameWidth, height: s.frameHeight, active: s.active });
    }
  });
  return out;
}
