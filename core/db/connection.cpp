#include "core/db/connection.h"

#include "core/db/connection_p.h"
#include "core/logging/logging.h"

#include <poll.h>

#include <vector>

namespace poolscope {
namespace {

const std::shared_ptr<spdlog::logger> &dbLog()
{
    static const auto log = logging::logger("db");
    return log;
}

// libpq prints notices and warnings to stderr by default; route them into the log instead.
void onNotice(void *, const char *message)
{
    QString text = QString::fromUtf8(message).trimmed();
    dbLog()->debug("server notice: {}", text.toStdString());
}

enum class WaitResult { Ready, Timeout, Error };

WaitResult waitForSocket(int fd, short events, Clock::time_point deadline)
{
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0)
            return WaitResult::Timeout;
        pollfd p { fd, events, 0 };
        // Round up so that a sub-millisecond remainder does not spin.
        const int rc = ::poll(&p, 1, int(std::min<qint64>(left.count() + 1, 60'000)));
        if (rc > 0)
            return WaitResult::Ready;
        if (rc < 0 && errno != EINTR)
            return WaitResult::Error;
    }
}

QString pgMessage(const PGconn *conn)
{
    return QString::fromUtf8(PQerrorMessage(conn));
}

} // namespace

DbError errorFromResult(const PGresult *r, const PGconn *conn)
{
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const char *primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    const QString message = QString::fromUtf8(primary ? primary : PQresultErrorMessage(r));
    if (state && *state)
        return errorFromSqlState(QString::fromLatin1(state), message);
    return connectionLostError(message.isEmpty() && conn ? pgMessage(conn) : message);
}

// ---------------------------------------------------------------------------------------------
// ConnectAttempt

class ConnectAttemptPrivate
{
public:
    std::unique_ptr<ConnectionPrivate> connection = std::make_unique<ConnectionPrivate>();
    ConnectAttempt::Want want = ConnectAttempt::Want::Write;
    Clock::time_point deadline;
    Clock::time_point startedAt = Clock::now();
    std::optional<DbError> error;
    QString target; // host:port for messages
};

ConnectAttempt::ConnectAttempt(const ConnInfo &info, Clock::time_point deadline)
    : d(std::make_unique<ConnectAttemptPrivate>())
{
    d->deadline = deadline;
    d->target = info.host().isEmpty() ? QStringLiteral("the default socket")
                                      : QStringLiteral("%1:%2").arg(info.host()).arg(info.port());
    std::vector<QByteArray> storage;
    storage.reserve(size_t(info.entries().size()) * 2);
    std::vector<const char *> keywords;
    std::vector<const char *> values;
    for (const auto &[key, value] : info.entries()) {
        storage.push_back(key.toUtf8());
        keywords.push_back(storage.back().constData());
        storage.push_back(value.toUtf8());
        values.push_back(storage.back().constData());
    }
    keywords.push_back(nullptr);
    values.push_back(nullptr);

    PGconn *conn = PQconnectStartParams(keywords.data(), values.data(), 0);
    d->connection->conn.reset(conn);
    if (!conn) {
        d->error =
            makeError(ErrorKind::Unknown, QStringLiteral("out of memory starting a connection"));
        d->want = Want::Failed;
        return;
    }
    // Before the first PQconnectPoll: makes a refused startup carry its SQLSTATE.
    PQsetErrorVerbosity(conn, PQERRORS_VERBOSE);
    PQsetNoticeProcessor(conn, &onNotice, nullptr);
    if (PQstatus(conn) == CONNECTION_BAD) {
        d->error = errorFromConnectMessage(pgMessage(conn));
        d->want = Want::Failed;
    }
}

ConnectAttempt::ConnectAttempt(ConnectAttempt &&) noexcept = default;
ConnectAttempt &ConnectAttempt::operator=(ConnectAttempt &&) noexcept = default;
ConnectAttempt::~ConnectAttempt() = default;

ConnectAttempt::Want ConnectAttempt::advance()
{
    if (d->want == Want::Done || d->want == Want::Failed)
        return d->want;
    PGconn *conn = d->connection->conn.get();
    switch (PQconnectPoll(conn)) {
    case PGRES_POLLING_READING:
        d->want = Want::Read;
        break;
    case PGRES_POLLING_WRITING:
        d->want = Want::Write;
        break;
    case PGRES_POLLING_OK:
        PQsetnonblocking(conn, 1);
        d->want = Want::Done;
        break;
    default:
        d->error = errorFromConnectMessage(pgMessage(conn));
        d->want = Want::Failed;
        break;
    }
    return d->want;
}

ConnectAttempt::Want ConnectAttempt::wants() const
{
    return d->want;
}

int ConnectAttempt::socketDescriptor() const
{
    return d->connection->conn ? PQsocket(d->connection->conn.get()) : -1;
}

Clock::time_point ConnectAttempt::deadline() const
{
    return d->deadline;
}

Clock::time_point ConnectAttempt::startedAt() const
{
    return d->startedAt;
}

void ConnectAttempt::expire()
{
    if (d->want == Want::Done || d->want == Want::Failed)
        return;
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(d->deadline - d->startedAt);
    d->error = makeError(
        ErrorKind::ConnectionTimeout,
        QStringLiteral("no connection to %1 within %2 ms").arg(d->target).arg(ms.count()));
    d->want = Want::Failed;
}

Result<Connection, DbError> ConnectAttempt::take()
{
    if (d->want == Want::Done)
        return Connection(std::move(d->connection));
    return d->error.value_or(
        makeError(ErrorKind::Unknown, QStringLiteral("connect attempt not finished")));
}

// ---------------------------------------------------------------------------------------------
// Connection

Connection::Connection(std::unique_ptr<ConnectionPrivate> priv)
    : d(std::move(priv))
{
}
Connection::Connection(Connection &&other) noexcept = default;
Connection &Connection::operator=(Connection &&other) noexcept = default;
Connection::~Connection() = default;

Result<Connection, DbError> Connection::open(const ConnInfo &info, Clock::duration timeout)
{
    ConnectAttempt attempt(info, Clock::now() + timeout);
    // libpq's contract: start as if PQconnectPoll had asked to wait for writing.
    for (ConnectAttempt::Want want = attempt.wants();
         want != ConnectAttempt::Want::Done && want != ConnectAttempt::Want::Failed;) {
        const short events = want == ConnectAttempt::Want::Read ? POLLIN : POLLOUT;
        switch (waitForSocket(attempt.socketDescriptor(), events, attempt.deadline())) {
        case WaitResult::Timeout:
        case WaitResult::Error:
            attempt.expire();
            want = attempt.wants();
            break;
        case WaitResult::Ready:
            want = attempt.advance();
            break;
        }
    }
    return attempt.take();
}

Result<QueryResult, DbError> Connection::exec(const QString &sql, Clock::duration timeout)
{
    if (isBroken())
        return makeError(ErrorKind::ConnectionLost,
                         QStringLiteral("the connection is already broken"));
    const Clock::time_point deadline = Clock::now() + timeout;
    if (!PQsendQuery(d->conn.get(), sql.toUtf8().constData())) {
        d->broken = PQstatus(d->conn.get()) == CONNECTION_BAD;
        return d->broken ? connectionLostError(pgMessage(d->conn.get()))
                         : makeError(ErrorKind::Unknown, pgMessage(d->conn.get()));
    }
    return finishExec(deadline);
}

Result<QueryResult, DbError> Connection::execParams(const QString &sql, const QStringList &params,
                                                    Clock::duration timeout)
{
    if (isBroken())
        return makeError(ErrorKind::ConnectionLost,
                         QStringLiteral("the connection is already broken"));
    const Clock::time_point deadline = Clock::now() + timeout;
    std::vector<QByteArray> storage;
    std::vector<const char *> values;
    storage.reserve(size_t(params.size()));
    for (const QString &p : params) {
        storage.push_back(p.toUtf8());
        values.push_back(p.isNull() ? nullptr : storage.back().constData());
    }
    if (!PQsendQueryParams(d->conn.get(), sql.toUtf8().constData(), int(values.size()), nullptr,
                           values.data(), nullptr, nullptr, 0)) {
        d->broken = PQstatus(d->conn.get()) == CONNECTION_BAD;
        return d->broken ? connectionLostError(pgMessage(d->conn.get()))
                         : makeError(ErrorKind::Unknown, pgMessage(d->conn.get()));
    }
    return finishExec(deadline);
}

Result<QueryResult, DbError> Connection::finishExec(Clock::time_point deadline)
{
    PGconn *conn = d->conn.get();
    auto overrun = [&] {
        d->broken = true;
        return makeError(ErrorKind::ConnectionTimeout,
                         QStringLiteral("the server did not answer in time; connection discarded"));
    };
    // Non-blocking send: flush what libpq buffered, reading meanwhile so the server cannot stall.
    for (int f = PQflush(conn); f != 0; f = PQflush(conn)) {
        if (f < 0) {
            d->broken = true;
            return connectionLostError(pgMessage(conn));
        }
        if (waitForSocket(PQsocket(conn), POLLIN | POLLOUT, deadline) != WaitResult::Ready)
            return overrun();
        if (!PQconsumeInput(conn)) {
            d->broken = true;
            return connectionLostError(pgMessage(conn));
        }
    }

    std::shared_ptr<void> last;
    bool lastHasRows = false;
    std::optional<DbError> error;
    for (;;) {
        while (PQisBusy(conn)) {
            if (waitForSocket(PQsocket(conn), POLLIN, deadline) != WaitResult::Ready)
                return overrun();
            if (!PQconsumeInput(conn)) {
                d->broken = true;
                return connectionLostError(pgMessage(conn));
            }
        }
        PGresult *raw = PQgetResult(conn);
        if (!raw)
            break;
        std::shared_ptr<void> result(raw, [](void *p) { PQclear(static_cast<PGresult *>(p)); });
        switch (PQresultStatus(raw)) {
        case PGRES_FATAL_ERROR:
        case PGRES_BAD_RESPONSE:
        case PGRES_NONFATAL_ERROR:
            if (!error)
                error = errorFromResult(raw);
            break;
        case PGRES_COPY_IN:
        case PGRES_COPY_OUT:
        case PGRES_COPY_BOTH:
            // COPY would need its own data loop; the connection's protocol state is now unusable.
            d->broken = true;
            return makeError(ErrorKind::QueryFailed, QStringLiteral("COPY is not supported here"));
        case PGRES_TUPLES_OK:
            last = std::move(result);
            lastHasRows = true;
            break;
        default:
            // "BEGIN; SET LOCAL ...; SELECT ...; COMMIT": the rows are the interesting result,
            // not COMMIT's tag.
            if (!lastHasRows)
                last = std::move(result);
            break;
        }
    }
    if (PQstatus(conn) == CONNECTION_BAD) {
        d->broken = true;
        if (!error || !error->isConnectionFatal())
            error = connectionLostError(pgMessage(conn));
    }
    if (error) {
        if (error->isConnectionFatal())
            d->broken = true;
        return *error;
    }
    return QueryResult(std::move(last));
}

Result<bool, DbError> Connection::ping(Clock::duration timeout)
{
    auto r = exec(QString(), timeout);
    if (!r)
        return std::move(r).error();
    return true;
}

Liveness Connection::checkLiveness()
{
    if (isBroken())
        return Liveness::Dead;
    pollfd p { PQsocket(d->conn.get()), POLLIN, 0 };
    if (::poll(&p, 1, 0) <= 0)
        return Liveness::Alive;
    // The server wrote to an idle connection: usually a FATAL (57P01 on pg_terminate_backend or
    // shutdown) followed by EOF. Read what is there - a couple of times, as the EOF may arrive
    // just behind the message - so that a closed connection is recognised now.
    for (int round = 0; round < 3; ++round) {
        if (!PQconsumeInput(d->conn.get()) || PQstatus(d->conn.get()) == CONNECTION_BAD) {
            d->broken = true;
            return Liveness::Dead;
        }
        if (::poll(&p, 1, 0) <= 0)
            break;
    }
    return Liveness::Suspicious;
}

bool Connection::isBroken() const
{
    return !d || !d->conn || d->broken || PQstatus(d->conn.get()) != CONNECTION_OK;
}

TransactionState Connection::transactionState() const
{
    if (!d || !d->conn)
        return TransactionState::Unknown;
    switch (PQtransactionStatus(d->conn.get())) {
    case PQTRANS_IDLE:
        return TransactionState::Idle;
    case PQTRANS_ACTIVE:
        return TransactionState::Active;
    case PQTRANS_INTRANS:
        return TransactionState::InTransaction;
    case PQTRANS_INERROR:
        return TransactionState::InError;
    default:
        return TransactionState::Unknown;
    }
}

int Connection::backendPid() const
{
    return d && d->conn ? PQbackendPID(d->conn.get()) : 0;
}

int Connection::socketDescriptor() const
{
    return d && d->conn ? PQsocket(d->conn.get()) : -1;
}

QString Connection::parameterStatus(const QString &name) const
{
    if (!d || !d->conn)
        return {};
    const char *v = PQparameterStatus(d->conn.get(), name.toUtf8().constData());
    return v ? QString::fromUtf8(v) : QString();
}

} // namespace poolscope
