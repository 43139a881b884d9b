#pragma once

#include <QString>

#include <memory>

namespace poolscope {

// What went wrong, as an operator would name it. Each kind has one remedy (see dberror.cpp, the
// only place that maps libpq output and SQLSTATEs to kinds).
enum class ErrorKind {
    TooManyConnections,       // 53300: max_connections (or the non-superuser share) exhausted
    ConfigurationLimit,       // 53400
    ConnectionTimeout,        // no answer within the connect/acquire deadline
    ConnectionRefused,        // nothing listens on host:port (server down, wrong port)
    DnsFailure,               // host name does not resolve
    TlsFailure,               // TLS negotiation or certificate verification failed
    InvalidPassword,          // 28P01
    InvalidAuthorization,     // 28000: role missing, pg_hba rejects, ...
    DatabaseMissing,          // 3D000
    AdminShutdown,            // 57P01: terminated (pg_terminate_backend, shutdown, Neon suspend)
    CrashShutdown,            // 57P02
    CannotConnectNow,         // 57P03: starting up / recovering / waking up
    IdleSessionTimeout,       // 57P05
    IdleInTransactionTimeout, // 25P03
    PoolerError, // 08P01: PgBouncer's errors (query_wait_timeout, unsupported startup parameter,
                 // ...)
    ReadOnlyTransaction,   // 25006: e.g. connected to a demoted primary after failover
    QueryCanceled,         // 57014: statement_timeout or a cancel request
    InsufficientPrivilege, // 42501: the role lacks a privilege (e.g. pg_signal_backend)
    ConnectionLost,        // the socket broke mid-conversation (08006 and friends, or no SQLSTATE)
    AcquireTimeout,        // the pool had no connection for the caller within its timeout
    PoolClosed,            // acquire on a pool that is shutting down
    InvalidConfiguration,  // rejected before any connection attempt (bad conninfo, bad values)
    QueryFailed,           // any other statement error (syntax, constraint, ...)
    Unknown,
};

// Connection-class errors mean "this connection is unusable: discard it, never hand it out again".
// Statement-class errors leave the connection usable. Pool-class errors come from the pool itself.
enum class ErrorClass { Connection, Statement, Pool };

// An immutable, copyable error value. Messages are already redacted (no passwords).
struct DbError
{
    ErrorKind kind = ErrorKind::Unknown;
    ErrorClass errorClass = ErrorClass::Connection;
    QString sqlstate; // five characters when the server (or PgBouncer) sent one, else empty
    QString message;  // libpq's / the server's primary message, one line, redacted
    QString remedy;   // what an operator should do about it
    // The underlying failure, e.g. the last connect error behind an AcquireTimeout.
    std::shared_ptr<const DbError> cause;

    bool isConnectionFatal() const { return errorClass == ErrorClass::Connection; }
    // Worth retrying with backoff (server down, starting, too many clients) as opposed to
    // configuration problems that will not fix themselves (password, missing database).
    bool isTransient() const;
    // "53300 too_many_connections: sorry, too many clients already" - for logs and the UI.
    QString summary() const;
};

QString errorKindName(ErrorKind kind); // stable snake_case identifiers, used in JSON output
QString remedyFor(ErrorKind kind);

// Builds an error from what the server reported for a statement (PG_DIAG_SQLSTATE available).
DbError errorFromSqlState(const QString &sqlstate, const QString &message);

// Builds an error from libpq's PQerrorMessage() after a failed connection attempt. libpq 15 has
// no PGresult then; with PQERRORS_VERBOSE set before PQconnectPoll the server's FATAL carries
// its code ("FATAL:  53300: sorry, too many clients already"), which is parsed here. Failures
// that never reached a server (refused, DNS, TLS, timeout) are recognised by libpq's wording.
DbError errorFromConnectMessage(const QString &libpqMessage);

// A lost connection (PQstatus turned CONNECTION_BAD during a statement).
DbError connectionLostError(const QString &libpqMessage);

DbError makeError(ErrorKind kind, const QString &message);

} // namespace poolscope
