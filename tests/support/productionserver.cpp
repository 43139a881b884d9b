#include "tests/support/productionserver.h"

#include "tests/support/sandboxfixture.h"
#include "tests/support/serverchild.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QRandomGenerator>
#include <QThread>

#include <libpq-fe.h>

#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace poolscope::testing {
namespace {

const QString kBinDir = QStringLiteral("/usr/lib/postgresql/15/bin/");
const QString kPgBouncer = QStringLiteral("/usr/sbin/pgbouncer");
const QString kSuperuser = QStringLiteral("postgres");

QString randomPassword()
{
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    QString password;
    for (int i = 0; i < 24; ++i)
        password += QLatin1Char(alphabet[QRandomGenerator::system()->bounded(62)]);
    return password;
}

// A loopback port nobody listens on right now (the server binds it a moment later).
int freePort()
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof addr;
    int port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) == 0
        && ::getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &length) == 0)
        port = ntohs(addr.sin_port);
    ::close(fd);
    return port;
}

QString quoted(const QString &value)
{
    return QLatin1Char('\'') + QString(value).replace(QLatin1Char('\''), QLatin1String("''"))
        + QLatin1Char('\'');
}

} // namespace

ProductionServer::ProductionServer() = default;

ProductionServer::~ProductionServer()
{
    stopAll();
}

void ProductionServer::stopAll()
{
    if (m_bouncer)
        m_bouncer->stop(SIGTERM, 5000);
    if (m_postgres)
        m_postgres->stop(SIGQUIT, 10000); // immediate shutdown: the postmaster ends its backends
    m_bouncer.reset();
    m_postgres.reset();
    if (!m_directory.isEmpty())
        QDir(m_directory).removeRecursively();
    m_directory.clear();
}

bool ProductionServer::fail(const QString &message)
{
    m_error = message;
    return false;
}

QString ProductionServer::password(const QString &role) const
{
    const qsizetype index = m_roles.indexOf(role);
    return index < 0 ? QString() : m_passwords.at(index);
}

QStringList ProductionServer::passwords() const
{
    return m_passwords;
}

bool ProductionServer::createDirectories()
{
    if (::geteuid() == 0) {
        const passwd *pw = ::getpwnam("postgres");
        if (!pw)
            return fail(QStringLiteral("running as root but there is no `postgres` user"));
        m_switchUser = true;
        m_uid = pw->pw_uid;
        m_gid = pw->pw_gid;
    } else {
        m_uid = ::geteuid();
        m_gid = ::getegid();
    }
    QByteArray pattern = QDir::tempPath().toLocal8Bit() + "/poolscope-prod-XXXXXX";
    if (!::mkdtemp(pattern.data()))
        return fail(QStringLiteral("mkdtemp failed"));
    m_directory = QFile::decodeName(pattern);
    // The servers' part belongs to their user; the client part (pgpass) to this process.
    const QByteArray server = QFile::encodeName(serverDir());
    const QByteArray client = QFile::encodeName(m_directory + QLatin1String("/client"));
    if (::chmod(pattern.constData(), 0711) != 0 || ::mkdir(server.constData(), 0700) != 0
        || ::chown(server.constData(), m_uid, m_gid) != 0 || ::mkdir(client.constData(), 0700) != 0)
        return fail(QStringLiteral("cannot create the directories under %1").arg(m_directory));
    return true;
}

bool ProductionServer::runToCompletion(const QString &name, const QStringList &argv)
{
    ServerChild child(name, argv, serverDir() + QLatin1Char('/') + name + QLatin1String(".log"),
                      serverDir());
    QString error;
    if (!child.start(m_switchUser, m_uid, m_gid, &error))
        return fail(error);
    if (!child.waitExit(120000) || !child.exitedCleanly())
        return fail(QStringLiteral("%1 failed:\n%2").arg(name, child.logTail()));
    return true;
}

namespace {

// Writes a file with `mode`, owned by uid/gid.
bool writeFile(const QString &path, const QByteArray &data, mode_t mode, uid_t uid, gid_t gid)
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) || file.write(data) != data.size())
        return false;
    file.close();
    const QByteArray name = QFile::encodeName(path);
    return ::chmod(name.constData(), mode) == 0 && ::chown(name.constData(), uid, gid) == 0;
}

} // namespace

bool ProductionServer::initializeCluster()
{
    return runToCompletion(QStringLiteral("initdb"),
                           { kBinDir + QLatin1String("initdb"), QStringLiteral("-D"),
                             serverDir() + QLatin1String("/data"), QStringLiteral("-U"), kSuperuser,
                             QStringLiteral("-E"), QStringLiteral("UTF8"),
                             QStringLiteral("--locale=C"), QStringLiteral("--no-sync"),
                             QStringLiteral("--auth-local=peer"),
                             QStringLiteral("--auth-host=scram-sha-256") });
}

