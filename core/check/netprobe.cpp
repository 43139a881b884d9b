#include "core/check/netprobe_p.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <future>
#include <thread>

namespace poolscope::netprobe {
namespace {

// getaddrinfo() blocks without a timeout of its own: run it on a detached thread and stop
// waiting at the deadline (the thread then finishes on its own and frees its state).
struct Lookup
{
    int status = 0;
    std::vector<Address> addresses;
};

} // namespace

bool waitFor(int fd, short events, Clock::time_point deadline)
{
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0 || fd < 0)
            return false;
        pollfd p { fd, events, 0 };
        const int rc = ::poll(&p, 1, int(std::min<qint64>(left + 1, 60'000)));
        if (rc > 0)
            return true;
        if (rc < 0 && errno != EINTR)
            return false;
    }
}

Result<std::vector<Address>, DbError> resolve(const QString &host, int port,
                                              Clock::time_point deadline, qint64 timeoutMs)
{
    std::promise<Lookup> promise;
    std::future<Lookup> future = promise.get_future();
    std::thread([promise = std::move(promise), name = host.toUtf8(),
                 service = QByteArray::number(port)]() mutable {
        addrinfo hints {};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        addrinfo *list = nullptr;
        const int status = ::getaddrinfo(name.constData(), service.constData(), &hints, &list);
        std::vector<Address> found;
        for (addrinfo *a = status == 0 ? list : nullptr; a; a = a->ai_next) {
            Address address;
            std::memcpy(&address.addr, a->ai_addr, a->ai_addrlen);
            address.length = a->ai_addrlen;
            char text[NI_MAXHOST] = {};
            if (::getnameinfo(a->ai_addr, a->ai_addrlen, text, sizeof text, nullptr, 0,
                              NI_NUMERICHOST)
                == 0)
                address.text = QString::fromLatin1(text);
            found.push_back(std::move(address));
        }
        if (list)
            ::freeaddrinfo(list);
        promise.set_value({ status, std::move(found) });
    }).detach();

    if (future.wait_until(deadline) != std::future_status::ready)
        return makeError(ErrorKind::ConnectionTimeout,
                         QStringLiteral("DNS lookup of %1 did not finish within %2 ms")
                             .arg(host)
                             .arg(timeoutMs));
    Lookup lookup = future.get();
    if (lookup.status != 0 || lookup.addresses.empty())
        return makeError(ErrorKind::DnsFailure,
                         QStringLiteral("could not translate host name \"%1\": %2")
                             .arg(host, QString::fromUtf8(::gai_strerror(lookup.status))));
    return std::move(lookup.addresses);
}

Result<bool, DbError> tcpConnect(const Address &address, Clock::time_point deadline,
                                 qint64 timeoutMs, const QString &target)
{
    const int fd = ::socket(address.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int error = fd < 0 ? errno : 0;
    if (fd >= 0
        && ::connect(fd, reinterpret_cast<const sockaddr *>(&address.addr), address.length) != 0)
        error = errno;
    socklen_t length = sizeof error;
    if (error == EINPROGRESS && !waitFor(fd, POLLOUT, deadline))
        error = ETIMEDOUT;
    else if (error == EINPROGRESS && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0)
        error = errno;
    if (fd >= 0)
        ::close(fd);
    if (error == 0)
        return true;
    if (error == ETIMEDOUT)
        return makeError(
            ErrorKind::ConnectionTimeout,
            QStringLiteral("no TCP connection to %1 within %2 ms").arg(target).arg(timeoutMs));
    const QString message = QStringLiteral("TCP connect to %1: %2")
                                .arg(target, QString::fromLocal8Bit(strerror(error)));
    return makeError(error == ECONNREFUSED ? ErrorKind::ConnectionRefused : ErrorKind::Unknown,
                     message);
}

bool isIpLiteral(const QString &host)
{
    in6_addr buffer {};
    return inet_pton(AF_INET, host.toLatin1().constData(), &buffer) == 1
        || inet_pton(AF_INET6, host.toLatin1().constData(), &buffer) == 1;
}

} // namespace poolscope::netprobe
