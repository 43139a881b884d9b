#pragma once

// A TCP relay that makes loopback behave like a remote region: it listens on 127.0.0.1 (a free
// port) in front of a loopback target and delays the data by N ms in each direction.

#include "core/util/result.h"

#include <QString>

#include <chrono>
#include <memory>

namespace poolscope::sandbox {

class LatencyRelayPrivate;

// How it works: one std::thread (named "relay:<port>") runs a poll() loop over the listening
// socket, a wake eventfd (for stop) and both sockets of every relayed connection (any number of
// them at once). What a side sends is read at once, stamped "due at now + delay" and queued for the
// other side; it is written when due, so a request/response round trip costs 2 x delay on top of
// the real one. Buffering is bounded: a side is not read while its queue holds more than 1 MiB.
// When either side closes, what it sent before is still delivered (when due), then both sides are
// closed; an error on either side closes both at once.
//
// Limitation: a user-space relay cannot delay the TCP handshake itself - the kernel completes it
// before accept() returns - so a client's "tcp connected" phase stays fast (loopback speed); only
// the data after it (TLS, startup, authentication, queries) is delayed. Delaying the handshake
// too needs netem on an interface in a network namespace (`tc qdisc add dev ... netem delay`).
//
// Loopback only: the target must be a 127.0.0.0/8 address and the relay listens on 127.0.0.1.
//
// RAII: the destructor stops the thread and closes every socket (the listening one included, so
// the relay port refuses connections afterwards; relayed clients see their connection closed).
class LatencyRelay
{
public:
    ~LatencyRelay();
    LatencyRelay(const LatencyRelay &) = delete;
    LatencyRelay &operator=(const LatencyRelay &) = delete;

    // Binds 127.0.0.1:0, starts the thread and returns the relay, or why it could not.
    // `delay` must be from 0 to 60 s.
    static Result<std::unique_ptr<LatencyRelay>, QString>
    start(const QString &targetHost, int targetPort, std::chrono::milliseconds delay);

    int port() const;       // where clients connect (127.0.0.1)
    int targetPort() const; // where the relay connects
    std::chrono::milliseconds delay() const;
    int activeConnections() const; // relayed connections open right now

private:
    LatencyRelay();
    std::unique_ptr<LatencyRelayPrivate> d;
};

} // namespace poolscope::sandbox
