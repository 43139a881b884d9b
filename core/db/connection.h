#pragma once

#include "core/db/conninfo.h"
#include "core/db/dberror.h"
#include "core/db/queryresult.h"
#include "core/util/result.h"

#include <QStringList>

#include <chrono>
#include <memory>

namespace poolscope {

using Clock = std::chrono::steady_clock;

enum class TransactionState { Idle, Active, InTransaction, InError, Unknown };

// Outcome of the no-round-trip liveness check.
enum class Liveness {
    Alive,      // socket quiet, status OK
    Dead,       // libpq saw EOF/an error: discard
    Suspicious, // the server sent something while the connection was idle: verify with a ping
};

class ConnectionPrivate;

// One libpq connection (RAII: PQfinish in the destructor). Move-only.
//
// Thread contract (libpq's own): a Connection may move between threads, but only one thread may
// use it at a time. Every network wait is bounded by a deadline: statements and pings are sent in
// non-blocking mode and waited for with poll(), never with libpq's blocking calls, so a server
// that stops answering (SIGSTOP, dead network) costs at most the deadline.
class Connection
{
public:
    Connection(Connection &&other) noexcept;
    Connection &operator=(Connection &&other) noexcept;
    ~Connection();

    // Opens a connection with libpq's non-blocking connect under our own deadline (libpq's
    // connect_timeout is not applied by PQconnectPoll). Error verbosity is set before polling so
    // that a refused startup carries its SQLSTATE (e.g. 53300).
    static Result<Connection, DbError> open(const ConnInfo &info, Clock::duration timeout);

    // Simple-query protocol; several statements separated by ';' are allowed and run in one
    // round trip. Returns the last result that has rows (else the last result), or the first
    // error. A deadline overrun
    // marks the connection broken (we do not block on PQcancel, which has no timeout in libpq 15).
    Result<QueryResult, DbError> exec(const QString &sql, Clock::duration timeout);
    // Extended protocol with text parameters ($1, $2, ...), unnamed statement (pooler-safe).
    Result<QueryResult, DbError> execParams(const QString &sql, const QStringList &params,
                                            Clock::duration timeout);

    // An empty query: the cheapest full round trip (PGRES_EMPTY_QUERY).
    Result<bool, DbError> ping(Clock::duration timeout);
    Liveness checkLiveness();

    // True once a connection-class error was seen (or the deadline was overrun): never reuse.
    bool isBroken() const;
    TransactionState transactionState() const;
    int backendPid() const;
    int socketDescriptor() const;
    QString parameterStatus(const QString &name) const;

private:
    friend class ConnectAttempt;
    explicit Connection(std::unique_ptr<ConnectionPrivate> d);
    Result<QueryResult, DbError> finishExec(Clock::time_point deadline);
    std::unique_ptr<ConnectionPrivate> d;
};

class ConnectAttemptPrivate;

// One in-flight non-blocking connect, driven by the caller's event loop: the pool's maintainer
// multiplexes several with poll() to open connections concurrently. Call advance() whenever the
// socket is ready for what wants() says (or immediately after construction).
class ConnectAttempt
{
public:
    enum class Want { Read, Write, Done, Failed };

    ConnectAttempt(const ConnInfo &info, Clock::time_point deadline);
    ConnectAttempt(ConnectAttempt &&) noexcept;
    ConnectAttempt &operator=(ConnectAttempt &&) noexcept;
    ~ConnectAttempt();

    Want advance();
    Want wants() const;
    int socketDescriptor() const;
    Clock::time_point deadline() const;
    Clock::time_point startedAt() const;
    // Marks the attempt failed with a timeout (called by the driver when the deadline passes).
    void expire();
    // Done: the connection; Failed: the typed error. Call once.
    Result<Connection, DbError> take();

private:
    std::unique_ptr<ConnectAttemptPrivate> d;
};

} // namespace poolscope
