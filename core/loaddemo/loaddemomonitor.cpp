// The load demo's monitoring connections: see loaddemomonitor.h.
#include "core/loaddemo/loaddemomonitor.h"

#include "core/db/threadtlsstate.h"
#include "core/sampler/poolerquery.h"

#include <thread>

namespace poolscope::loaddemo {
namespace {

using namespace std::chrono_literals;

constexpr auto kConnectTimeout = 5s;   // the first connect, before a run
constexpr auto kReconnectTimeout = 2s; // during a run (bounds how long stopSampling() can wait)
constexpr auto kQueryTimeout = 2s;

// Client backends as the sampler counts them (core/sampler/activityquery.cpp): visible ones by
// backend_type, another role's hidden ones by having a database and a user.
const QString kCountSql = QStringLiteral(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid() "
    "AND (backend_type = 'client backend' OR (backend_type IS NULL AND datid IS NOT NULL AND "
    "usesysid IS NOT NULL))");

const QString kLimitSql = QStringLiteral("SELECT current_setting('max_connections')::int - "
                                         "current_setting('superuser_reserved_connections')::int");

std::optional<Connection> connect(const QString &conninfo, std::optional<DbError> *error,
                                  Clock::duration timeout = kConnectTimeout)
{
    auto info = ConnInfo::parse(conninfo);
    if (!info) {
        *error = info.error();
        return std::nullopt;
    }
    if (!info->has(QStringLiteral("application_name")))
        info->set(QStringLiteral("application_name"), QStringLiteral("poolscope-demo-monitor"));
    auto c = Connection::open(info.value(), timeout);
    if (!c) {
        *error = c.error();
        return std::nullopt;
    }
    return std::move(c).value();
}

} // namespace

std::optional<DbError> Monitor::open(const LoadDemoTarget &target, const QString &database)
{
    m_target = target;
    m_database = database;
    std::optional<DbError> error;
    m_server = connect(target.monitorConninfo.isEmpty() ? target.conninfo : target.monitorConninfo,
                       &error);
    if (!m_server)
        return error;
    if (auto limit = m_server->exec(kLimitSql, kQueryTimeout); limit && limit->rowCount() == 1)
        m_serverLimit = int(limit->toInt64(0, 0, -1));
    if (!target.poolerConsoleConninfo.isEmpty()) {
        std::optional<DbError> consoleError;
        m_console = connect(target.poolerConsoleConninfo, &consoleError);
        if (!m_console && consoleError)
            warnings << QStringLiteral("pooler console unavailable (no cl_waiting/sv_active): %1")
                            .arg(consoleError->summary());
    }
    return std::nullopt;
}

bool Monitor::reconnect()
{
    const Clock::time_point now = Clock::now();
    if (now - m_lastReconnect < 1s)
        return false;
    m_lastReconnect = now;
    std::optional<DbError> error;
    m_server =
        connect(m_target.monitorConninfo.isEmpty() ? m_target.conninfo : m_target.monitorConninfo,
                &error, kReconnectTimeout);
    return m_server.has_value();
}

int Monitor::serverConnections()
{
    if ((!m_server || m_server->isBroken()) && !reconnect())
        return -1;
    auto r = m_server->execParams(kCountSql, { m_database }, kQueryTimeout);
    if (!r || r->rowCount() != 1) {
        if (!r && !m_queryFailureNoted) {
            m_queryFailureNoted = true;
            warnings << QStringLiteral("server-side count failed at least once: %1")
                            .arg(r.error().summary());
        }
        return -1;
    }
    return int(r->toInt64(0, 0, -1));
}

PoolerFigures Monitor::pooler()
{
    PoolerFigures f;
    if (!m_console || m_console->isBroken())
        return f;
    auto sample = samplePooler(*m_console, kQueryTimeout);
    if (!sample)
        return f;
    f.clientsWaiting = 0;
    f.serversActive = 0;
    for (const PoolerPool &p : sample->pools) {
        if (p.database != m_database)
            continue;
        f.clientsWaiting += p.clWaiting;
        f.serversActive += p.svActive;
    }
    return f;
}

std::optional<DbError> Monitor::reconnectPooler()
{
    if (m_target.poolerAdminConninfo.isEmpty())
        return std::nullopt;
    std::optional<DbError> error;
    auto admin = connect(m_target.poolerAdminConninfo, &error);
    if (!admin)
        return error;
    // Every pool of this PgBouncer (the sandbox serves one database); no name to quote.
    auto r = admin->exec(QStringLiteral("RECONNECT"), kQueryTimeout);
    if (!r)
        return r.error();
    return std::nullopt;
}

int Monitor::settle(int target, std::chrono::milliseconds timeout,
                    std::optional<DbError> *poolerError)
{
    const bool pooled = !m_target.poolerAdminConninfo.isEmpty();
    const Clock::time_point until = Clock::now() + timeout;
    std::optional<Clock::time_point> lastReconnect;
    int atOrBelow = 0;
    for (;;) {
        if (pooled && (!lastReconnect || Clock::now() - *lastReconnect >= 500ms)) {
            auto error = reconnectPooler();
            if (error && poolerError && !*poolerError)
                *poolerError = error;
            lastReconnect = Clock::now();
        }
        const int n = serverConnections();
        atOrBelow = n >= 0 && n <= target ? atOrBelow + 1 : 0;
        if (atOrBelow >= 2 || Clock::now() >= until)
            return n;
        std::this_thread::sleep_for(100ms);
    }
}

Monitor::~Monitor()
{
    stopSampling();
}

void Monitor::startSampling(std::chrono::milliseconds interval)
{
    stopSampling();
    {
        std::lock_guard lock(m_mutex);
        m_stopSampling = false;
        m_latest = {};
    }
    m_sampler = std::thread([this, interval] {
        ThreadTlsStateGuard tls;
        sample(interval);
    });
}

void Monitor::stopSampling()
{
    {
        std::lock_guard lock(m_mutex);
        m_stopSampling = true;
    }
    m_wake.notify_all();
    if (m_sampler.joinable())
        m_sampler.join();
}

ServerFigures Monitor::latest() const
{
    std::lock_guard lock(m_mutex);
    return m_latest;
}

void Monitor::sample(std::chrono::milliseconds interval)
{
    for (;;) {
        const Clock::time_point next = Clock::now() + interval;
        const int server = serverConnections();
        const PoolerFigures p = pooler();
        std::unique_lock lock(m_mutex);
        m_latest.serverConnections = server;
        m_latest.pooler = p;
        m_latest.peakServerConnections = std::max(m_latest.peakServerConnections, server);
        m_latest.peakClientsWaiting = std::max(m_latest.peakClientsWaiting, p.clientsWaiting);
        if (m_wake.wait_until(lock, next, [this] { return m_stopSampling; }))
            return;
    }
}

} // namespace poolscope::loaddemo
