#pragma once

#include <QString>
#include <QStringList>

#include <sys/types.h>

#include <functional>
#include <memory>

namespace poolscope::testing {

class ServerChild;

// A PostgreSQL 15 + PgBouncer set up the way an operator's production server is, started without
// any of PoolScope's own sandbox code, so that PoolScope meets a server it did not start:
//
//   - PostgreSQL on 127.0.0.1 (a free port), password_encryption = scram-sha-256, pg_hba with
//     scram-sha-256 for every TCP connection and one Unix-socket `peer` line (mapped from the
//     invoking user) for the bootstrap superuser `postgres`, which only this fixture uses, for
//     set-up and admin queries - like `sudo -u postgres psql` on a real host.
//   - Roles: `monitor` (LOGIN, pg_monitor, nothing else), `operator` (LOGIN, pg_monitor and
//     pg_signal_backend: the variant that may cancel and terminate), `app` (LOGIN, owns `appdb`).
//   - PgBouncer on 127.0.0.1 (a free port): auth_type scram-sha-256 with an auth_file holding the
//     SCRAM secrets read back from pg_authid, stats_users = monitor and operator, transaction
//     pooling, databases appdb and postgres.
//   - Passwords are random per run and reach clients only through passFile(), a 0600 pgpass file:
//     no URI or conninfo returned here carries one. password() exists for the tests that must
//     type one (the prompt) or put it in PGPASSWORD.
//
// Both servers run as the `postgres` system user when this process is root (they refuse root),
// as the invoking user otherwise, each with PR_SET_PDEATHSIG(SIGKILL) so that they die with the
// thread that started them even if the test crashes.
//
// Thread and ownership contract: create, use and destroy on one thread (the test's main thread);
// the servers are that thread's children. RAII: the destructor stops PgBouncer and PostgreSQL
// (immediate shutdown, then SIGKILL), reaps them and removes the temporary directory. Not
// copyable or movable.
class ProductionServer
{
public:
    static constexpr const char *kMonitorRole = "monitor";
    static constexpr const char *kOperatorRole = "operator";
    static constexpr const char *kAppRole = "app";
    static constexpr const char *kAppDatabase = "appdb";

    ProductionServer();
    ~ProductionServer();
    ProductionServer(const ProductionServer &) = delete;
    ProductionServer &operator=(const ProductionServer &) = delete;

    // initdb, PostgreSQL, roles, PgBouncer. False with errorString() on failure (use with
    // QVERIFY2); whatever started is stopped again.
    bool start();
    const QString &errorString() const { return m_error; }

    // A real restart, in two halves: fast shutdown (SIGINT, what `pg_ctl stop -m fast` sends) /
    // start again on the same port with the same data. False with errorString() on failure.
    bool stopPostgres();
    bool startPostgres();
    // PgBouncer: immediate shutdown (SIGTERM) / start again on the same port.
    bool stopPgBouncer();
    bool startPgBouncer();
    bool postgresRunning() const;
    bool pgBouncerRunning() const;

    int postgresPort() const { return m_postgresPort; }
    int bouncerPort() const { return m_bouncerPort; }
    const QString &directory() const { return m_directory; }
    const QString &passFile() const { return m_passFile; }
    QString password(const QString &role) const;
    QStringList passwords() const; // every generated password: never in a log or an output

    // postgresql://<role>@127.0.0.1:<port>/<database>, straight to PostgreSQL / through PgBouncer.
    QString directUri(const QString &role,
                      const QString &database = QLatin1String(kAppDatabase)) const;
    QString pooledUri(const QString &role,
                      const QString &database = QLatin1String(kAppDatabase)) const;
    // key=value conninfo of PgBouncer's console (dbname=pgbouncer) for a stats user.
    QString consoleConninfo(const QString &role = QLatin1String(kMonitorRole)) const;
    // The bootstrap superuser over the Unix socket (peer authentication); for the fixture's and
    // the tests' own admin queries only, never for PoolScope.
    QString adminConninfo() const;

    // First column of the first row of `sql` run as the bootstrap superuser (null on failure,
    // with the message in *error).
    QString adminQuery(const QString &sql, QString *error = nullptr) const;
    // Client backends on PostgreSQL with this application_name; -1 when the query fails.
    int backendsNamed(const QString &applicationName) const;
    // PgBouncer clients with this application_name (SHOW CLIENTS as `monitor`), on `database`
    // when one is given; -1 on failure.
    int bouncerClientsNamed(const QString &applicationName, const QString &database = {}) const;

private:
    bool fail(const QString &message);
    bool createDirectories();
    bool initializeCluster();
    bool writePostgresConfig();
    bool appendPostgresPort();
    bool startOnFreePort(int &port, const std::function<bool()> &configureAndStart,
                         std::unique_ptr<ServerChild> &child);
    bool createRoles();
    bool writePgBouncerFiles();
    bool runToCompletion(const QString &name, const QStringList &argv);
    bool waitUntilAccepting(ServerChild &child, int port);
    void stopAll();

    QString m_error;
    QString m_directory; // root of everything; the servers' part is serverDir()
    QString m_passFile;
    int m_postgresPort = 0;
    int m_bouncerPort = 0;
    uid_t m_uid = 0; // the servers' identity
    gid_t m_gid = 0;
    bool m_switchUser = false;
    QStringList m_roles;
    QStringList m_passwords; // parallel to m_roles
    std::unique_ptr<ServerChild> m_postgres;
    std::unique_ptr<ServerChild> m_bouncer;

    QString serverDir() const { return m_directory + QLatin1String("/server"); }
};

} // namespace poolscope::testing
