#include "core/sandbox/latencyrelay.h"

#include "core/logging/logging.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace poolscope::sandbox {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kReadSize = 64 * 1024;
constexpr std::size_t kMaxQueued = 1024 * 1024; // per direction: stop reading the source above it

struct Chunk
{
    Clock::time_point due;
    std::vector<char> data;
    std::size_t offset = 0;
};

// Bytes read from one side, waiting (until due) to be written to the other.
struct Queue
{
    std::deque<Chunk> chunks;
    std::size_t bytes = 0;
    bool sourceClosed = false; // the source sent EOF: close the link once this queue is empty
    bool blocked = false;      // the destination's send buffer was full at the last write
};

enum Side { Client = 0, Target = 1 };

// One relayed connection. out[s]: what waits to be written to side s (read from the other one).
struct Link
{
    int fd[2] = { -1, -1 };
    Queue out[2];
    bool connecting = true; // the connect() to the target has not completed yet
    bool dead = false;

    Link() = default;
    Link(const Link &) = delete;
    Link &operator=(const Link &) = delete;
    ~Link()
    {
        for (int s : fd) {
            if (s >= 0)
                ::close(s);
        }
    }

    bool mayRead(int side) const
    {
        const Queue &q = out[1 - side];
        return !q.sourceClosed && q.bytes <= kMaxQueued && !(side == Target && connecting);
    }
};

void setNoDelay(int fd)
{
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

QString errnoText(const char *what)
{
    return QStringLiteral("%1: %2").arg(QLatin1String(what),
                                        QString::fromLocal8Bit(strerror(errno)));
}

} // namespace

class LatencyRelayPrivate
{
public:
    ~LatencyRelayPrivate();
    void run();
    void acceptAll();
    void flush(Link &link, int side, Clock::time_point now);
    void readFrom(Link &link, int side, Clock::time_point now);
    void finishConnect(Link &link);

    sockaddr_in target {};
    int targetPort = 0;
    int port = 0;
    std::chrono::milliseconds delay { 0 };
    int listenFd = -1;
    int wakeFd = -1;
    std::atomic<bool> stopping { false };
    std::atomic<int> active { 0 };
    std::vector<std::unique_ptr<Link>> links; // owned by the thread while it runs
    std::thread thread;
};

LatencyRelayPrivate::~LatencyRelayPrivate()
{
    if (thread.joinable()) {
        stopping = true;
        const std::uint64_t one = 1;
        while (::write(wakeFd, &one, sizeof one) < 0 && errno == EINTR) { }
        thread.join();
    }
    links.clear(); // closes every relayed socket
    if (listenFd >= 0)
        ::close(listenFd);
    if (wakeFd >= 0)
        ::close(wakeFd);
}

void LatencyRelayPrivate::acceptAll()
{
    for (;;) {
        const int client = ::accept4(listenFd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (client < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                logging::logger("sandbox")->warn("latency relay on port {}: {}", port,
                                                 errnoText("accept").toStdString());
            }
            return;
        }
        auto link = std::make_unique<Link>();
        link->fd[Client] = client;
        setNoDelay(client);
        link->fd[Target] = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (link->fd[Target] < 0)
            continue; // the Link closes the client
        setNoDelay(link->fd[Target]);
        if (::connect(link->fd[Target], reinterpret_cast<const sockaddr *>(&target), sizeof target)
            == 0) {
            link->connecting = false;
        } else if (errno != EINPROGRESS) {
            continue;
        }
        links.push_back(std::move(link));
    }
}

