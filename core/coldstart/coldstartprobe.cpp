// The cold-start probe: see coldstartprobe.h. libpq is driven directly (not through Connection)
// because the phases need the PGconn's status transitions.
#include "core/coldstart/coldstartprobe.h"

#include "core/check/netprobe_p.h"
#include "core/db/connection_p.h"
#include "core/db/conninfo.h"
#include "core/pool/connectionpool.h"

#include <poll.h>

#include <algorithm>
#include <cmath>
#include <thread>
#include <vector>

namespace poolscope {
namespace {

using netprobe::Clock;
using PgConnPtr = std::unique_ptr<PGconn, PgConnDeleter>;

double msBetween(Clock::time_point from, Clock::time_point to)
{
    return std::chrono::duration<double, std::milli>(to - from).count();
}

bool isCancelled(const std::atomic<bool> *cancel)
{
    return cancel && cancel->load();
}

DbError timeoutError(std::chrono::milliseconds timeout, const QString &phase)
{
    return makeError(ErrorKind::ConnectionTimeout,
                     QStringLiteral("no answer within %1 ms (during %2)")
                         .arg(qint64(timeout.count()))
                         .arg(phase));
}

// `SELECT 1` over the simple protocol under a deadline. On an overrun the caller drops the
// connection (libpq 15's PQcancel has no timeout of its own).
std::optional<DbError> selectOne(PGconn *c, Clock::time_point deadline,
                                 std::chrono::milliseconds timeout)
{
    if (!c || PQstatus(c) != CONNECTION_OK)
        return makeError(ErrorKind::ConnectionLost, QStringLiteral("no connection"));
    if (!PQsendQuery(c, "SELECT 1"))
        return connectionLostError(QString::fromUtf8(PQerrorMessage(c)));
    for (int f = PQflush(c); f != 0; f = PQflush(c)) {
        if (f < 0 || !netprobe::waitFor(PQsocket(c), POLLIN | POLLOUT, deadline))
            return timeoutError(timeout, QStringLiteral("a query"));
        PQconsumeInput(c);
    }
    std::optional<DbError> error;
    for (;;) {
        while (PQisBusy(c)) {
            if (!netprobe::waitFor(PQsocket(c), POLLIN, deadline))
                return timeoutError(timeout, QStringLiteral("a query"));
            if (!PQconsumeInput(c))
                return connectionLostError(QString::fromUtf8(PQerrorMessage(c)));
        }
        PGresult *r = PQgetResult(c);
        if (!r)
            break;
        const ExecStatusType status = PQresultStatus(r);
        if (!error && (status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE)) {
            error = errorFromResult(r);
        }
        PQclear(r);
    }
    if (!error && PQstatus(c) == CONNECTION_BAD)
        error = connectionLostError(QString::fromUtf8(PQerrorMessage(c)));
    return error;
}

bool encryptionNegotiation(ConnStatusType s)
{
    return s == CONNECTION_SSL_STARTUP || s == CONNECTION_GSS_STARTUP;
}

bool tcpPending(ConnStatusType s)
{
    return s == CONNECTION_STARTED || s == CONNECTION_MADE || s == CONNECTION_NEEDED;
}

struct Target
{
    ConnInfo info; // one host, one port, the user's keywords
    QString host;
    int port = 5432;
    QString lookup; // what to resolve: the user's hostaddr or the host name; empty: unix socket
};

// One trial; `keep` receives the open connection when the trial succeeded.
ColdStartTrial runTrial(const Target &target, std::chrono::milliseconds timeout, PgConnPtr &keep)
{
    ColdStartTrial trial;
    const Clock::time_point start = Clock::now();
    const Clock::time_point deadline = start + timeout;
    auto fail = [&](const QString &phase, DbError error, Clock::time_point at) {
        trial.failedPhase = phase;
        trial.error = std::move(error);
        trial.totalMs = msBetween(start, at);
        // The time since the last completed phase goes to the failed one: they still add up.
        double *field = phase == QLatin1String("dns") ? &trial.dnsMs
            : phase == QLatin1String("tcp")           ? &trial.tcpMs
            : phase == QLatin1String("tls")           ? &trial.tlsMs
            : phase == QLatin1String("auth")          ? &trial.authMs
                                                      : &trial.firstQueryMs;
        *field += trial.totalMs
            - (trial.dnsMs + trial.tcpMs + trial.tlsMs + trial.authMs + trial.firstQueryMs);
        return trial;
    };

    // dns
    ConnInfo info = target.info;
    if (netprobe::isIpLiteral(target.lookup)) {
        trial.address = target.lookup; // nothing to look up (no thread either)
        info.set(QStringLiteral("hostaddr"), trial.address);
    } else if (!target.lookup.isEmpty()) {
        auto resolved =
            netprobe::resolve(target.lookup, target.port, deadline, qint64(timeout.count()));
        if (!resolved) {
            return fail(QStringLiteral("dns"), resolved.error(), Clock::now());
        }
        trial.address = resolved->front().text;
        info.set(QStringLiteral("hostaddr"), trial.address);
    }
    const Clock::time_point dnsDone = Clock::now();
    trial.dnsMs = msBetween(start, dnsDone);

    // tcp, tls, auth: one non-blocking connect; hostaddr means libpq makes no DNS query.
    std::vector<QByteArray> storage;
    for (const ConnInfo::Entry &e : info.entries()) {
        storage.push_back(e.first.toUtf8());
        storage.push_back(e.second.toUtf8());
    }
    std::vector<const char *> keywords;
    std::vector<const char *> values;
    for (size_t i = 0; i < storage.size(); i += 2) {
        keywords.push_back(storage[i].constData());
        values.push_back(storage[i + 1].constData());
    }
    keywords.push_back(nullptr);
    values.push_back(nullptr);
    PgConnPtr conn(PQconnectStartParams(keywords.data(), values.data(), 0));
    PGconn *c = conn.get();
    if (!c)
        return fail(QStringLiteral("tcp"),
                    makeError(ErrorKind::Unknown, QStringLiteral("out of memory")), Clock::now());
    PQsetErrorVerbosity(c, PQERRORS_VERBOSE); // the SQLSTATE of a FATAL at startup (53300, ...)
    PQsetNoticeProcessor(
        c, [](void *, const char *) {}, nullptr);

    std::optional<Clock::time_point> tcpDone;
    std::optional<Clock::time_point> startupSent;
    auto observe = [&](Clock::time_point now) {
        const ConnStatusType s = PQstatus(c);
        if (s == CONNECTION_BAD)
            return;
        if (!tcpDone && !tcpPending(s))
            tcpDone = now;
        if (!startupSent && tcpDone && !tcpPending(s) && !encryptionNegotiation(s))
            startupSent = now;
    };
    auto completed = [&] {
        if (tcpDone)
            trial.tcpMs = msBetween(dnsDone, *tcpDone);
        if (tcpDone && startupSent)
            trial.tlsMs = msBetween(*tcpDone, *startupSent);
    };
    auto phaseNow = [&] {
        return !tcpDone    ? QStringLiteral("tcp")
            : !startupSent ? QStringLiteral("tls")
                           : QStringLiteral("auth");
    };
    observe(Clock::now());
    PostgresPollingStatusType poll = PGRES_POLLING_WRITING;
    while (PQstatus(c) != CONNECTION_BAD && poll != PGRES_POLLING_OK
           && poll != PGRES_POLLING_FAILED) {
        if (!netprobe::waitFor(PQsocket(c), poll == PGRES_POLLING_READING ? POLLIN : POLLOUT,
                               deadline)) {
            completed();
            return fail(phaseNow(), timeoutError(timeout, phaseNow()), Clock::now());
        }
        poll = PQconnectPoll(c);
        observe(Clock::now());
    }
    const Clock::time_point connected = Clock::now();
    if (poll != PGRES_POLLING_OK || PQstatus(c) != CONNECTION_OK) {
        DbError error = errorFromConnectMessage(QString::fromUtf8(PQerrorMessage(c)));
        QString phase = phaseNow();
        if (error.kind == ErrorKind::ConnectionRefused) {
            phase = QStringLiteral("tcp");
            tcpDone.reset();
        } else if (error.kind == ErrorKind::TlsFailure && startupSent) {
            phase = QStringLiteral("tls");
            startupSent.reset();
        }
        completed();
        return fail(phase, std::move(error), connected);
    }
    if (!tcpDone)
        tcpDone = connected;
    if (!startupSent)
        startupSent = connected;
    const bool encrypted = PQsslInUse(c) != 0;
    trial.tls = encrypted ? QString::fromUtf8(PQsslAttribute(c, "protocol"))
                          : QStringLiteral("not encrypted");
    trial.backendPid = PQbackendPID(c);
    // A refused SSLRequest (or GSSENCRequest) is part of the startup, not of TLS.
    const Clock::time_point tlsEnd = encrypted ? *startupSent : *tcpDone;
    trial.tcpMs = msBetween(dnsDone, *tcpDone);
    trial.tlsMs = msBetween(*tcpDone, tlsEnd);
    trial.authMs = msBetween(tlsEnd, connected);
    PQsetnonblocking(c, 1);

    // first_query
    if (auto error = selectOne(c, deadline, timeout)) {
        return fail(QStringLiteral("first_query"), *error, Clock::now());
    }
    const Clock::time_point queried = Clock::now();
    trial.firstQueryMs = msBetween(connected, queried);
    // Consecutive timestamps: the phases add up to the total by construction.
    trial.totalMs = msBetween(start, queried);
    keep = std::move(conn);
    return trial;
}

QString ms(double value)
{
    return QString::number(value, 'f', value < 1 ? 2 : value < 10 ? 1 : 0);
}

void judge(ColdStartReport &report)
{
    if (report.error) {
        const ColdStartTrial &failed = report.trials.constLast();
        report.verdict = QStringLiteral("fail");
        report.reason = QStringLiteral("trial %1 failed in %2: %3")
                            .arg(report.trials.size())
                            .arg(failed.failedPhase, report.error->summary());
        return;
    }
    if (report.okTrials() == 0) {
        report.verdict = QStringLiteral("warn");
        report.reason = QStringLiteral("cancelled before the first trial finished");
        return;
    }
    QStringList warnings;
    if (report.p95TotalMs > ColdStartGuideFirstConnectMs)
        warnings << QStringLiteral("p95 first connection %1 ms is above the guide's 2-5 s")
                        .arg(ms(report.p95TotalMs));
    if (!report.warmQueryMs.isEmpty() && report.warmP95Ms > ColdStartGuideWarmQueryMs)
        warnings << QStringLiteral("p95 warm query %1 ms is above the guide's 500 ms")
                        .arg(ms(report.warmP95Ms));
    if (report.afterIdleError)
        warnings << QStringLiteral("the query after the idle period failed (%1): validate "
                                   "pooled connections on checkout")
                        .arg(report.afterIdleError->summary());
    else if (report.afterIdleMs && *report.afterIdleMs > ColdStartGuideWarmQueryMs)
        warnings << QStringLiteral("the query after the idle period took %1 ms (above 500 ms)")
                        .arg(ms(*report.afterIdleMs));
    if (report.poolAfterIdleError)
        warnings << QStringLiteral("the pool checkout after the idle period failed (%1)")
                        .arg(report.poolAfterIdleError->summary());
    else if (report.poolCheckoutAfterIdleMs && report.poolQueryAfterIdleMs
             && *report.poolCheckoutAfterIdleMs + *report.poolQueryAfterIdleMs
                 > ColdStartGuideWarmQueryMs)
        warnings << QStringLiteral("the pool checkout and query after the idle period took %1 ms "
                                   "(above 500 ms)")
                        .arg(ms(*report.poolCheckoutAfterIdleMs + *report.poolQueryAfterIdleMs));
    QString note;
    if (report.p95TotalMs > ColdStartNeonActivationMs
        && report.p95TotalMs <= ColdStartGuideFirstConnectMs)
        note = QStringLiteral("; within the guide's 2-5 s, though Neon now documents a few "
                              "hundred ms");
    if (report.poolReconnected && !report.poolAfterIdleError)
        note += QStringLiteral("; the pool replaced its idle connection, which had died, at "
                               "checkout");
    if (report.cancelled)
        note += QStringLiteral("; cancelled after %1 trial(s)").arg(report.trials.size());
    if (!warnings.isEmpty()) {
        report.verdict = QStringLiteral("warn");
        report.reason = warnings.join(QLatin1String("; ")) + note;
        return;
    }
    report.verdict = QStringLiteral("pass");
    report.reason = QStringLiteral("p95 first connection %1 ms (guide: 2-5 s; Neon documents a "
                                   "few hundred ms)%2%3")
                        .arg(ms(report.p95TotalMs))
                        .arg(report.warmQueryMs.isEmpty()
                                 ? QString()
                                 : QStringLiteral(", p95 warm query %1 ms (guide: under 500 ms)")
                                       .arg(ms(report.warmP95Ms)),
                             note);
}

// A real pool with one connection, checked out and returned once before the idle period so
// that the connection sits idle in it; after the period, checkout and a query are timed the way
// an application's first request after a quiet spell would see them.
class IdlePoolCheck
{
public:
    explicit IdlePoolCheck(const ColdStartOptions &options)
        : m_timeout(options.timeout)
    {
        PoolConfig config;
        config.conninfo = options.conninfo;
        config.applicationName = QStringLiteral("poolscope-coldstart-pool");
        config.minSize = 1;
        config.maxSize = 1;
        config.acquireTimeout = options.timeout;
        config.connectTimeout = options.timeout;
        config.validationTimeout = options.timeout;
        // Nothing but a dead connection may replace the idle one: no lifetime or idle expiry
        // within the wait, no leak report.
        config.maxLifetime = options.idleBefore + std::chrono::hours(1);
        config.lifetimeJitter = 0;
        config.maxIdle = options.idleBefore + std::chrono::hours(1);
        config.leakThreshold = std::chrono::milliseconds(0);
        // No SET and no startup option: works on a direct endpoint and through a pooler alike.
        config.statementTimeoutMode = StatementTimeoutMode::Off;
        auto pool = ConnectionPool::create(config);
        if (!pool) {
            error = pool.error();
            return;
        }
        m_pool = std::move(pool).value();
        auto lease = m_pool->acquire(QStringLiteral("coldstart before idle"));
        if (!lease) {
            error = lease.error();
            m_pool.reset();
            return;
        }
        if (auto r = lease.value()->exec(QStringLiteral("SELECT 1"), m_timeout); !r) {
            error = r.error();
            m_pool.reset();
            return;
        }
        lease.value().release();
        m_before = m_pool->stats();
    }

