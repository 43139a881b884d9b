#pragma once

#include "core/db/connection.h"

#include <functional>
#include <memory>

namespace poolscope {

class PoolShared;
struct PooledConnection;

// Exclusive use of one pooled connection. RAII: the destructor always returns the connection to
// its pool - also during stack unwinding - where it is checked (open transaction -> ROLLBACK,
// broken -> discarded, past its lifetime -> closed) before anyone else gets it. Move-only; use it
// from one thread at a time. A lease may outlive the ConnectionPool object: the connection is then
// closed on return.
class Lease
{
public:
    Lease() = default;
    Lease(Lease &&other) noexcept;
    Lease &operator=(Lease &&other) noexcept;
    ~Lease();

    bool isValid() const { return m_connection != nullptr; }
    Connection &connection();
    Connection *operator->() { return &connection(); }

    // One statement with the pool's client-side deadline (statement_timeout plus a grace period,
    // so the server's timeout fires first; a deadline overrun discards the connection).
    Result<QueryResult, DbError> exec(const QString &sql);

    // Runs `body` inside BEGIN ... COMMIT. In SET LOCAL mode the transaction starts with
    // SET LOCAL statement_timeout in the same round trip as BEGIN: scoped to this transaction,
    // so it cannot leak to other clients of a transaction pooler. `body` returning an error, or
    // throwing, rolls back.
    std::optional<DbError>
    transaction(const std::function<std::optional<DbError>(Connection &)> &body);

    // Returns the connection now instead of at destruction.
    void release();

private:
    friend class PoolShared;
    Lease(std::shared_ptr<PoolShared> pool, std::unique_ptr<PooledConnection> connection);
    std::shared_ptr<PoolShared> m_pool;
    std::unique_ptr<PooledConnection> m_connection;
};

} // namespace poolscope