bool ProductionServer::writePostgresConfig()
{
    const QString data = serverDir() + QLatin1String("/data/");
    // The invoking user (root on CI, like `sudo -u postgres psql`) maps to the superuser over the
    // socket; nothing is trusted, and TCP always needs a SCRAM password.
    const passwd *self = ::getpwuid(::geteuid());
    const QByteArray invoking = self ? QByteArray(self->pw_name) : QByteArray("root");
    const QByteArray hba = "# TYPE  DATABASE  USER      ADDRESS       METHOD\n"
                           "local   all       postgres                peer map=fixture_admin\n"
                           "host    all       all       127.0.0.1/32  scram-sha-256\n";
    const QByteArray ident =
        "fixture_admin  " + invoking + "  postgres\n" + "fixture_admin  postgres  postgres\n";
    const QByteArray conf = QStringLiteral("\n# --- production-like test server ---\n"
                                           "listen_addresses = '127.0.0.1'\n"
                                           "unix_socket_directories = %1\n"
                                           "unix_socket_permissions = 0700\n"
                                           "password_encryption = 'scram-sha-256'\n"
                                           "max_connections = 60\n"
                                           "lc_messages = 'C'\n"
                                           "fsync = off\n")
                                .arg(quoted(serverDir()))
                                .toUtf8();
    QFile file(data + QLatin1String("postgresql.conf"));
    if (!writeFile(data + QLatin1String("pg_hba.conf"), hba, 0600, m_uid, m_gid)
        || !writeFile(data + QLatin1String("pg_ident.conf"), ident, 0600, m_uid, m_gid)
        || !file.open(QIODevice::Append) || file.write(conf) != conf.size())
        return fail(QStringLiteral("cannot write the PostgreSQL configuration"));
    return true;
}

bool ProductionServer::waitUntilAccepting(ServerChild &child, int port)
{
    const QByteArray ping = QStringLiteral("host=127.0.0.1 port=%1 dbname=postgres user=%2 "
                                           "connect_timeout=2")
                                .arg(port)
                                .arg(QLatin1String(kMonitorRole))
                                .toUtf8();
    const QDeadlineTimer deadline(60000);
    while (!deadline.hasExpired()) {
        if (!child.running())
            return fail(QStringLiteral("%1 exited during start-up:\n%2")
                            .arg(child.name(), child.logTail()));
        if (PQping(ping.constData()) == PQPING_OK)
            return true;
        QThread::msleep(20);
    }
    return fail(QStringLiteral("%1 did not accept connections in time:\n%2")
                    .arg(child.name(), child.logTail()));
}

bool ProductionServer::startPostgres()
{
    if (postgresRunning())
        return true;
    m_postgres = std::make_unique<ServerChild>(
        QStringLiteral("postgres"),
        QStringList { kBinDir + QLatin1String("postgres"), QStringLiteral("-D"),
                      serverDir() + QLatin1String("/data") },
        serverDir() + QLatin1String("/postgres.log"), serverDir());
    QString error;
    if (!m_postgres->start(m_switchUser, m_uid, m_gid, &error))
        return fail(error);
    return waitUntilAccepting(*m_postgres, m_postgresPort);
}

bool ProductionServer::stopPostgres()
{
    if (!m_postgres)
        return true;
    m_postgres->stop(SIGINT, 30000); // fast shutdown: what `pg_ctl stop` sends by default
    m_postgres.reset();
    return true;
}

bool ProductionServer::createRoles()
{
    using ConnPtr = std::unique_ptr<PGconn, decltype(&PQfinish)>;
    ConnPtr conn(PQconnectdb(adminConninfo().toUtf8().constData()), &PQfinish);
    if (PQstatus(conn.get()) != CONNECTION_OK)
        return fail(QStringLiteral("admin connection: %1")
                        .arg(QString::fromUtf8(PQerrorMessage(conn.get()))));
    auto exec = [&](const QString &sql) {
        std::unique_ptr<PGresult, decltype(&PQclear)> r(
            PQexec(conn.get(), sql.toUtf8().constData()), &PQclear);
        const auto status = PQresultStatus(r.get());
        return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
    };
    QStringList statements = {
        QStringLiteral("CREATE ROLE monitor LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE"),
        QStringLiteral("GRANT pg_monitor TO monitor"),
        QStringLiteral("CREATE ROLE operator LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE"),
        QStringLiteral("GRANT pg_monitor, pg_signal_backend TO operator"),
        QStringLiteral("CREATE ROLE app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE"),
        QStringLiteral("CREATE DATABASE appdb OWNER app"),
    };
    m_roles = { QLatin1String(kMonitorRole), QLatin1String(kOperatorRole),
                QLatin1String(kAppRole) };
    m_passwords.clear();
    for (const QString &role : std::as_const(m_roles)) {
        // Hashed here, like psql's \password: the plain password never reaches the server.
        m_passwords << randomPassword();
        char *secret = PQencryptPasswordConn(conn.get(), m_passwords.last().toUtf8().constData(),
                                             role.toUtf8().constData(), "scram-sha-256");
        if (!secret)
            return fail(QStringLiteral("PQencryptPasswordConn failed"));
        statements
            << QStringLiteral("ALTER ROLE %1 PASSWORD '%2'").arg(role, QString::fromLatin1(secret));
        PQfreemem(secret);
    }
    for (const QString &sql : std::as_const(statements)) {
        if (!exec(sql))
            return fail(QStringLiteral("set-up statement failed: %1")
                            .arg(QString::fromUtf8(PQerrorMessage(conn.get()))));
    }
    return true;
}

