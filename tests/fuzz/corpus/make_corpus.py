#!/usr/bin/env python3
"""Writes the binary RTP and RTCP seeds and the JSON API requests of the in-tree fuzz corpus.

Run from anywhere: python3 tests/fuzz/corpus/make_corpus.py. The files it writes are committed;
this script only says what each of them is. (The SDP seeds are copies of
tests/unit/core/media/fixtures/*.sdp.)
"""
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    os.makedirs(os.path.join(HERE, target), exist_ok=True)
    with open(os.path.join(HERE, target, name), 'wb') as f:
        f.write(data)


# --- RTP (RFC 3550 §5.1, RFC 8285 header extensions) -------------------------------------------

def rtp(pt, seq, ts, ssrc, payload, marker=False, csrcs=(), ext=None, pad=0):
    b0 = 0x80 | len(csrcs) | (0x10 if ext is not None else 0) | (0x20 if pad else 0)
    out = struct.pack('!BBHII', b0, (0x80 if marker else 0) | pt, seq, ts, ssrc)
    for c in csrcs:
        out += struct.pack('!I', c)
    if ext is not None:
        profile, body = ext
        body += b'\0' * (-len(body) % 4)
        out += struct.pack('!HH', profile, len(body) // 4) + body
    out += payload
    if pad:
        out += b'\0' * (pad - 1) + bytes([pad])
    return out


def one_byte(elements):  # RFC 8285 §4.2
    return 0xBEDE, b''.join(bytes([(i << 4) | (len(d) - 1)]) + d for i, d in elements)


def two_byte(elements):  # RFC 8285 §4.3
    return 0x1000, b''.join(bytes([i, len(d)]) + d for i, d in elements)


# Chromium-style Opus: audio level (1), abs-send-time (2), transport-wide seq (3), mid (4).
write('rtp', 'opus-one-byte-ext.bin',
      rtp(111, 1000, 48000, 0x11223344, bytes(range(40)), marker=True,
          ext=one_byte([(1, b'\x9a'), (2, b'\x12\x34\x56'), (3, b'\x00\x2a'), (4, b'0')])))
# VP8 key frame: start of partition 0, 15-bit picture id, TL0PICIDX, TID/Y/KEYIDX; rid (10).
vp8 = bytes([0x90, 0xF0, 0x92, 0x34, 0x07, 0x45]) + bytes([0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a])
write('rtp', 'vp8-keyframe.bin',
      rtp(96, 2000, 90000, 0xAABBCCDD, vp8 + bytes(20),
          ext=one_byte([(3, b'\x01\x00'), (4, b'1'), (10, b'h\0\0')])))
# VP8 delta frame, 7-bit picture id; two-byte extension form (an id above 14); padding.
write('rtp', 'vp8-delta-two-byte-ext-padding.bin',
      rtp(96, 2001, 93000, 0xAABBCCDD, bytes([0x80, 0x80, 0x25, 0x01]) + bytes(10),
          ext=two_byte([(3, b'\x01\x01'), (16, b'long-element'), (4, b'')]), pad=4))
# VP9 key frame, non-flexible: picture id, layer indices + TL0PICIDX, scalability structure
# (one layer with its resolution, one picture group).
vp9 = bytes([0xAE, 0x81, 0x02, 0x00, 0x05, 0x18, 0x02, 0x80, 0x01, 0x68, 0x01, 0x04, 0x04, 0x00])
write('rtp', 'vp9-keyframe-ss.bin',
      rtp(98, 3000, 180000, 0x01020304, vp9 + bytes(16), marker=True, ext=one_byte([(4, b'2')])))
# VP9 flexible mode, inter picture, two P_DIFFs.
write('rtp', 'vp9-flexible-inter.bin',
      rtp(98, 3001, 183000, 0x01020304, bytes([0xDC, 0x81, 0x03, 0x03, 0x04]) + bytes(12)))
# H.264 (RFC 6184): STAP-A with SPS + PPS, FU-A start of an IDR, a single non-IDR NAL unit.
sps = bytes([0x67, 0x42, 0xc0, 0x1f, 0xda, 0x01, 0x40, 0x16, 0xe8])
pps = bytes([0x68, 0xce, 0x3c, 0x80])
stap = bytes([0x78]) + struct.pack('!H', len(sps)) + sps + struct.pack('!H', len(pps)) + pps
write('rtp', 'h264-stap-a-sps-pps.bin',
      rtp(102, 4000, 90000, 0x0A0B0C0D, stap, ext=one_byte([(3, b'\x00\x10')])))
write('rtp', 'h264-fu-a-idr-start.bin',
      rtp(102, 4001, 90000, 0x0A0B0C0D, bytes([0x7c, 0x85]) + bytes(range(30))))
write('rtp', 'h264-single-nal.bin',
      rtp(102, 4002, 93000, 0x0A0B0C0D, bytes([0x41, 0x9a]) + bytes(20), marker=True))
# From a mixer: two CSRCs, no extension; sequence and timestamp about to wrap.
write('rtp', 'pcmu-csrcs.bin',
      rtp(0, 65535, 0xFFFFFFF0, 0x99, bytes([0xff]) * 160, csrcs=(0x1111, 0x2222)))
# A bandwidth probe: RTX payload type, nothing but padding.
write('rtp', 'rtx-padding-probe.bin', rtp(97, 10, 90000, 0x55667788, b'', pad=200))


# --- RTCP (RFC 3550 §6, RFC 4585, RFC 5104, REMB, transport-wide CC) ---------------------------

def rtcp(pt, count, body, pad=0):
    b0 = 0x80 | count | (0x20 if pad else 0)
    if pad:
        body += b'\0' * (pad - 1) + bytes([pad])
    assert len(body) % 4 == 0, (pt, len(body))
    return struct.pack('!BBH', b0, pt, len(body) // 4) + body


def sdes_chunk(ssrc, cname):
    chunk = struct.pack('!I', ssrc) + bytes([1, len(cname)]) + cname + b'\0'
    return chunk + b'\0' * (-len(chunk) % 4)


block = (struct.pack('!IB', 0x0A0B0C0D, 64) + (-2 & 0xFFFFFF).to_bytes(3, 'big') +
         struct.pack('!IIII', 0x00010005, 32, 0x12345678, 0x10000))
sr = rtcp(200, 1, struct.pack('!IQIII', 0x01020304, 0xE000000080000000, 4096, 10, 1000) + block)
rr_empty = rtcp(201, 0, struct.pack('!I', 1))
write('rtcp', 'sr-sdes.bin', sr + rtcp(202, 1, sdes_chunk(0x01020304, b'abcdefghijklmnop')))
remb = rtcp(206, 15, struct.pack('!II', 1, 0) + b'REMB' + bytes([2]) +
            ((3 << 18) | 250000).to_bytes(3, 'big') + struct.pack('!II', 0xAABBCCDD, 0x11223344))
write('rtcp', 'rr-remb.bin', rtcp(201, 2, struct.pack('!I', 1) + block + block) + remb)
write('rtcp', 'rr-nack.bin', rr_empty + rtcp(205, 1, struct.pack('!IIHHHH', 1, 0xAABBCCDD,
                                                                  100, 0x8005, 65535, 0x0001)))
pli = rtcp(206, 1, struct.pack('!II', 1, 0xAABBCCDD))
fir = rtcp(206, 4, struct.pack('!II', 1, 0) + struct.pack('!IB3x', 0xAABBCCDD, 7) +
           struct.pack('!IB3x', 0x11223344, 8))
write('rtcp', 'rr-pli-fir.bin', rr_empty + pli + fir)
# The example of tests/unit/core/media/rtcp_packet_test.cpp: run length and 1-bit vector chunks.
write('rtcp', 'twcc.bin', bytes([
    0x8F, 0xCD, 0x00, 0x09, 0x11, 0x11, 0x11, 0x11, 0x22, 0x22, 0x22, 0x22,
    0x00, 0x64, 0x00, 0x19, 0x12, 0x34, 0x56, 0x05, 0x20, 0x03, 0x00, 0x05, 0xA4, 0x01, 0xE1, 0x00,
    0x04, 0xFF, 0x00, 0x08, 0x10, 0x01, 0xFF, 0x9C, 0x02, 0x00, 0x00, 0x00]))
# A 2-bit status vector (small, large and missing deltas), sequence wrap, padding bit set.
chunks = struct.pack('!H', 0xC000 | 1 << 10 | 2 << 8 | 0 << 6 | 1 << 4 | 2 << 2 | 1)
deltas = bytes([0x10]) + struct.pack('!h', -4) + bytes([0x20]) + struct.pack('!h', 300) + b'\x01'
body = (struct.pack('!IIHH', 1, 0xAABBCCDD, 65530, 7) + (0x7FFFFF).to_bytes(3, 'big') +
        bytes([255]) + chunks + deltas)
write('rtcp', 'twcc-two-bit-padded.bin', rtcp(205, 15, body + b'\0' * (-len(body) % 4), pad=4))
bye = rtcp(203, 2, struct.pack('!II', 0x01020304, 0x05060708) + bytes([11]) + b'going away!')
write('rtcp', 'sr-sdes-bye.bin', sr + rtcp(202, 2, sdes_chunk(0x01020304, b'cname-1') +
                                            sdes_chunk(0x05060708, b'x')) + bye)
# APP and XR are valid compound members that no reader takes.
write('rtcp', 'rr-app-xr.bin',
      rr_empty + rtcp(204, 0, struct.pack('!I', 1) + b'namedata') +
      rtcp(207, 0, struct.pack('!I', 1) + bytes([4, 0, 0, 2]) + struct.pack('!Q', 1)))


# --- JSON API requests (the Janus envelope) ----------------------------------------------------

offer = ('v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n'
         'a=mid:0\r\na=rtpmap:111 opus/48000/2\r\n')
requests = {
    'create': {'janus': 'create', 'transaction': 't1'},
    'create-with-id': {'janus': 'create', 'transaction': 't2', 'id': 4242, 'apisecret': 's'},
    'attach': {'janus': 'attach', 'session_id': 8034958305, 'plugin': 'janus.plugin.echotest',
               'opaque_id': 'echo-1', 'transaction': 't3'},
    'message-jsep': {'janus': 'message', 'session_id': 1, 'handle_id': 2, 'transaction': 't4',
                     'body': {'audio': True, 'video': True, 'bitrate': 256000},
                     'jsep': {'type': 'offer', 'sdp': offer, 'trickle': True}},
    'trickle': {'janus': 'trickle', 'session_id': 1, 'handle_id': 2, 'transaction': 't5',
                'candidate': {'candidate': 'candidate:1 1 udp 2122260223 192.168.1.2 54321 typ host',
                              'sdpMid': '0', 'sdpMLineIndex': 0}},
    'trickle-completed': {'janus': 'trickle', 'session_id': 1, 'handle_id': 2, 'transaction': 't6',
                          'candidates': [{'completed': True}]},
    'keepalive-max-id': {'janus': 'keepalive', 'session_id': 18446744073709551615,
                         'transaction': 't7'},
    'hangup': {'janus': 'hangup', 'session_id': 1, 'handle_id': 2, 'transaction': 't8'},
    'destroy': {'janus': 'destroy', 'session_id': 1, 'transaction': 't9', 'token': 'abc'},
    'bad-handle-without-session': {'janus': 'detach', 'handle_id': 2, 'transaction': 't10'},
    'bad-negative-session': {'janus': 'info', 'session_id': -1, 'transaction': 't11'},
}
for name, request in requests.items():
    write('api_request', name + '.json', json.dumps(request).encode())
write('api_request', 'unicode-and-numbers.json',
      '{"janus":"message","transaction":"\\u00e9\\ud83d\\ude00 é","session_id":1,"handle_id":2,'
      '"body":{"text":"h\\u00e9llo","n":[1.5e300,-0,null,false]}}'.encode())
write('api_request', 'batch-array.json', b'[{"janus":"info","transaction":"x"}]')


# --- admin requests (admin_request_fuzzer: first byte = where and whether the secret is added) ---
# Byte 0: bit 0 set = no admin secret; (byte >> 1) % 3 = 0 root, 1 the live session, 2 its handle.
ROOT, SESSION, HANDLE, NO_SECRET = 0, 2, 4, 1
admin_requests = {
    'info': (ROOT | NO_SECRET, {'janus': 'info'}),
    'ping': (ROOT, {'janus': 'ping'}),
    'get-status': (ROOT, {'janus': 'get_status'}),
    'list-sessions-no-secret': (ROOT | NO_SECRET, {'janus': 'list_sessions'}),
    'set-session-timeout': (ROOT, {'janus': 'set_session_timeout', 'timeout': 120}),
    'set-log-level': (ROOT, {'janus': 'set_log_level', 'level': 'debug'}),
    'accept-new-sessions': (ROOT, {'janus': 'accept_new_sessions', 'accept': False}),
    'message-plugin': (ROOT, {'janus': 'message_plugin', 'plugin': 'fuzz.plugin.admin',
                              'request': {'request': 'list', 'n': [1, 2.5, None]}}),
    'add-token': (ROOT, {'janus': 'add_token', 'token': 'tok', 'plugins': ['fuzz.plugin.admin']}),
    'list-tokens': (ROOT, {'janus': 'list_tokens'}),
    'allow-token': (ROOT, {'janus': 'allow_token', 'token': 'tok', 'plugins': ['x']}),
    'list-handles': (SESSION, {'janus': 'list_handles'}),
    'session-timeout': (SESSION, {'janus': 'set_session_timeout', 'timeout': -1}),
    'destroy-session': (SESSION, {'janus': 'destroy_session'}),
    'handle-info': (HANDLE, {'janus': 'handle_info', 'plugin_only': False}),
    'detach-handle': (HANDLE, {'janus': 'detach_handle'}),
    'hangup-webrtc': (HANDLE, {'janus': 'hangup_webrtc'}),
}
for i, (name, (mode, request)) in enumerate(admin_requests.items()):
    request = dict(request, transaction=f'a{i}')
    write('admin_request', name + '.json', bytes([mode]) + json.dumps(request).encode())
