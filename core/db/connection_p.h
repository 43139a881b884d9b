#pragma once

// Private to core: includes libpq.
#include <libpq-fe.h>

#include <optional>

namespace poolscope {

struct PgConnDeleter
{
    void operator()(PGconn *c) const { PQfinish(c); }
};

class ConnectionPrivate
{
public:
    std::unique_ptr<PGconn, PgConnDeleter> conn;
    bool broken = false;
};

} // namespace poolscope
