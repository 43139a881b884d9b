// The single place where libpq output and SQLSTATEs become typed errors with remedies.
// Remedies follow the guide's troubleshooting section, with its facts corrected (see
// ../shared/reference/pools-and-neon.md §1): connection limits follow the compute size, not the
// plan, and the pooled Neon host is the one whose endpoint id ends in "-pooler".
#include "core/db/dberror.h"

#include "core/db/redaction.h"

#include <QRegularExpression>

#include <array>

namespace poolscope {
namespace {

struct KindInfo
{
    ErrorKind kind;
    const char *name;
    ErrorClass errorClass;
    bool transient;
    const char *remedy;
};

// clang-format off
constexpr std::array kKinds{
    KindInfo{ErrorKind::TooManyConnections, "too_many_connections", ErrorClass::Connection, true,
        "The server has no free connection slot (max_connections minus the superuser reserve is used up). "
        "Reduce DATABASE_POOL_MAX_SIZE so that instances x pool max fits the limit, connect through the pooled "
        "endpoint (on Neon the host whose endpoint id ends in -pooler), or raise the compute size (on Neon the "
        "limit follows the compute size, not the plan); retry with backoff meanwhile."},
    KindInfo{ErrorKind::ConfigurationLimit, "configuration_limit_exceeded", ErrorClass::Connection, true,
        "A server configuration limit was exceeded (e.g. a per-role or per-database connection limit). "
        "Check ALTER ROLE/DATABASE ... CONNECTION LIMIT and reduce the pool size."},
    KindInfo{ErrorKind::ConnectionTimeout, "connection_timeout", ErrorClass::Connection, true,
        "No answer in time: a slow cold start or a network problem. Verify you use the pooled endpoint, check "
        "the provider's status page, and raise connect_timeout (or the function timeout) if cold starts are "
        "expected."},
    KindInfo{ErrorKind::ConnectionRefused, "connection_refused", ErrorClass::Connection, true,
        "Nothing accepts connections at that host and port: the server is down or restarting, or the port is "
        "wrong. Check the server and the port (5432 direct, 6432/6543 for poolers)."},
    KindInfo{ErrorKind::DnsFailure, "dns_failure", ErrorClass::Connection, false,
        "The host name does not resolve. Check it for typos, the region part of a cloud host name, and the "
        "machine's DNS."},
    KindInfo{ErrorKind::TlsFailure, "tls_failure", ErrorClass::Connection, false,
        "TLS failed. Check sslmode and sslrootcert (verify-full needs the CA bundle), and that the client "
        "libpq is 14 or newer when the provider routes by SNI (Neon does)."},
    KindInfo{ErrorKind::InvalidPassword, "invalid_password", ErrorClass::Connection, false,
        "Authentication failed. Check the password in your pgpass file or PGPASSWORD (PoolScope never stores "
        "passwords) and that the role exists."},
    KindInfo{ErrorKind::InvalidAuthorization, "invalid_authorization", ErrorClass::Connection, false,
        "The server refused this role or client address (pg_hba.conf, missing role, or a pooler that does not "
        "know the user). Check the user name and the server's access rules."},
    KindInfo{ErrorKind::DatabaseMissing, "database_missing", ErrorClass::Connection, false,
        "The database does not exist. Check the database name in the connection string."},
    KindInfo{ErrorKind::AdminShutdown, "admin_shutdown", ErrorClass::Connection, true,
        "The server terminated the connection (pg_terminate_backend, a shutdown or restart, or Neon suspending "
        "an idle compute). The pool discards it and reconnects; if this happens often, keep max_idle below the "
        "provider's idle cutoff."},
    KindInfo{ErrorKind::CrashShutdown, "crash_shutdown", ErrorClass::Connection, true,
        "The server crashed and is restarting. Connections are reopened with backoff; check the server log."},
    KindInfo{ErrorKind::CannotConnectNow, "cannot_connect_now", ErrorClass::Connection, true,
        "The server is starting up, recovering or waking up from scale-to-zero. Retry with backoff."},
    KindInfo{ErrorKind::IdleSessionTimeout, "idle_session_timeout", ErrorClass::Connection, true,
        "The server closed an idle session (idle_session_timeout). Do not combine that setting with a pool, or "
        "keep the pool's max_idle shorter than it."},
    KindInfo{ErrorKind::IdleInTransactionTimeout, "idle_in_transaction_timeout", ErrorClass::Connection, true,
        "A transaction stayed open and idle too long and the server closed the session. Commit or roll back "
        "promptly; do not hold a connection across slow work."},
    KindInfo{ErrorKind::PoolerError, "pooler_error", ErrorClass::Connection, true,
        "The pooler (PgBouncer) rejected the request. query_wait_timeout: every server connection stayed busy "
        "too long - shorten transactions or raise the pooler's pool size. 'unsupported startup parameter': "
        "remove options=... from the connection string on pooled endpoints and use SET LOCAL in a transaction."},
    KindInfo{ErrorKind::ReadOnlyTransaction, "read_only_transaction", ErrorClass::Connection, true,
        "The connection points at a read-only server (a standby, or a primary demoted by failover). The pool "
        "discards it; use target_session_attrs=read-write for writers."},
    KindInfo{ErrorKind::QueryCanceled, "query_canceled", ErrorClass::Statement, false,
        "statement_timeout (or a cancel request) stopped the query. Make the query faster (indexes, smaller "
        "result sets) or raise the timeout for this transaction with SET LOCAL."},
    KindInfo{ErrorKind::InsufficientPrivilege, "insufficient_privilege", ErrorClass::Statement, false,
        "The role PoolScope connects as lacks a privilege the server requires (the message says which). "
        "Cancelling or terminating another role's session needs membership in pg_signal_backend: an "
        "administrator runs GRANT pg_signal_backend TO <role> (pg_monitor alone only reads; a superuser's "
        "sessions need a superuser). Or connect as the role that owns the session."},
    KindInfo{ErrorKind::ConnectionLost, "connection_lost", ErrorClass::Connection, true,
        "The connection broke mid-conversation (server restart, network failure, idle cutoff by a firewall or "
        "NAT). The pool discards it and reconnects; keep max_lifetime below every idle cutoff on the path."},
    KindInfo{ErrorKind::AcquireTimeout, "acquire_timeout", ErrorClass::Pool, true,
        "No pooled connection became free in time: the pool is too small for the load, connections are held "
        "too long (look for flagged leaks), or the server cannot open more (see the cause)."},
    KindInfo{ErrorKind::PoolClosed, "pool_closed", ErrorClass::Pool, false,
        "The pool is shutting down."},
    KindInfo{ErrorKind::InvalidConfiguration, "invalid_configuration", ErrorClass::Pool, false,
        "Fix the configuration value named in the message."},
    KindInfo{ErrorKind::QueryFailed, "query_failed", ErrorClass::Statement, false,
        "The statement failed; see the server's message and SQLSTATE."},
    KindInfo{ErrorKind::Unknown, "unknown", ErrorClass::Connection, false,
        "See the message; the connection is discarded as a precaution."},
};
// clang-format on

const KindInfo &info(ErrorKind kind)
{
    for (const KindInfo &k : kKinds) {
        if (k.kind == kind)
            return k;
    }
    return kKinds.back();
}

ErrorKind kindForSqlState(const QString &s)
{
    struct Entry
    {
        const char *code;
        ErrorKind kind;
    };
    static constexpr Entry exact[] = {
        { "53300", ErrorKind::TooManyConnections },
        { "53400", ErrorKind::ConfigurationLimit },
        { "28P01", ErrorKind::InvalidPassword },
        { "28000", ErrorKind::InvalidAuthorization },
        { "3D000", ErrorKind::DatabaseMissing },
        { "57P01", ErrorKind::AdminShutdown },
        { "57P02", ErrorKind::CrashShutdown },
        { "57P03", ErrorKind::CannotConnectNow },
        { "57P05", ErrorKind::IdleSessionTimeout },
        { "25P03", ErrorKind::IdleInTransactionTimeout },
        { "08P01", ErrorKind::PoolerError },
        { "25006", ErrorKind::ReadOnlyTransaction },
        { "57014", ErrorKind::QueryCanceled },
        { "42501", ErrorKind::InsufficientPrivilege },
    };
    for (const Entry &e : exact) {
        if (s == QLatin1String(e.code))
            return e.kind;
    }
    if (s.startsWith(QLatin1String("08")) || s.startsWith(QLatin1String("57P")))
        return ErrorKind::ConnectionLost;
    return s.isEmpty() ? ErrorKind::Unknown : ErrorKind::QueryFailed;
}

// libpq messages can span lines (one per host tried, plus DETAIL/HINT/LOCATION in verbose mode):
// keep the meaningful ones on one line.
QString oneLine(const QString &text)
{
    QStringList kept;
    for (const QString &line : text.split(QLatin1Char('\n'), Qt::SkipEmptyParts)) {
        const QString t = line.trimmed();
        if (t.startsWith(QLatin1String("LOCATION:")))
            continue;
        kept << t;
    }
    return redactSecrets(kept.join(QLatin1String(" / ")));
}

} // namespace

bool DbError::isTransient() const
{
    return info(kind).transient;
}

QString DbError::summary() const
{
    QString s = sqlstate.isEmpty() ? errorKindName(kind)
                                   : sqlstate + QLatin1Char(' ') + errorKindName(kind);
    s += QLatin1String(": ") + message;
    if (cause)
        s += QLatin1String(" (cause: ") + cause->summary() + QLatin1Char(')');
    return s;
}

QString errorKindName(ErrorKind kind)
{
    return QString::fromLatin1(info(kind).name);
}

QString remedyFor(ErrorKind kind)
{
    return QString::fromUtf8(info(kind).remedy);
}

DbError makeError(ErrorKind kind, const QString &message)
{
    DbError e;
    e.kind = kind;
    e.errorClass = info(kind).errorClass;
    e.message = oneLine(message);
    e.remedy = remedyFor(kind);
    return e;
}

DbError errorFromSqlState(const QString &sqlstate, const QString &message)
{
    DbError e = makeError(kindForSqlState(sqlstate), message);
    e.sqlstate = sqlstate;
    // A statement error on a healthy connection is statement-class, whatever its kind says,
    // unless the code says the session is gone.
    if (e.kind == ErrorKind::QueryFailed)
        e.errorClass = ErrorClass::Statement;
    return e;
}

DbError errorFromConnectMessage(const QString &libpqMessage)
{
    // Server-side failure, verbose form: "... failed: FATAL:  53300: sorry, too many clients
    // already"
    static const QRegularExpression verbose(
        QStringLiteral(R"((?:FATAL|ERROR|PANIC):\s+([0-9A-Z]{5}):\s*([^\n]*))"));
    if (const auto m = verbose.match(libpqMessage); m.hasMatch()) {
        DbError e = errorFromSqlState(m.captured(1), m.captured(2));
        e.errorClass =
            ErrorClass::Connection; // whatever failed during connect, there is no connection
        if (e.kind == ErrorKind::QueryFailed)
            e.kind = ErrorKind::Unknown;
        // PgBouncer (client_tls_sslmode = require, as on hosted poolers) refuses a plain client
        // with 08P01 "SSL required": the remedy is the client's sslmode, not the pooler.
        if (e.kind == ErrorKind::PoolerError
            && m.captured(2).contains(QLatin1String("SSL required"), Qt::CaseInsensitive)) {
            e.kind = ErrorKind::TlsFailure;
            e.remedy = remedyFor(e.kind);
        }
        e.message = oneLine(libpqMessage);
        return e;
    }

    struct Pattern
    {
        const char *text;
        ErrorKind kind;
        const char *sqlstate;
    };
    // Wording of libpq 15 and of the server with lc_messages=C, for failures without a code.
    static constexpr Pattern patterns[] = {
        { "could not translate host name", ErrorKind::DnsFailure, "" },
        { "Name or service not known", ErrorKind::DnsFailure, "" },
        { "timeout expired", ErrorKind::ConnectionTimeout, "" },
        { "Connection timed out", ErrorKind::ConnectionTimeout, "" },
        { "Connection refused", ErrorKind::ConnectionRefused, "" },
        { "No such file or directory", ErrorKind::ConnectionRefused, "" },
        { "too many clients already", ErrorKind::TooManyConnections, "53300" },
        { "remaining connection slots are reserved", ErrorKind::TooManyConnections, "53300" },
        { "password authentication failed", ErrorKind::InvalidPassword, "28P01" },
        { "no password supplied", ErrorKind::InvalidPassword, "" },
        { "role \"", ErrorKind::InvalidAuthorization, "28000" },
        { "does not exist", ErrorKind::DatabaseMissing, "3D000" },
        { "the database system is starting up", ErrorKind::CannotConnectNow, "57P03" },
        { "the database system is shutting down", ErrorKind::CannotConnectNow, "57P03" },
        { "terminating connection due to administrator command", ErrorKind::AdminShutdown,
          "57P01" },
        { "SSL", ErrorKind::TlsFailure, "" },
        { "certificate", ErrorKind::TlsFailure, "" },
        { "server closed the connection unexpectedly", ErrorKind::ConnectionLost, "" },
    };
    // Match libpq's wording, not the host names it quotes: strip every
    // 'connection to server at "<host>" (<addr>), port N failed: ' prefix first, so that a host
    // such as "pg-ssl.internal" does not turn a lost connection into a TLS failure.
    static const QRegularExpression serverPrefix(
        QStringLiteral(R"(connection to server .*? failed: )"));
    QString wording = libpqMessage;
    wording.remove(serverPrefix);
    for (const Pattern &p : patterns) {
        if (wording.contains(QLatin1String(p.text), Qt::CaseInsensitive)) {
            DbError e = makeError(p.kind, libpqMessage);
            e.sqlstate = QString::fromLatin1(p.sqlstate);
            e.errorClass = ErrorClass::Connection;
            return e;
        }
    }
    return makeError(ErrorKind::Unknown, libpqMessage);
}

DbError connectionLostError(const QString &libpqMessage)
{
    // The server may have said why before closing (57P01 on pg_terminate_backend or shutdown).
    DbError e = errorFromConnectMessage(libpqMessage);
    if (e.kind == ErrorKind::Unknown || e.kind == ErrorKind::ConnectionRefused)
        e = makeError(ErrorKind::ConnectionLost, libpqMessage);
    e.errorClass = ErrorClass::Connection;
    return e;
}

} // namespace poolscope
