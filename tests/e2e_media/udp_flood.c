/* Sends garbage UDP datagrams at a fixed rate, for the garbage-flood fault test
 * (test_garbage_flood.py). Python cannot send 100k datagrams per second; this can (sendmmsg in
 * batches, paced against the monotonic clock).
 *
 *   udp_flood --host 127.0.0.1 --port P [--fd N] --rate R --seconds S [--max-size B] [--seed X]
 *             [--threads T]
 *
 * --fd N sends from an inherited UDP socket (the test passes a dup of the aiortc peer's socket,
 * so the datagrams come from the address ICE validated and reach the PeerConnection, as an
 * on-path attacker's would); without it a fresh socket is used. The datagrams are a mix, in
 * quarters: random bytes, a first byte of 20..63 (looks like DTLS), 128..191 (looks like RTP or
 * RTCP), 0..3 (looks like STUN); sizes 1..max-size (default 1200).
 * --threads T (default 1, at most 8) sends from T threads on the same socket, each paced at R/T
 * with its own random stream: on loopback each datagram costs the sender a whole trip through the
 * kernel (the receive side included), so one thread on a shared 2-core machine tops out below
 * 100k/s; two get more of the CPUs.
 * Bounded: stops after --seconds or rate*seconds datagrams, whichever comes first.
 * Prints one line: "sent N failed F seconds T rate R" (R = sent per second actually achieved).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { kBatch = 64, kMaxSize = 1400, kMaxThreads = 8 };

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* xorshift64*: fast, reproducible from --seed (one state per sending thread). */
static uint64_t next_random(uint64_t* state) {
  *state ^= *state >> 12;
  *state ^= *state << 25;
  *state ^= *state >> 27;
  return *state * 2685821657736338717ull;
}

static size_t make_datagram(uint64_t* rng, uint8_t* out, size_t max_size, uint64_t index) {
  int kind = (int)(index % 4);
  size_t min = (kind == 1 || kind == 2) ? 13 : 1;
  if (min > max_size) min = max_size;
  size_t size = min + (size_t)(next_random(rng) % (max_size - min + 1));
  for (size_t i = 0; i < size; i += 8) {
    uint64_t r = next_random(rng);
    memcpy(out + i, &r, size - i < 8 ? size - i : 8);
  }
  if (kind == 1) out[0] = (uint8_t)(20 + next_random(rng) % 44);
  else if (kind == 2) out[0] = (uint8_t)(128 + next_random(rng) % 64);
  else if (kind == 3) out[0] = (uint8_t)(next_random(rng) % 4);
  return size;
}

/* One sending thread: `total` datagrams at `rate` per second until `end` (monotonic seconds). */
struct Sender {
  int fd;
  const struct sockaddr_in* target;
  size_t max_size;
  double rate, start, end;
  uint64_t total, rng;
  uint64_t sent, failed; /* results */
  int error;             /* errno of a fatal send error, else 0 */
  uint8_t buffers[kBatch][kMaxSize];
};

static void* send_paced(void* arg) {
  struct Sender* s = arg;
  struct mmsghdr messages[kBatch];
  struct iovec iov[kBatch];
  uint64_t made = 0;
  while (made < s->total) {
    double now = now_seconds();
    if (now >= s->end) break;
    /* How many should have gone by now; send that many (in batches), then sleep a little. */
    uint64_t due = (uint64_t)((now - s->start) * s->rate);
    if (due > s->total) due = s->total;
    if (due <= made) {
      struct timespec pause = {0, 200000}; /* 0.2 ms */
      nanosleep(&pause, NULL);
      continue;
    }
    unsigned n = (unsigned)(due - made < kBatch ? due - made : kBatch);
    for (unsigned i = 0; i < n; ++i) {
      iov[i].iov_base = s->buffers[i];
      iov[i].iov_len = make_datagram(&s->rng, s->buffers[i], s->max_size, made + i);
      memset(&messages[i], 0, sizeof messages[i]);
      messages[i].msg_hdr.msg_name = (void*)s->target;
      messages[i].msg_hdr.msg_namelen = sizeof *s->target;
      messages[i].msg_hdr.msg_iov = &iov[i];
      messages[i].msg_hdr.msg_iovlen = 1;
    }
    int r = sendmmsg(s->fd, messages, n, 0);
    if (r < 0) {
      /* A full socket buffer (the socket may be non-blocking) or a transient ICMP error: the
       * batch counts as failed, as a dropped packet would be. */
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNREFUSED && errno != ENOBUFS) {
        s->error = errno;
        return NULL;
      }
      s->failed += n;
    } else {
      s->sent += (uint64_t)r;
      s->failed += n - (unsigned)r;
    }
    made += n;
  }
  return NULL;
}

