#pragma once

#include "core/pool/lease.h"
#include "core/pool/poolconfig.h"
#include "core/pool/poolstats.h"

#include <memory>
#include <optional>

namespace poolscope {

// A libpq connection pool.
//
// Behaviour (see README "The pool"):
//  - acquire() waits at most its timeout (default PoolConfig::acquireTimeout, never infinite);
//    waiters are served strictly first come, first served: a returned connection is handed to the
//    oldest waiter, and new callers never overtake waiting ones.
//  - A background maintainer thread opens connections - several concurrently, multiplexed with
//    non-blocking libpq connects - to reach minSize and to serve waiters, up to maxSize; retries
//    failed connects with exponential backoff and jitter (health() = Reconnecting meanwhile);
//    closes idle connections above minSize after maxIdle and any connection past its (jittered)
//    maxLifetime; checks idle sockets for connections the server closed; flags leases held past
//    leakThreshold, naming the label their holder gave.
//  - Checkout validation: a no-round-trip socket check on every checkout, an empty-query ping
//    after pingAfterIdle; a dead connection is discarded and never handed out.
//  - Connection-class errors (53300 on connect excepted: those are the pool's own connects)
//    discard the connection; non-transient connect errors (wrong password, missing database)
//    fail waiting callers at once instead of letting them time out.
//
// Thread contract: every public member is thread-safe. The maintainer thread never calls back
// into user code. Destroying the pool stops the maintainer, fails waiters with PoolClosed and
// closes idle connections; leases still out close their connection when returned.
class ConnectionPool
{
public:
    // Validates the configuration and the conninfo (parsed by libpq), then starts filling.
    static Result<std::unique_ptr<ConnectionPool>, DbError> create(const PoolConfig &config);
    ~ConnectionPool();
    ConnectionPool(const ConnectionPool &) = delete;
    ConnectionPool &operator=(const ConnectionPool &) = delete;

    // `label` names the holder in leak reports and logs (e.g. "sampler", "request 42").
    Result<Lease, DbError> acquire(const QString &label = {},
                                   std::optional<std::chrono::milliseconds> timeout = std::nullopt);

    PoolStats stats() const;
    const PoolConfig &config() const;
    // The conninfo as libpq will use it (application_name, options), without the password.
    QString effectiveConninfoRedacted() const;

    // Blocks until at least `count` connections are open and idle or in use, or the timeout passes.
    bool waitUntilSize(int count, std::chrono::milliseconds timeout) const;

    void close();

private:
    explicit ConnectionPool(std::shared_ptr<PoolShared> shared);
    std::shared_ptr<PoolShared> m_shared;
};

} // namespace poolscope
