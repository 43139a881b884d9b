#pragma once

#include "core/util/result.h"

#include <QString>

#include <chrono>
#include <memory>

namespace poolscope::sandbox {

struct SandboxOptions
{
    int maxConnections = 100; // PostgreSQL max_connections
    int superuserReservedConnections = 3;
    int poolSize = 20;               // PgBouncer default_pool_size (per user/database pair)
    int maxClientConnections = 2000; // PgBouncer max_client_conn
    std::chrono::milliseconds startTimeout { 30000 }; // whole start(), and each startPostgres()
    QString postgresBinDirectory;                     // empty: /usr/lib/postgresql/15/bin
    QString pgbouncerProgram;                         // empty: /usr/sbin/pgbouncer
    // > 0: a LatencyRelay (core/sandbox/latencyrelay.h) in front of PostgreSQL and one in front of
    // PgBouncer delay the data by this many ms in each direction; every URI and postgresPort/
    // bouncerPort then point at the relays. The TCP handshake itself is not delayed.
    int latencyMs = 0;
    // TLS like a hosted endpoint: a throwaway CA and server certificate
    // (core/sandbox/sandboxtls.h), ssl = on in PostgreSQL, client TLS required by PgBouncer, and
    // every URI with sslmode=verify-full&sslrootcert=<the CA>. Off: plain TCP (only to measure
    // TLS's own cost).
    bool tls = true;
    QString opensslProgram; // empty: openssl from PATH
};

// Everything a client needs to reach the sandbox. No field carries a password: they live only in
// the pgpass file `passFile` (mode 0600), which libpq reads through PGPASSFILE or passfile=.
struct SandboxEndpoints
{
    QString directUri;        // app role -> PostgreSQL, e.g. postgresql://app@127.0.0.1:P/app
    QString pooledUri;        // app role -> PgBouncer (transaction mode)
    QString adminUri;         // superuser -> PostgreSQL (tests: pg_terminate_backend etc.)
    QString poolerConsoleUri; // stats user -> PgBouncer admin console (dbname=pgbouncer)
    QString passFile;         // pgpass file with every role's password
    QString appUser;          // "app"
    QString database;         // "app"
    int postgresPort = 0;     // where clients connect: the relay's port when latencyMs > 0
    int bouncerPort = 0;
    int postgresPortBehindRelay = 0; // the servers' own ports (equal to the above without relay)
    int bouncerPortBehindRelay = 0;
    int latencyMs = 0;      // the relays' delay each way; 0: no relay
    QString caCertificate;  // the sandbox CA (sslrootcert of every URI); empty without TLS
    int maxConnections = 0; // as started (SandboxOptions), for displays and sizing
    int poolSize = 0;       // PgBouncer default_pool_size
    qint64 postgresPid = 0;
    qint64 bouncerPid = 0;
    QString directory; // the temp dir holding data, sockets, configs and logs
};

struct SandboxError
{
    QString message; // what failed and why, e.g. the tail of the server's log
};

class SandboxPrivate;

// A throwaway PostgreSQL 15 cluster plus a PgBouncer (transaction mode) in front of it, on
// 127.0.0.1 with free ports, in a private temp directory, both speaking TLS with a certificate
// from a throwaway CA (see SandboxOptions::tls).
//
// Ownership and lifetime contract:
//  - Both servers are child processes of this process, run in the foreground (never daemonised)
//    as the `postgres` user when running as root. Each child has PR_SET_PDEATHSIG(SIGKILL) set, so
//    if this process dies - even by SIGKILL - the servers die too; a small sentinel process removes
//    the temp directory in that case.
//  - PR_SET_PDEATHSIG fires when the *thread* that started the child exits. Call start() and
//    startPostgres() on a thread that outlives the Sandbox (normally the main thread).
//  - Passwords are random per sandbox, registered with registerSecret() (so logs redact them) and
//    written only to the pgpass file (owned by the invoking user) and to server-side files inside
//    the private directory.
//  - The destructor stops both servers (PgBouncer, then a fast PostgreSQL shutdown) and removes the
//    directory. Not thread-safe: use one Sandbox from one thread.
class Sandbox
{
public:
    Sandbox();
    ~Sandbox();
    Sandbox(const Sandbox &) = delete;
    Sandbox &operator=(const Sandbox &) = delete;

    // Blocks until both servers accept connections (about 1 s here) or fails with the reason.
    Result<SandboxEndpoints, SandboxError> start(const SandboxOptions &options = {});

    bool isRunning() const;
    const SandboxEndpoints &endpoints() const;

    // For outage tests: stop PostgreSQL (fast shutdown: clients get 57P01), then start it again on
    // the same port and data directory. PgBouncer keeps running.
    Result<bool, SandboxError> stopPostgres();
    Result<bool, SandboxError> startPostgres();

    // Stops everything now (also done by the destructor). Idempotent.
    void stop();

private:
    std::unique_ptr<SandboxPrivate> d;
};

} // namespace poolscope::sandbox