bool ProductionServer::writePgBouncerFiles()
{
    // The auth_file holds the SCRAM secrets as the server stores them, so PgBouncer can both
    // check clients and log in to PostgreSQL with their keys; no plain password on disk.
    QByteArray userlist;
    for (const QString &role : std::as_const(m_roles)) {
        const QString secret =
            adminQuery(QStringLiteral("SELECT rolpassword FROM pg_authid WHERE rolname = %1")
                           .arg(quoted(role)));
        if (!secret.startsWith(QLatin1String("SCRAM-SHA-256$")))
            return fail(QStringLiteral("no SCRAM secret for %1 in pg_authid").arg(role));
        userlist += '"' + role.toUtf8() + "\" \"" + secret.toUtf8() + "\"\n";
    }
    const QByteArray ini = QStringLiteral("[databases]\n"
                                          "appdb = host=127.0.0.1 port=%1 dbname=appdb\n"
                                          "postgres = host=127.0.0.1 port=%1 dbname=postgres\n"
                                          "\n"
                                          "[pgbouncer]\n"
                                          "listen_addr = 127.0.0.1\n"
                                          "listen_port = %2\n"
                                          "unix_socket_dir =\n"
                                          "auth_type = scram-sha-256\n"
                                          "auth_file = %3/userlist.txt\n"
                                          "stats_users = monitor, operator\n"
                                          "pool_mode = transaction\n"
                                          "default_pool_size = 10\n"
                                          "max_client_conn = 200\n"
                                          "ignore_startup_parameters = extra_float_digits\n"
                                          "server_login_retry = 1\n")
                               .arg(m_postgresPort)
                               .arg(m_bouncerPort)
                               .arg(serverDir())
                               .toUtf8();
    QByteArray pgpass;
    for (const char *host : { "127.0.0.1", "localhost" }) {
        for (int port : { m_postgresPort, m_bouncerPort }) {
            for (qsizetype i = 0; i < m_roles.size(); ++i)
                pgpass += QStringLiteral("%1:%2:*:%3:%4\n")
                              .arg(QLatin1String(host))
                              .arg(port)
                              .arg(m_roles.at(i), m_passwords.at(i))
                              .toUtf8();
        }
    }
    m_passFile = m_directory + QLatin1String("/client/pgpass");
    if (!writeFile(serverDir() + QLatin1String("/userlist.txt"), userlist, 0600, m_uid, m_gid)
        || !writeFile(serverDir() + QLatin1String("/pgbouncer.ini"), ini, 0600, m_uid, m_gid)
        || !writeFile(m_passFile, pgpass, 0600, ::geteuid(), ::getegid()))
        return fail(QStringLiteral("cannot write PgBouncer's files or the pgpass file"));
    return true;
}

bool ProductionServer::startPgBouncer()
{
    if (pgBouncerRunning())
        return true;
    m_bouncer = std::make_unique<ServerChild>(
        QStringLiteral("pgbouncer"),
        QStringList { kPgBouncer, serverDir() + QLatin1String("/pgbouncer.ini") },
        serverDir() + QLatin1String("/pgbouncer.log"), serverDir());
    QString error;
    if (!m_bouncer->start(m_switchUser, m_uid, m_gid, &error))
        return fail(error);
    return waitUntilAccepting(*m_bouncer, m_bouncerPort);
}

bool ProductionServer::stopPgBouncer()
{
    if (m_bouncer)
        m_bouncer->stop(SIGTERM, 10000); // immediate shutdown
    m_bouncer.reset();
    return true;
}

bool ProductionServer::postgresRunning() const
{
    return m_postgres && m_postgres->running();
}