void LatencyRelayPrivate::finishConnect(Link &link)
{
    int error = 0;
    socklen_t length = sizeof error;
    if (::getsockopt(link.fd[Target], SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0) {
        logging::logger("sandbox")->warn("latency relay on port {}: cannot connect to port {}: {}",
                                         port, targetPort, strerror(error ? error : errno));
        link.dead = true;
        return;
    }
    link.connecting = false;
}

// Writes what is due to `side` until its send buffer is full.
void LatencyRelayPrivate::flush(Link &link, int side, Clock::time_point now)
{
    Queue &q = link.out[side];
    q.blocked = false;
    if (side == Target && link.connecting)
        return;
    while (!q.chunks.empty() && q.chunks.front().due <= now) {
        Chunk &chunk = q.chunks.front();
        const ssize_t n = ::send(link.fd[side], chunk.data.data() + chunk.offset,
                                 chunk.data.size() - chunk.offset, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                q.blocked = true;
            else
                link.dead = true;
            return;
        }
        chunk.offset += std::size_t(n);
        q.bytes -= std::size_t(n);
        if (chunk.offset == chunk.data.size())
            q.chunks.pop_front();
    }
    if (q.chunks.empty() && q.sourceClosed)
        link.dead = true; // everything the closing side sent is delivered: close both
}

void LatencyRelayPrivate::readFrom(Link &link, int side, Clock::time_point now)
{
    Chunk chunk { now + delay, std::vector<char>(kReadSize), 0 };
    ssize_t n;
    do {
        n = ::recv(link.fd[side], chunk.data.data(), chunk.data.size(), MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    Queue &q = link.out[1 - side];
    if (n > 0) {
        chunk.data.resize(std::size_t(n));
        q.bytes += std::size_t(n);
        q.chunks.push_back(std::move(chunk));
    } else if (n == 0) {
        q.sourceClosed = true;
    } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
        link.dead = true;
    }
}

void LatencyRelayPrivate::run()
{
    std::vector<pollfd> fds;
    std::vector<std::pair<Link *, int>> owners; // fds[i + 2] belongs to owners[i]
    while (!stopping) {
        auto now = Clock::now();
        std::optional<Clock::time_point> wakeAt;
        for (auto &link : links) {
            for (int side : { Client, Target }) {
                if (!link->dead)
                    flush(*link, side, now);
            }
        }
        std::erase_if(links, [](const std::unique_ptr<Link> &link) { return link->dead; });
        active = int(links.size());

        fds.clear();
        owners.clear();
        fds.push_back({ wakeFd, POLLIN, 0 });
        fds.push_back({ listenFd, POLLIN, 0 });
        for (auto &link : links) {
            for (int side : { Client, Target }) {
                short events = 0;
                if (link->mayRead(side))
                    events |= POLLIN;
                const Queue &q = link->out[side];
                if (q.blocked || (side == Target && link->connecting))
                    events |= POLLOUT;
                else if (!q.chunks.empty() && (!wakeAt || q.chunks.front().due < *wakeAt))
                    wakeAt = q.chunks.front().due;
                fds.push_back({ link->fd[side], events, 0 });
                owners.emplace_back(link.get(), side);
            }
        }

        timespec timeout {};
        timespec *timeoutPointer = nullptr;
        if (wakeAt) {
            const auto left = std::max(Clock::duration::zero(), *wakeAt - now);
            const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
            timeout.tv_sec = time_t(ns / 1'000'000'000);
            timeout.tv_nsec = long(ns % 1'000'000'000);
            timeoutPointer = &timeout;
        }
        const int rc = ::ppoll(fds.data(), nfds_t(fds.size()), timeoutPointer, nullptr);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            logging::logger("sandbox")->error("latency relay on port {}: {}", port,
                                              errnoText("poll").toStdString());
            return;
        }
        if (stopping || (fds[0].revents & POLLIN))
            return;
        now = Clock::now();
        for (std::size_t i = 0; i < owners.size(); ++i) {
            const short revents = fds[i + 2].revents;
            auto [link, side] = owners[i];
            if (revents == 0 || link->dead)
                continue;
            if (side == Target && link->connecting) {
                if (revents & (POLLOUT | POLLERR | POLLHUP))
                    finishConnect(*link);
                continue;
            }
            if (fds[i + 2].events & POLLIN) {
                if (revents & (POLLIN | POLLERR | POLLHUP))
                    readFrom(*link, side, now);
            } else if (revents & (POLLERR | POLLHUP)) {
                link->dead = true;
            }
        }
        if (fds[1].revents & POLLIN)
            acceptAll();
    }
}

LatencyRelay::LatencyRelay()
    : d(std::make_unique<LatencyRelayPrivate>())
{
}

LatencyRelay::~LatencyRelay() = default;

Result<std::unique_ptr<LatencyRelay>, QString>
LatencyRelay::start(const QString &targetHost, int targetPort, std::chrono::milliseconds delay)
{
    if (delay.count() < 0 || delay > std::chrono::seconds(60))
        return QStringLiteral("latency relay: the delay must be from 0 to 60000 ms");
    if (targetPort < 1 || targetPort > 65535)
        return QStringLiteral("latency relay: invalid target port %1").arg(targetPort);
    std::unique_ptr<LatencyRelay> relay(new LatencyRelay);
    LatencyRelayPrivate &d = *relay->d;
    d.target.sin_family = AF_INET;
    d.target.sin_port = htons(std::uint16_t(targetPort));
    if (::inet_pton(AF_INET, targetHost.toLatin1().constData(), &d.target.sin_addr) != 1
        || (ntohl(d.target.sin_addr.s_addr) >> 24) != 127) {
        return QStringLiteral("latency relay: the target must be a 127.0.0.0/8 address, not '%1'")
            .arg(targetHost);
    }
    d.targetPort = targetPort;
    d.delay = delay;

    d.wakeFd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (d.wakeFd < 0)
        return errnoText("latency relay: eventfd");
    d.listenFd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (d.listenFd < 0)
        return errnoText("latency relay: socket");
    sockaddr_in address {};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof address;
    if (::bind(d.listenFd, reinterpret_cast<const sockaddr *>(&address), sizeof address) != 0)
        return errnoText("latency relay: bind 127.0.0.1");
    if (::listen(d.listenFd, SOMAXCONN) != 0)
        return errnoText("latency relay: listen");
    if (::getsockname(d.listenFd, reinterpret_cast<sockaddr *>(&address), &length) != 0)
        return errnoText("latency relay: getsockname");
    d.port = ntohs(address.sin_port);
    d.thread = std::thread([&d] { d.run(); });
    // Named after its port, so that `top -H` and a test can tell this relay's thread apart from
    // another relay's (15 characters at most: "relay:65535" fits).
    const std::string name = "relay:" + std::to_string(d.port);
    ::pthread_setname_np(d.thread.native_handle(), name.c_str());
    logging::logger("sandbox")->info("latency relay 127.0.0.1:{} -> {}:{}, {} ms each way", d.port,
                                     targetHost.toStdString(), targetPort, delay.count());
    return relay;
}

int LatencyRelay::port() const
{
    return d->port;
}

int LatencyRelay::targetPort() const
{
    return d->targetPort;
}

std::chrono::milliseconds LatencyRelay::delay() const
{
    return d->delay;
}

int LatencyRelay::activeConnections() const
{
    return d->active;
}

} // namespace poolscope::sandbox
