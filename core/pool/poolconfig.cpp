#include "core/pool/poolconfig.h"

namespace poolscope {
namespace {

DbError invalid(const QString &message)
{
    return makeError(ErrorKind::InvalidConfiguration, message);
}

// Whole, non-negative numbers only: "10", not "10.5", "ten", "-1" or "".
std::optional<int> parseCount(const QString &text)
{
    bool ok = false;
    const int v = text.trimmed().toInt(&ok);
    if (!ok || v < 0)
        return std::nullopt;
    return v;
}

} // namespace

StatementTimeoutMode PoolConfig::effectiveStatementTimeoutMode() const
{
    if (statementTimeoutMode != StatementTimeoutMode::Automatic)
        return statementTimeoutMode;
    if (statementTimeout.count() <= 0)
        return StatementTimeoutMode::Off;
    return endpointRole == EndpointRole::Direct ? StatementTimeoutMode::StartupParameter
                                                : StatementTimeoutMode::SetLocalPerTransaction;
}

std::optional<DbError> PoolConfig::validate() const
{
    if (maxSize <= 0)
        return invalid(QStringLiteral("pool max size must be at least 1 (got %1)").arg(maxSize));
    if (minSize < 0)
        return invalid(QStringLiteral("pool min size must not be negative (got %1)").arg(minSize));
    if (minSize > maxSize)
        return invalid(QStringLiteral("pool min size %1 is larger than max size %2")
                           .arg(minSize)
                           .arg(maxSize));
    if (acquireTimeout.count() <= 0)
        return invalid(
            QStringLiteral("acquire timeout must be positive (got %1 ms); it is never infinite")
                .arg(acquireTimeout.count()));
    if (connectTimeout.count() <= 0)
        return invalid(QStringLiteral("connect timeout must be positive (got %1 ms)")
                           .arg(connectTimeout.count()));
    if (lifetimeJitter < 0 || lifetimeJitter >= 1)
        return invalid(
            QStringLiteral("lifetime jitter must be in [0, 1) (got %1)").arg(lifetimeJitter));
    if (statementTimeout.count() < 0)
        return invalid(QStringLiteral("statement_timeout must not be negative (got %1 ms)")
                           .arg(statementTimeout.count()));
    if (endpointRole == EndpointRole::Pooled) {
        switch (statementTimeoutMode) {
        case StatementTimeoutMode::StartupParameter:
            return invalid(QStringLiteral(
                "statement_timeout as a startup parameter does not work on a pooled endpoint: "
                "PgBouncer and Neon's pooler reject it (unsupported startup parameter). Use SET "
                "LOCAL "
                "per transaction."));
        case StatementTimeoutMode::SetOnCheckout:
            return invalid(QStringLiteral(
                "SET statement_timeout on checkout is unsafe on a pooled endpoint: in transaction "
                "mode the SET lands on whichever server connection the pooler picked and leaks to "
                "other clients. Use SET LOCAL per transaction."));
        default:
            break;
        }
    }
    return std::nullopt;
}

PoolConfig PoolConfig::forProfile(PoolProfile profile)
{
    PoolConfig config;
    if (profile == PoolProfile::ServerlessProduction) {
        config.minSize = 2;
        config.maxSize = 10;
        // Serverless instances are frozen between invocations: short idle cutoffs keep them from
        // holding server slots they no longer use.
        config.maxIdle = 60s;
    }
    return config;
}

Result<PoolConfig, DbError> PoolConfig::fromEnvironment(const QProcessEnvironment &env,
                                                        PoolConfig base)
{
    if (env.contains(QStringLiteral("DATABASE_URL")))
        base.conninfo = env.value(QStringLiteral("DATABASE_URL"));

    struct Var
    {
        const char *name;
        int *target;
    };
    for (const Var &var : { Var { "DATABASE_POOL_MIN_SIZE", &base.minSize },
                            Var { "DATABASE_POOL_MAX_SIZE", &base.maxSize } }) {
        const QString name = QString::fromLatin1(var.name);
        if (!env.contains(name))
            continue;
        const QString raw = env.value(name);
        const auto value = parseCount(raw);
        if (!value)
            return invalid(
                QStringLiteral("%1=\"%2\" is not a valid pool size: use a whole number, 0 or more")
                    .arg(name, raw));
        *var.target = *value;
    }
    if (env.contains(QStringLiteral("DATABASE_POOL_MAX_SIZE")) && base.maxSize == 0)
        return invalid(
            QStringLiteral("DATABASE_POOL_MAX_SIZE=0: the pool needs at least 1 connection"));
    if (base.minSize > base.maxSize)
        return invalid(
            QStringLiteral("DATABASE_POOL_MIN_SIZE=%1 is larger than DATABASE_POOL_MAX_SIZE=%2")
                .arg(base.minSize)
                .arg(base.maxSize));
    if (auto error = base.validate())
        return *error;
    return base;
}

QString statementTimeoutModeName(StatementTimeoutMode mode)
{
    switch (mode) {
    case StatementTimeoutMode::Automatic:
        return QStringLiteral("automatic");
    case StatementTimeoutMode::StartupParameter:
        return QStringLiteral("startup-parameter");
    case StatementTimeoutMode::SetOnCheckout:
        return QStringLiteral("set-on-checkout");
    case StatementTimeoutMode::SetLocalPerTransaction:
        return QStringLiteral("set-local");
    case StatementTimeoutMode::Off:
        return QStringLiteral("off");
    }
    return {};
}

} // namespace poolscope
