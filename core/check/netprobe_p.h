#pragma once

// Private to core: the network steps of the live checks (DNS under a deadline, a non-blocking
// TCP connect), kept apart from the libpq steps in livecheck.cpp.

#include "core/db/dberror.h"
#include "core/util/result.h"

#include <QString>

#include <sys/socket.h>

#include <chrono>
#include <vector>

namespace poolscope::netprobe {

using Clock = std::chrono::steady_clock;

struct Address
{
    sockaddr_storage addr {};
    socklen_t length = 0;
    QString text;
};

// poll() one descriptor until `deadline`; true when ready.
bool waitFor(int fd, short events, Clock::time_point deadline);

// getaddrinfo() under a deadline (it has no timeout of its own: it runs on a detached thread and
// is abandoned at the deadline).
Result<std::vector<Address>, DbError> resolve(const QString &host, int port,
                                              Clock::time_point deadline, qint64 timeoutMs);

// A non-blocking TCP connect under a deadline; refused and timed-out are typed errors.
Result<bool, DbError> tcpConnect(const Address &address, Clock::time_point deadline,
                                 qint64 timeoutMs, const QString &target);

bool isIpLiteral(const QString &host);

} // namespace poolscope::netprobe