    std::optional<DbError> error; // the pool could not be opened or used before the wait

    void checkoutAfterIdle(ColdStartReport &report)
    {
        if (!m_pool) {
            report.poolAfterIdleError = error;
            return;
        }
        const Clock::time_point t = Clock::now();
        auto lease = m_pool->acquire(QStringLiteral("coldstart after idle"));
        const Clock::time_point acquired = Clock::now();
        if (lease) {
            report.poolCheckoutAfterIdleMs = msBetween(t, acquired);
            if (auto r = lease.value()->exec(QStringLiteral("SELECT 1"), m_timeout); !r)
                report.poolAfterIdleError = r.error();
            else
                report.poolQueryAfterIdleMs = msBetween(acquired, Clock::now());
        } else {
            report.poolAfterIdleError = lease.error();
        }
        // The idle connection was replaced when the pool had to open another one after it.
        report.poolReconnected = m_pool->stats().connectsOk > m_before.connectsOk;
    }

private:
    std::chrono::milliseconds m_timeout;
    std::unique_ptr<ConnectionPool> m_pool;
    PoolStats m_before;
};

} // namespace

bool coldStartWait(std::chrono::milliseconds duration, const std::atomic<bool> *cancel)
{
    const Clock::time_point until = Clock::now() + duration;
    while (Clock::now() < until && !isCancelled(cancel))
        std::this_thread::sleep_for(
            std::min<Clock::duration>(until - Clock::now(), std::chrono::milliseconds(50)));
    return !isCancelled(cancel);
}

int ColdStartReport::okTrials() const
{
    return int(std::count_if(trials.cbegin(), trials.cend(),
                             [](const ColdStartTrial &t) { return t.ok(); }));
}

double coldStartPercentile(QList<double> values, double p)
{
    if (values.isEmpty())
        return 0;
    std::sort(values.begin(), values.end());
    const auto rank = qsizetype(std::ceil(p / 100.0 * double(values.size())));
    return values.at(std::clamp<qsizetype>(rank - 1, 0, values.size() - 1));
}

ColdStartReport runColdStartProbe(const ColdStartOptions &options, const std::atomic<bool> *cancel,
                                  const std::function<void(int, const ColdStartTrial &)> &onTrial,
                                  const std::function<void()> &onIdle)
{
    ColdStartReport report;
    auto parsed = ConnInfo::parse(options.conninfo);
    if (!parsed) {
        report.error = parsed.error();
        report.verdict = QStringLiteral("fail");
        report.reason = parsed.error().summary();
        return report;
    }
    Target target { parsed.value(), QString(), 0, QString() };
    ConnInfo &info = target.info;
    // One host only: the first of a multi-host list.
    target.host = info.host();
    target.port = info.port();
    info.set(QStringLiteral("port"), QString::number(target.port));
    if (info.has(QStringLiteral("host")))
        info.set(QStringLiteral("host"), target.host);
    const QString userHostaddr =
        info.value(QStringLiteral("hostaddr")).section(QLatin1Char(','), 0, 0).trimmed();
    if (!userHostaddr.isEmpty())
        info.set(QStringLiteral("hostaddr"), userHostaddr);
    if (!info.has(QStringLiteral("application_name")))
        info.set(QStringLiteral("application_name"), QStringLiteral("poolscope-coldstart"));
    const bool socket = userHostaddr.isEmpty()
        && (target.host.isEmpty() || target.host.startsWith(QLatin1Char('/'))
            || target.host.startsWith(QLatin1Char('@')));
    if (!socket)
        target.lookup = userHostaddr.isEmpty() ? target.host : userHostaddr;

    PgConnPtr last;
    QList<double> totals;
    for (int i = 0; i < std::max(1, options.trials); ++i) {
        if (isCancelled(cancel)) {
            report.cancelled = true;
            break;
        }
        PgConnPtr conn;
        ColdStartTrial trial = runTrial(target, options.timeout, conn);
        for (int q = 0; conn && q < options.warmQueries && !isCancelled(cancel); ++q) {
            const Clock::time_point t = Clock::now();
            if (auto error = selectOne(conn.get(), t + options.timeout, options.timeout)) {
                trial.failedPhase = QStringLiteral("warm_query");
                trial.error = *error;
                conn.reset();
                break;
            }
            report.warmQueryMs.append(msBetween(t, Clock::now()));
        }
        report.trials.append(trial);
        if (trial.ok())
            totals.append(trial.totalMs);
        if (onTrial)
            onTrial(i, trial);
        if (!trial.ok()) {
            report.error = trial.error;
            break;
        }
        last = std::move(conn); // the previous one closes here
    }
    if (isCancelled(cancel))
        report.cancelled = true;

    // After idle: one query on the last trial's still-open connection.
    // After idle: one query on the last trial's still-open connection, and a checkout from a
    // pool whose connection sat idle just as long.
    if (last && !report.error && !report.cancelled && options.idleBefore.count() > 0) {
        IdlePoolCheck pool(options);
        if (onIdle)
            onIdle();
        if (!coldStartWait(options.idleBefore, cancel)) {
            report.cancelled = true;
        } else {
            const Clock::time_point t = Clock::now();
            if (auto error = selectOne(last.get(), t + options.timeout, options.timeout))
                report.afterIdleError = *error;
            else
                report.afterIdleMs = msBetween(t, Clock::now());
            pool.checkoutAfterIdle(report);
        }
    }

    report.p50TotalMs = coldStartPercentile(totals, 50);
    report.p95TotalMs = coldStartPercentile(totals, 95);
    report.maxTotalMs = totals.isEmpty() ? 0 : *std::max_element(totals.cbegin(), totals.cend());
    report.warmP50Ms = coldStartPercentile(report.warmQueryMs, 50);
    report.warmP95Ms = coldStartPercentile(report.warmQueryMs, 95);
    judge(report);
    return report;
}

} // namespace poolscope
