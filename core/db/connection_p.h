#pragma once

// Private to core: includes libpq.
#include "core/db/dberror.h"

#include <libpq-fe.h>

#include <memory>
#include <optional>

namespace poolscope {

struct PgConnDeleter
{
    void operator()(PGconn *c) const { PQfinish(c); }
};

// The typed error of a failed statement result: its SQLSTATE mapped through the one error table,
// or, without a SQLSTATE (the connection broke), a lost connection with libpq's message (the
// connection's own message when the result has none and `conn` is given).
DbError errorFromResult(const PGresult *r, const PGconn *conn = nullptr);

class ConnectionPrivate
{
public:
    std::unique_ptr<PGconn, PgConnDeleter> conn;
    bool broken = false;
};

} // namespace poolscope