bool ProductionServer::pgBouncerRunning() const
{
    return m_bouncer && m_bouncer->running();
}

bool ProductionServer::appendPostgresPort()
{
    // The last `port` line wins, so a retry on another port simply appends one more.
    QFile file(serverDir() + QLatin1String("/data/postgresql.conf"));
    const QByteArray line = "port = " + QByteArray::number(m_postgresPort) + '\n';
    if (!file.open(QIODevice::Append) || file.write(line) != line.size())
        return fail(QStringLiteral("cannot write the port to postgresql.conf"));
    return true;
}

bool ProductionServer::startOnFreePort(int &port, const std::function<bool()> &configureAndStart,
                                       std::unique_ptr<ServerChild> &child)
{
    // The port is free when chosen, but a parallel test may bind it a moment later: try another.
    for (int attempt = 1;; ++attempt) {
        port = freePort();
        if (port == 0)
            return fail(QStringLiteral("no free loopback port"));
        if (configureAndStart())
            return true;
        const bool taken =
            child && child->logTail().contains(QLatin1String("Address already in use"));
        if (!taken || attempt == 5)
            return false;
        child.reset();
    }
}

bool ProductionServer::start()
{
    stopAll();
    m_error.clear();
    const bool ok =
        createDirectories() && initializeCluster() && writePostgresConfig()
        && startOnFreePort(
            m_postgresPort, [this] { return appendPostgresPort() && startPostgres(); }, m_postgres)
        && createRoles()
        && startOnFreePort(
            m_bouncerPort, [this] { return writePgBouncerFiles() && startPgBouncer(); }, m_bouncer);
    if (!ok) {
        const QString error = m_error;
        stopAll();
        m_error = error;
    }
    return ok;
}

QString ProductionServer::directUri(const QString &role, const QString &database) const
{
    return QStringLiteral("postgresql://%1@127.0.0.1:%2/%3")
        .arg(role)
        .arg(m_postgresPort)
        .arg(database);
}

QString ProductionServer::pooledUri(const QString &role, const QString &database) const
{
    return QStringLiteral("postgresql://%1@127.0.0.1:%2/%3")
        .arg(role)
        .arg(m_bouncerPort)
        .arg(database);
}

QString ProductionServer::consoleConninfo(const QString &role) const
{
    return QStringLiteral("host=127.0.0.1 port=%1 dbname=pgbouncer user=%2")
        .arg(m_bouncerPort)
        .arg(role);
}

QString ProductionServer::adminConninfo() const
{
    return QStringLiteral("host=%1 port=%2 dbname=postgres user=postgres")
        .arg(serverDir())
        .arg(m_postgresPort);
}

QString ProductionServer::adminQuery(const QString &sql, QString *error) const
{
    return querySingleValue(adminConninfo(), sql, error);
}

int ProductionServer::backendsNamed(const QString &applicationName) const
{
    bool ok = false;
    const int n = adminQuery(QStringLiteral("SELECT count(*) FROM pg_stat_activity WHERE "
                                            "backend_type = 'client backend' AND "
                                            "application_name = %1")
                                 .arg(quoted(applicationName)))
                      .toInt(&ok);
    return ok ? n : -1;
}

int ProductionServer::bouncerClientsNamed(const QString &applicationName,
                                          const QString &database) const
{
    // The console answers SHOW only (no WHERE): read it with libpq and count here.
    using ConnPtr = std::unique_ptr<PGconn, decltype(&PQfinish)>;
    // Its own passfile: a test may have pointed PGPASSFILE elsewhere (the prompt, PGPASSWORD).
    const QByteArray conninfo =
        (consoleConninfo() + QLatin1String(" application_name=fixture-console passfile=")
         + m_passFile)
            .toUtf8();
    ConnPtr conn(PQconnectdb(conninfo.constData()), &PQfinish);
    if (PQstatus(conn.get()) != CONNECTION_OK)
        return -1;
    std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(conn.get(), "SHOW CLIENTS"), &PQclear);
    if (PQresultStatus(r.get()) != PGRES_TUPLES_OK)
        return -1;
    const int column = PQfnumber(r.get(), "application_name");
    const int databaseColumn = PQfnumber(r.get(), "database");
    if (column < 0 || databaseColumn < 0)
        return -1;
    int count = 0;
    for (int row = 0; row < PQntuples(r.get()); ++row) {
        if (QString::fromUtf8(PQgetvalue(r.get(), row, column)) == applicationName
            && (database.isEmpty()
                || QString::fromUtf8(PQgetvalue(r.get(), row, databaseColumn)) == database))
            ++count;
    }
    return count;
}

} // namespace poolscope::testing
