// Live checks against an endpoint: DNS, TCP, TLS, authentication, server version, limits and the
// pooler-behaviour probe, each timed under its own deadline. libpq is driven directly here (not
// through Connection) because the TLS attributes and the connect phases need the PGconn.
#include "core/check/livecheck.h"

#include "core/check/netprobe_p.h"
#include "core/db/connection_p.h"
#include "core/db/conninfo.h"

#include <QMetaObject>
#include <QThread>

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <future>
#include <thread>
#include <vector>

namespace poolscope {
namespace {

using namespace netprobe;
using Clock = std::chrono::steady_clock;
using PgConnPtr = std::unique_ptr<PGconn, PgConnDeleter>;

void registerLiveCheckMetaTypes()
{
    qRegisterMetaType<LiveCheckStep>("poolscope::LiveCheckStep");
    qRegisterMetaType<LiveCheckReport>("poolscope::LiveCheckReport");
    qRegisterMetaType<DbError>("poolscope::DbError");
}

double msSince(Clock::time_point start)
{
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// One simple-protocol round trip under a deadline; the first row of the last result with rows.
// On a deadline overrun the connection is closed (libpq 15's PQcancel has no timeout).
Result<QStringList, DbError> queryRow(PgConnPtr &conn, const QString &sql,
                                      Clock::time_point deadline)
{
    if (!conn || PQstatus(conn.get()) != CONNECTION_OK)
        return makeError(ErrorKind::ConnectionLost, QStringLiteral("no connection"));
    PGconn *c = conn.get();
    auto overrun = [&] {
        conn.reset();
        return makeError(ErrorKind::ConnectionTimeout,
                         QStringLiteral("the server did not answer in time"));
    };
    if (!PQsendQuery(c, sql.toUtf8().constData()))
        return connectionLostError(QString::fromUtf8(PQerrorMessage(c)));
    for (int f = PQflush(c); f != 0; f = PQflush(c)) {
        if (f < 0 || !waitFor(PQsocket(c), POLLIN | POLLOUT, deadline))
            return overrun();
        PQconsumeInput(c);
    }
    QStringList row;
    std::optional<DbError> error;
    for (;;) {
        while (PQisBusy(c)) {
            if (!waitFor(PQsocket(c), POLLIN, deadline))
                return overrun();
            if (!PQconsumeInput(c))
                return connectionLostError(QString::fromUtf8(PQerrorMessage(c)));
        }
        PGresult *r = PQgetResult(c);
        if (!r)
            break;
        const ExecStatusType status = PQresultStatus(r);
        if (status == PGRES_TUPLES_OK && PQntuples(r) > 0) {
            row.clear();
            for (int col = 0; col < PQnfields(r); ++col)
                row << (PQgetisnull(r, 0, col) ? QString()
                                               : QString::fromUtf8(PQgetvalue(r, 0, col)));
        } else if (status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE) {
            if (!error)
                error = errorFromResult(r);
        }
        PQclear(r);
    }
    if (error)
        return *error;
    if (PQstatus(c) == CONNECTION_BAD)
        return connectionLostError(QString::fromUtf8(PQerrorMessage(c)));
    return row;
}

// A libpq non-blocking connect. Phase times from PQstatus() transitions (feedback only, as the
// libpq docs say): "tls" from TCP-up to the startup packet, "auth" from then to CONNECTION_OK.
// Each phase gets its own deadline.
struct ConnectOutcome
{
    PgConnPtr conn;
    std::optional<DbError> error;
    bool reachedStartup = false; // the startup packet went out: a failure is an auth failure
    QString tls;                 // "TLSv1.3 TLS_AES_256_GCM_SHA384" or "not encrypted"
    double tlsMs = 0;
    double authMs = 0;
};

ConnectOutcome connectLibpq(const ConnInfo &info, std::chrono::milliseconds phaseTimeout)
{
    ConnectOutcome out;
    const Clock::time_point start = Clock::now();
    out.conn.reset(PQconnectStart(info.toConninfoString().toUtf8().constData()));
    PGconn *c = out.conn.get();
    if (!c) {
        out.error = makeError(ErrorKind::Unknown, QStringLiteral("out of memory"));
        return out;
    }
    PQsetErrorVerbosity(c, PQERRORS_VERBOSE);
    PQsetNoticeProcessor(
        c, [](void *, const char *) {}, nullptr);
    Clock::time_point startupAt = start;
    Clock::time_point deadline = start + phaseTimeout;
    PostgresPollingStatusType poll = PGRES_POLLING_WRITING;
    while (PQstatus(c) != CONNECTION_BAD) {
        if (poll == PGRES_POLLING_OK || poll == PGRES_POLLING_FAILED)
            break;
        if (!waitFor(PQsocket(c), poll == PGRES_POLLING_READING ? POLLIN : POLLOUT, deadline)) {
            out.error = makeError(ErrorKind::ConnectionTimeout,
                                  QStringLiteral("no answer within %1 ms during %2")
                                      .arg(qint64(phaseTimeout.count()))
                                      .arg(out.reachedStartup ? QStringLiteral("authentication")
                                                              : QStringLiteral("TLS/startup")));
            break;
        }
        poll = PQconnectPoll(c);
        const ConnStatusType status = PQstatus(c);
        if (!out.reachedStartup
            && (status == CONNECTION_AWAITING_RESPONSE || status == CONNECTION_AUTH_OK
                || status == CONNECTION_OK)) {
            out.reachedStartup = true;
            startupAt = Clock::now();
            out.tlsMs = msSince(start);
            deadline = startupAt + phaseTimeout;
            out.tls = PQsslInUse(c)
                ? QStringLiteral("%1 %2").arg(QString::fromUtf8(PQsslAttribute(c, "protocol")),
                                              QString::fromUtf8(PQsslAttribute(c, "cipher")))
                : QStringLiteral("not encrypted");
        }
    }
    if (!out.error && (poll != PGRES_POLLING_OK || PQstatus(c) != CONNECTION_OK))
        out.error = errorFromConnectMessage(QString::fromUtf8(PQerrorMessage(c)));
    if (out.reachedStartup)
        out.authMs = msSince(startupAt);
    else
        out.tlsMs = msSince(start);
    if (out.error)
        out.conn.reset();
    else
        PQsetnonblocking(c, 1);
    return out;
}

// One run of the checks, on the calling thread.
struct LiveCheckRun
{
    LiveCheckReport run();
    bool cancelled() const { return m_cancel && m_cancel->load(); }
    Clock::time_point deadline() const { return Clock::now() + m_timeout; }
    // Records a step (scrubbed of the password) and reports it; returns step.ok.
    bool emitStep(LiveCheckStep step);
    bool pass(const QString &name, double ms, const QString &detail, bool skipped = false)
    {
        return emitStep({ name, true, skipped, ms, detail, std::nullopt });
    }
    bool fail(const QString &name, double ms, const DbError &error)
    {
        return emitStep({ name, false, false, ms, QString(), error });
    }
    QString scrub(QString text) const
    {
        return m_password.isEmpty() ? text : text.replace(m_password, QStringLiteral("***"));
    }
    void probePooler(ConnInfo info, PgConnPtr &conn);

    const QString m_conninfo;
    const EndpointInfo m_expected;
    const std::chrono::milliseconds m_timeout;
    const std::atomic<bool> *m_cancel;
    const std::function<void(const LiveCheckStep &)> m_onStep;
    QString m_password = {};
    LiveCheckReport m_report = {};
};

bool LiveCheckRun::emitStep(LiveCheckStep step)
{
    step.detail = scrub(step.detail);
    if (step.error) {
        step.error->message = scrub(step.error->message);
        step.error->cause.reset(); // never set here; keeps the scrub complete
    }
    m_report.steps.append(step);
    if (m_onStep)
        m_onStep(step);
    return step.ok;
}

LiveCheckReport LiveCheckRun::run()
{
    auto parsed = ConnInfo::parse(m_conninfo);
    if (!parsed) {
        fail(QStringLiteral("dns"), 0, parsed.error());
        return m_report;
    }
    ConnInfo info = parsed.value();
    m_password = info.value(QStringLiteral("password"));
    // One host only: the first of a multi-host list, the one the endpoint describes.
    const QString host = info.host();
    const int port = info.port();
    info.set(QStringLiteral("port"), QString::number(port));
    if (info.has(QStringLiteral("host")))
        info.set(QStringLiteral("host"), host);
    const QString userHostaddr =
        info.value(QStringLiteral("hostaddr")).section(QLatin1Char(','), 0, 0).trimmed();
    if (!userHostaddr.isEmpty())
        info.set(QStringLiteral("hostaddr"), userHostaddr);
    if (!info.has(QStringLiteral("application_name")))
        info.set(QStringLiteral("application_name"), QStringLiteral("poolscope-check"));
    const bool unix = !info.has(QStringLiteral("hostaddr"))
        && (host.isEmpty() || host.startsWith(QLatin1Char('/'))
            || host.startsWith(QLatin1Char('@')));
    const QString target = QStringLiteral("%1:%2").arg(host).arg(port);

    // dns
    std::vector<Address> addresses;
    Clock::time_point t = Clock::now();
    const QString literal = userHostaddr.isEmpty() ? host : userHostaddr;
    if (unix) {
        pass(QStringLiteral("dns"), 0, QStringLiteral("unix socket: no lookup"), true);
    } else {
        const bool isLiteral = isIpLiteral(literal);
        auto resolved = resolve(literal, port, deadline(), qint64(m_timeout.count()));
        if (!resolved) {
            fail(QStringLiteral("dns"), msSince(t), resolved.error());
            return m_report;
        }
        addresses = std::move(resolved).value();
        QStringList texts;
        for (const Address &a : addresses) {
            if (!texts.contains(a.text))
                texts << a.text;
        }
        const QString detail = isLiteral
            ? QStringLiteral("IP literal %1: no lookup").arg(literal)
            : QStringLiteral("%1 (%2 address%3)")
                  .arg(texts.join(QLatin1String(", ")))
                  .arg(texts.size())
                  .arg(texts.size() == 1 ? QString() : QStringLiteral("es"));
        pass(QStringLiteral("dns"), isLiteral ? 0 : msSince(t), detail, isLiteral);
    }
    if (cancelled())
        return m_report;

    // tcp: like libpq, the first address that accepts, all under one deadline
    t = Clock::now();
    if (unix) {
        pass(QStringLiteral("tcp"), 0, QStringLiteral("unix socket"), true);
    } else {
        const Clock::time_point end = deadline();
        std::optional<DbError> error;
        for (const Address &a : addresses) {
            auto tcp = tcpConnect(a, end, qint64(m_timeout.count()), target);
            error = tcp ? std::nullopt : std::optional<DbError>(tcp.error());
            if (!error) {
                info.set(QStringLiteral("hostaddr"), a.text);
                pass(QStringLiteral("tcp"), msSince(t),
                     QStringLiteral("%1 port %2").arg(a.text).arg(port));
                break;
            }
        }
        if (error) {
            fail(QStringLiteral("tcp"), msSince(t), *error);
            return m_report;
        }
    }
    if (cancelled())
        return m_report;

    // tls + auth: one libpq connect with hostaddr (no DNS inside libpq) and host kept for SNI and
    // verify-full's host name check.
    ConnectOutcome c = connectLibpq(info, m_timeout);
    if (!c.reachedStartup || (c.error && c.error->kind == ErrorKind::TlsFailure)) {
        fail(QStringLiteral("tls"), c.tlsMs, c.error.value_or(makeError(ErrorKind::Unknown, {})));
        return m_report;
    }
    PGconn *conn = c.conn.get();
    pass(QStringLiteral("tls"), c.tlsMs, unix ? QStringLiteral("unix socket: no TLS") : c.tls,
         unix);
    if (c.error) {
        fail(QStringLiteral("auth"), c.authMs, *c.error);
        return m_report;
    }
    pass(QStringLiteral("auth"), c.authMs,
         QStringLiteral("as %1, backend key pid %2")
             .arg(QString::fromUtf8(PQuser(conn)))
             .arg(PQbackendPID(conn)));
    if (cancelled())
        return m_report;

    // server_version: reported by the server (or relayed by the pooler) at startup.
    t = Clock::now();
    m_report.serverVersion = QString::fromUtf8(PQparameterStatus(conn, "server_version"));
    if (m_report.serverVersion.isEmpty())
        fail(QStringLiteral("server_version"), msSince(t),
             makeError(ErrorKind::Unknown, QStringLiteral("no server_version reported")));
    else
        pass(QStringLiteral("server_version"), msSince(t), m_report.serverVersion);
    if (cancelled())
        return m_report;

    // limits: a plain query. Behind PgBouncer this reaches a server connection, so the values are
    // the server's, not the pooler's (its own limits live in its admin console).
    t = Clock::now();
    auto limits = queryRow(c.conn,
                           QStringLiteral("SELECT current_setting('max_connections'), "
                                          "current_setting('superuser_reserved_connections'), "
                                          "current_setting('reserved_connections', true)"),
                           deadline());
    if (limits && limits->size() == 3) {
        m_report.maxConnections = limits->at(0).toInt();
        const int superuser = limits->at(1).toInt();
        const int reserved = limits->at(2).toInt(); // NULL before PostgreSQL 16
        m_report.reservedConnections = superuser + reserved;
        QString detail = QStringLiteral("max_connections %1, superuser_reserved_connections %2")
                             .arg(m_report.maxConnections)
                             .arg(superuser);
        if (!limits->at(2).isNull())
            detail += QStringLiteral(", reserved_connections %1").arg(reserved);
        if (m_expected.pooled)
            detail += QStringLiteral(" (the server's values, read through the pooler)");
        pass(QStringLiteral("limits"), msSince(t), detail);
    } else {
        fail(QStringLiteral("limits"), msSince(t),
             limits ? makeError(ErrorKind::Unknown, QStringLiteral("unexpected result"))
                    : limits.error());
    }
    if (cancelled())
        return m_report;

    probePooler(info, c.conn);
    return m_report;
}

// The pooler probe; the method is described at LiveCheckReport::poolerEvidence.
void LiveCheckRun::probePooler(ConnInfo info, PgConnPtr &conn)
{
    const Clock::time_point t = Clock::now();
    const Clock::time_point end = deadline();
    info.set(QStringLiteral("application_name"), QStringLiteral("poolscope-check-holder"));
    ConnectOutcome holder = connectLibpq(info, m_timeout);
    QStringList evidence;
    if (!holder.conn)
        evidence << QStringLiteral("no second client connection (%1)")
                        .arg(holder.error ? holder.error->summary() : QString());
    std::optional<bool> detected;
    std::optional<DbError> failure;
    int pid = 0;
    for (int round = 1; round <= 3 && !detected && !failure; ++round) {
        const QString value = QStringLiteral("%1ms").arg(43210 + round);
        auto first = queryRow(conn,
                              QStringLiteral("SET statement_timeout = '%1'; "
                                             "SELECT pg_backend_pid()")
                                  .arg(value),
                              end);
        const bool holding = first && holder.conn
            && queryRow(holder.conn, QStringLiteral("BEGIN; SELECT pg_backend_pid()"), end);
        auto second = first ? queryRow(conn,
                                       QStringLiteral("SELECT pg_backend_pid(), "
                                                      "current_setting('statement_timeout')"),
                                       end)
                            : first;
        if (holding)
            (void)queryRow(holder.conn, QStringLiteral("ROLLBACK"), end);
        if (first && !second && second.error().kind == ErrorKind::ConnectionTimeout && holding) {
            detected = true;
            evidence << QStringLiteral("round %1: a SELECT waited while another client held a "
                                       "transaction (a pool of one server connection)")
                            .arg(round);
        } else if (!second || second->size() != 2 || first->isEmpty()) {
            failure = second ? makeError(ErrorKind::Unknown, QStringLiteral("unexpected result"))
                             : second.error();
        } else {
            pid = first->at(0).toInt();
            if (second->at(0).toInt() != pid)
                evidence << QStringLiteral("round %1: pg_backend_pid() changed from %2 to %3 "
                                           "between transactions of one client connection")
                                .arg(round)
                                .arg(pid)
                                .arg(second->at(0));
            if (second->at(1) != value)
                evidence << QStringLiteral("round %1: a session SET statement_timeout = '%2' was "
                                           "not seen by the next transaction (it saw %3)")
                                .arg(round)
                                .arg(value, second->at(1));
            if (second->at(0).toInt() != pid || second->at(1) != value)
                detected = true;
        }
    }
    if (!failure && !detected) {
        evidence << QStringLiteral("3 rounds: same server pid %1 and the session SET seen each "
                                   "time%2")
                        .arg(pid)
                        .arg(holder.conn
                                 ? QStringLiteral(", even while a second client held a "
                                                  "transaction: no transaction pooler")
                                 : QStringLiteral(": inconclusive without a second client"));
        if (holder.conn)
            detected = false;
    }
    if (const int keyPid = PQbackendPID(conn.get()); keyPid != 0 && pid != 0 && keyPid != pid)
        evidence << QStringLiteral("the startup's backend key pid (%1) is not the server's pid "
                                   "(%2): a proxy answered the connection")
                        .arg(keyPid)
                        .arg(pid);
    m_report.poolerDetected = detected;
    m_report.poolerEvidence = scrub(evidence.join(QLatin1String("; ")));
    // The rule (see livecheck.h): session mode keeps one server connection per client.
    if (detected)
        m_report.contradictsHostName = *detected
            ? !m_expected.pooled
            : m_expected.pooled && m_expected.kind != EndpointKind::SupabaseSession;
    const QString verdict = !detected ? QStringLiteral("inconclusive")
        : *detected                   ? QStringLiteral("pooler detected")
                                      : QStringLiteral("no pooler observed");
    emitStep({ QStringLiteral("pooler"), !failure, false, msSince(t),
               QStringLiteral("%1 (host name says %2%3): %4")
                   .arg(verdict,
                        m_expected.pooled ? QStringLiteral("pooled") : QStringLiteral("not pooled"),
                        m_report.contradictsHostName ? QStringLiteral(", contradicted") : QString(),
                        m_report.poolerEvidence),
               failure });
}

LiveCheckReport runLiveCheck(const QString &conninfo, const EndpointInfo &expected,
                             std::chrono::milliseconds stepTimeout, const std::atomic<bool> *cancel,
                             const std::function<void(const LiveCheckStep &)> &onStep)
{
    registerLiveCheckMetaTypes();
    LiveCheckRun run { conninfo, expected, stepTimeout, cancel, onStep };
    return run.run();
}

} // namespace

LiveChecker::LiveChecker(QObject *parent)
    : QObject(parent)
{
    registerLiveCheckMetaTypes();
}

LiveChecker::~LiveChecker()
{
    cancel();
    // Every run's thread is a child; each stops at its next step boundary.
    const auto threads = findChildren<QThread *>(Qt::FindDirectChildrenOnly);
    for (QThread *thread : threads)
        thread->wait();
}

void LiveChecker::start(const QString &conninfo, const EndpointInfo &expected,
                        std::chrono::milliseconds stepTimeout)
{
    cancel();
    auto flag = std::make_shared<std::atomic<bool>>(false);
    m_cancel = flag;
    // Steps are queued to this object's thread and dropped there if the run was cancelled (or
    // replaced) meanwhile; this object outlives the thread (the destructor waits for it).
    m_thread = QThread::create([this, flag, conninfo, expected, stepTimeout] {
        auto post = [this, flag](auto emitter) {
            QMetaObject::invokeMethod(
                this,
                [this, flag, emitter] {
                    if (flag == m_cancel && !flag->load())
                        emitter();
                },
                Qt::QueuedConnection);
        };
        const LiveCheckReport report = runLiveCheck(
            conninfo, expected, stepTimeout, flag.get(),
            [&](const LiveCheckStep &step) { post([this, step] { Q_EMIT stepFinished(step); }); });
        post([this, report] { Q_EMIT finished(report); });
    });
    m_thread->setObjectName(QStringLiteral("poolscope-livecheck"));
    m_thread->setParent(this);
    connect(m_thread, &QThread::finished, m_thread, &QObject::deleteLater);
    m_thread->start();
}

void LiveChecker::cancel()
{
    if (m_cancel)
        m_cancel->store(true);
}

LiveCheckReport LiveChecker::runBlocking(const QString &conninfo, const EndpointInfo &expected,
                                         std::chrono::milliseconds stepTimeout,
                                         const std::function<void(const LiveCheckStep &)> &onStep)
{
    return runLiveCheck(conninfo, expected, stepTimeout, nullptr, onStep);
}

} // namespace poolscope
