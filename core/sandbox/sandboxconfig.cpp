#include "core/sandbox/sandboxconfig.h"

#include "core/db/redaction.h"

#include <QFile>
#include <QUrl>

#include <random>

namespace poolscope::sandbox {
namespace {

QString quoted(const QString &value)
{
    QString copy = value;
    return QLatin1Char('\'') + copy.replace(QLatin1Char('\''), QLatin1String("''"))
        + QLatin1Char('\'');
}

} // namespace

QString randomPassword(int length)
{
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    constexpr unsigned alphabetSize = sizeof(alphabet) - 1; // 62
    constexpr unsigned limit = 256 - 256 % alphabetSize;    // 248: keeps the choice uniform

    QString password;
    QFile urandom(QStringLiteral("/dev/urandom"));
    const bool haveUrandom = urandom.open(QIODevice::ReadOnly | QIODevice::Unbuffered);
    std::random_device fallback;
    while (password.size() < length) {
        const QByteArray bytes = haveUrandom ? urandom.read(64) : QByteArray();
        if (bytes.isEmpty()) {
            password += QLatin1Char(alphabet[fallback() % alphabetSize]);
            continue;
        }
        for (char byte : bytes) {
            const auto value = unsigned(static_cast<unsigned char>(byte));
            if (value < limit && password.size() < length)
                password += QLatin1Char(alphabet[value % alphabetSize]);
        }
    }
    return password;
}

SandboxCredentials SandboxCredentials::generate()
{
    SandboxCredentials credentials { randomPassword(), randomPassword(), randomPassword() };
    registerSecret(credentials.app);
    registerSecret(credentials.postgres);
    registerSecret(credentials.stats);
    return credentials;
}

namespace config {

QByteArray postgresqlSettings(const QString &socketDirectory, const SandboxOptions &options,
                              const SandboxTlsFiles *tls)
{
    // pg_hba's `host` lines accept TLS and plain TCP alike; the URIs ask for verify-full.
    const QString ssl = tls ? QStringLiteral("ssl = on\n"
                                             "ssl_cert_file = %1\n"
                                             "ssl_key_file = %2\n")
                                  .arg(quoted(tls->serverCertificate), quoted(tls->serverKey))
                            : QStringLiteral("ssl = off\n");
    return QStringLiteral("\n# --- PoolScope sandbox ---\n"
                          "listen_addresses = '127.0.0.1'\n"
                          "unix_socket_directories = %1\n"
                          "unix_socket_permissions = 0700\n"
                          "max_connections = %2\n"
                          "superuser_reserved_connections = %3\n"
                          "lc_messages = 'C'\n"
                          "password_encryption = 'scram-sha-256'\n"
                          "fsync = off\n"
                          "synchronous_commit = off\n"
                          "full_page_writes = off\n")
               .arg(quoted(socketDirectory))
               .arg(options.maxConnections)
               .arg(options.superuserReservedConnections)
               .toUtf8()
        + ssl.toUtf8();
}

QByteArray pgHba()
{
    // The socket directory is private (0700), so trust on it only admits this process and the
    // server user; TCP always needs the password.
    return QByteArrayLiteral("# TYPE  DATABASE  USER  ADDRESS       METHOD\n"
                             "local   all       all                 trust\n"
                             "host    all       all   127.0.0.1/32  scram-sha-256\n");
}

QByteArray pgbouncerIni(const QString &directory, int postgresPort, int bouncerPort,
                        const SandboxOptions &options, const SandboxTlsFiles *tls)
{
    // Like a hosted pooler, PgBouncer terminates TLS for its clients and refuses plain TCP. The
    // hop to PostgreSQL is loopback inside the sandbox and stays unencrypted (cheaper, and the
    // client-visible TLS phase is PgBouncer's either way).
    const QString clientTls = tls ? QStringLiteral("client_tls_sslmode = require\n"
                                                   "client_tls_cert_file = %1\n"
                                                   "client_tls_key_file = %2\n")
                                        .arg(tls->serverCertificate, tls->serverKey)
                                  : QStringLiteral("client_tls_sslmode = disable\n");
    // No `options` in ignore_startup_parameters: like Neon's pooler, PgBouncer must reject
    // startup options (they would leak into a shared server connection).
    return QStringLiteral("[databases]\n"
                          "* = host=127.0.0.1 port=%1\n"
                          "\n"
                          "[pgbouncer]\n"
                          "listen_addr = 127.0.0.1\n"
                          "listen_port = %2\n"
                          "unix_socket_dir =\n"
                          "auth_type = scram-sha-256\n"
                          "auth_file = %3/userlist.txt\n"
                          "admin_users = %4\n"
                          "stats_users = %5\n"
                          "pool_mode = transaction\n"
                          "default_pool_size = %6\n"
                          "max_client_conn = %7\n"
                          "ignore_startup_parameters = extra_float_digits\n"
                          "server_login_retry = 1\n"
                          "server_tls_sslmode = disable\n")
               .arg(postgresPort)
               .arg(bouncerPort)
               .arg(directory, QLatin1String(kSuperuser), QLatin1String(kStatsRole))
               .arg(options.poolSize)
               .arg(options.maxClientConnections)
               .toUtf8()
        + clientTls.toUtf8();
}

QByteArray pgbouncerUserList(const SandboxCredentials &credentials)
{
    return QStringLiteral("\"%1\" \"%2\"\n\"%3\" \"%4\"\n\"%5\" \"%6\"\n")
        .arg(QLatin1String(kAppRole), credentials.app, QLatin1String(kSuperuser),
             credentials.postgres, QLatin1String(kStatsRole), credentials.stats)
        .toUtf8();
}

QString clientUri(const char *user, int port, const char *database, const QString &caCertificate)
{
    QString uri = QStringLiteral("postgresql://%1@127.0.0.1:%2/%3")
                      .arg(QLatin1String(user))
                      .arg(port)
                      .arg(QLatin1String(database));
    if (!caCertificate.isEmpty()) {
        uri += QStringLiteral("?sslmode=verify-full&sslrootcert=")
            + QString::fromLatin1(QUrl::toPercentEncoding(caCertificate, "/"));
    }
    return uri;
}

QByteArray pgpass(int postgresPort, int bouncerPort, const SandboxCredentials &credentials)
{
    QString text;
    const std::pair<const char *, QString> roles[] = { { kAppRole, credentials.app },
                                                       { kSuperuser, credentials.postgres },
                                                       { kStatsRole, credentials.stats } };
    // Both names the server certificate carries, so host=localhost finds its password too.
    for (const char *host : { "127.0.0.1", "localhost" }) {
        for (int port : { postgresPort, bouncerPort }) {
            for (const auto &[role, password] : roles)
                text += QStringLiteral("%1:%2:*:%3:%4\n")
                            .arg(QLatin1String(host))
                            .arg(port)
                            .arg(QLatin1String(role), password);
        }
    }
    return text.toUtf8();
}

} // namespace config
} // namespace poolscope::sandbox