static void usage(const char* self) {
  fprintf(stderr,
          "usage: %s --host A --port P --rate R --seconds S [--fd N] [--max-size B] [--seed X] "
          "[--threads T]\n",
          self);
  exit(2);
}

int main(int argc, char** argv) {
  const char* host = NULL;
  long port = 0, rate = 0, max_size = 1200, fd = -1, threads = 1;
  uint64_t seed = 88172645463325252ull;
  double seconds = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const char* key = argv[i];
    const char* value = argv[i + 1];
    if (strcmp(key, "--host") == 0) host = value;
    else if (strcmp(key, "--port") == 0) port = strtol(value, NULL, 10);
    else if (strcmp(key, "--rate") == 0) rate = strtol(value, NULL, 10);
    else if (strcmp(key, "--seconds") == 0) seconds = strtod(value, NULL);
    else if (strcmp(key, "--fd") == 0) fd = strtol(value, NULL, 10);
    else if (strcmp(key, "--max-size") == 0) max_size = strtol(value, NULL, 10);
    else if (strcmp(key, "--seed") == 0) seed = strtoull(value, NULL, 10) | 1;
    else if (strcmp(key, "--threads") == 0) threads = strtol(value, NULL, 10);
    else usage(argv[0]);
  }
  if (argc % 2 == 0 || host == NULL || port <= 0 || port > 65535 || rate <= 0 || rate > 10000000 ||
      seconds <= 0 || seconds > 600 || max_size < 1 || max_size > kMaxSize || threads < 1 || threads > kMaxThreads)
    usage(argv[0]);

  struct sockaddr_in target;
  memset(&target, 0, sizeof target);
  target.sin_family = AF_INET;
  target.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host, &target.sin_addr) != 1) usage(argv[0]);
  if (fd < 0) fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) {
    perror("socket");
    return 1;
  }

  static struct Sender senders[kMaxThreads];
  pthread_t ids[kMaxThreads];
  const uint64_t total = (uint64_t)((double)rate * seconds);
  const double start = now_seconds();
  for (long t = 0; t < threads; ++t) {
    struct Sender* s = &senders[t];
    s->fd = (int)fd;
    s->target = &target;
    s->max_size = (size_t)max_size;
    s->rate = (double)rate / (double)threads;
    s->start = start;
    s->end = start + seconds;
    s->total = total / (uint64_t)threads + ((uint64_t)t < total % (uint64_t)threads ? 1 : 0);
    s->rng = (seed + 0x9e3779b97f4a7c15ull * (uint64_t)t) | 1; /* xorshift needs a non-zero state */
    if (pthread_create(&ids[t], NULL, send_paced, s) != 0) {
      fprintf(stderr, "pthread_create failed\n");
      return 1;
    }
  }
  uint64_t sent = 0, failed = 0;
  int error = 0;
  for (long t = 0; t < threads; ++t) {
    pthread_join(ids[t], NULL);
    sent += senders[t].sent;
    failed += senders[t].failed;
    if (senders[t].error != 0) error = senders[t].error;
  }
  if (error != 0) {
    fprintf(stderr, "sendmmsg: %s\n", strerror(error));
    return 1;
  }
  double elapsed = now_seconds() - start;
  printf("sent %llu failed %llu seconds %.3f rate %.0f\n", (unsigned long long)sent,
         (unsigned long long)failed, elapsed, elapsed > 0 ? (double)sent / elapsed : 0.0);
  return 0;
}
