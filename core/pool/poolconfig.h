#pragma once

#include "core/db/dberror.h"
#include "core/util/result.h"

#include <QProcessEnvironment>
#include <QString>

#include <chrono>

namespace poolscope {

using namespace std::chrono_literals;

// Whether the pool talks to PostgreSQL itself or to a transaction-mode pooler (PgBouncer, Neon's
// -pooler host, Supavisor on 6543, RDS Proxy). Decides how session state may be used.
enum class EndpointRole { Direct, Pooled };

// How statement_timeout is applied (see README "statement_timeout and poolers").
enum class StatementTimeoutMode {
    // Direct: startup parameter; pooled: SET LOCAL per transaction.
    Automatic,
    // options=-c statement_timeout=... at connect: no extra round trip. Direct endpoints only:
    // PgBouncer and Neon's pooler reject startup options ("unsupported startup parameter").
    StartupParameter,
    // The guide's way: SET statement_timeout on every checkout (one round trip per checkout).
    // Direct endpoints only: through a transaction pooler the SET lands on whichever server
    // connection PgBouncer picked and then applies to other clients.
    SetOnCheckout,
    // BEGIN; SET LOCAL statement_timeout = ...; ... COMMIT via Lease::transaction(): scoped to
    // the transaction, safe through transaction pooling.
    SetLocalPerTransaction,
    // Leave the server's/role's setting alone.
    Off,
};

// The guide's two environment profiles.
enum class PoolProfile { LocalDevelopment, ServerlessProduction };

struct PoolConfig
{
    QString conninfo; // libpq conninfo or URI; a password inside is never logged
    EndpointRole endpointRole = EndpointRole::Direct;
    QString applicationName = QStringLiteral("poolscope");

    int minSize = 5;                                // DATABASE_POOL_MIN_SIZE (guide default)
    int maxSize = 20;                               // DATABASE_POOL_MAX_SIZE (guide default)
    std::chrono::milliseconds acquireTimeout = 30s; // never infinite
    std::chrono::milliseconds connectTimeout = 10s; // per connection attempt
    // Each connection lives maxLifetime minus a random share of up to lifetimeJitter of it, so
    // that connections opened together do not all expire together.
    std::chrono::milliseconds maxLifetime = 30min;
    double lifetimeJitter = 0.1;
    // Idle connections above minSize are closed after this.
    std::chrono::milliseconds maxIdle = 10min;
    // Checkout validation: a no-round-trip socket check always; an empty-query ping only when the
    // connection has been idle longer than this (HikariCP uses 500 ms, pgx 1 s).
    std::chrono::milliseconds pingAfterIdle = 1s;
    std::chrono::milliseconds validationTimeout = 5s;
    std::chrono::milliseconds leakThreshold = 60s; // 0 disables leak detection
    std::chrono::milliseconds housekeepingInterval = 1s;
    std::chrono::milliseconds reconnectBackoffInitial = 100ms;
    std::chrono::milliseconds reconnectBackoffMax = 30s;

    StatementTimeoutMode statementTimeoutMode = StatementTimeoutMode::Automatic;
    std::chrono::milliseconds statementTimeout = 30s; // the guide's 30 s

    // The mode actually used once Automatic is resolved for the endpoint role.
    StatementTimeoutMode effectiveStatementTimeoutMode() const;

    // Rejects contradictions (min > max, max <= 0, SET on checkout through a pooler, ...)
    // with a message that names the setting and the value.
    std::optional<DbError> validate() const;

    // The guide's profiles: local development 5/20, serverless production 2/10; both with a 30 s
    // statement_timeout.
    static PoolConfig forProfile(PoolProfile profile);

    // DATABASE_URL, DATABASE_POOL_MIN_SIZE, DATABASE_POOL_MAX_SIZE on top of `base`. Values that
    // are not whole numbers, negative, or a max of 0 are refused with a message naming the
    // variable and its value. DATABASE_URL may be empty: libpq's own PG* variables, service files
    // and pgpass then apply as usual.
    static Result<PoolConfig, DbError> fromEnvironment(const QProcessEnvironment &env,
                                                       PoolConfig base);
};

QString statementTimeoutModeName(StatementTimeoutMode mode);

} // namespace poolscope
