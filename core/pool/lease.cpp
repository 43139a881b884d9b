#include "core/pool/lease.h"

#include "core/pool/pool_p.h"

namespace poolscope {

Lease::Lease(std::shared_ptr<PoolShared> pool, std::unique_ptr<PooledConnection> connection)
    : m_pool(std::move(pool))
    , m_connection(std::move(connection))
{
}

Lease::Lease(Lease &&other) noexcept = default;

Lease &Lease::operator=(Lease &&other) noexcept
{
    if (this != &other) {
        release();
        m_pool = std::move(other.m_pool);
        m_connection = std::move(other.m_connection);
    }
    return *this;
}

Lease::~Lease()
{
    release();
}

void Lease::release()
{
    if (m_pool && m_connection)
        m_pool->release(std::move(m_connection));
    m_pool.reset();
}

Connection &Lease::connection()
{
    return m_connection->connection;
}

Result<QueryResult, DbError> Lease::exec(const QString &sql)
{
    return m_connection->connection.exec(sql, m_pool->statementDeadline());
}

std::optional<DbError>
Lease::transaction(const std::function<std::optional<DbError>(Connection &)> &body)
{
    Connection &conn = connection();
    const PoolConfig &config = m_pool->config();
    const auto deadline = m_pool->statementDeadline();

    QString begin = QStringLiteral("BEGIN");
    if (config.effectiveStatementTimeoutMode() == StatementTimeoutMode::SetLocalPerTransaction)
        begin += QStringLiteral("; SET LOCAL statement_timeout = %1")
                     .arg(config.statementTimeout.count());
    if (auto r = conn.exec(begin, deadline); !r)
        return r.error();

    // If `body` throws, the lease's return to the pool rolls the open transaction back.
    if (std::optional<DbError> failed = body(conn)) {
        if (!conn.isBroken())
            (void)conn.exec(QStringLiteral("ROLLBACK"), deadline);
        return failed;
    }
    auto commit = conn.exec(QStringLiteral("COMMIT"), deadline);
    if (!commit)
        return commit.error();
    // COMMIT of a failed transaction "succeeds" with the tag ROLLBACK: report it.
    if (commit->commandStatus() == QLatin1String("ROLLBACK"))
        return makeError(ErrorKind::QueryFailed,
                         QStringLiteral("the transaction failed and was rolled back"));
    return std::nullopt;
}

} // namespace poolscope
