#pragma once

#include "core/sandbox/sandbox.h"
#include "core/sandbox/sandboxtls.h"

#include <QByteArray>
#include <QString>

namespace poolscope::sandbox {

// The generated passwords of one sandbox (alphanumeric, so they need no quoting anywhere).
struct SandboxCredentials
{
    QString app;      // role `app`: the application
    QString postgres; // superuser `postgres`: adminUri, PgBouncer admin_users
    QString stats;    // role `poolscope_stats`: PgBouncer console (stats_users)

    // 24 alphanumeric characters from /dev/urandom each, all registered with registerSecret().
    static SandboxCredentials generate();
};

// A random alphanumeric string from /dev/urandom (rejection sampling, so uniform).
QString randomPassword(int length = 24);

inline constexpr char kAppRole[] = "app";
inline constexpr char kAppDatabase[] = "app";
inline constexpr char kSuperuser[] = "postgres";
inline constexpr char kStatsRole[] = "poolscope_stats";

// Text of the generated files. Pure functions of their inputs.
namespace config {

// Appended to initdb's postgresql.conf; the port is given on the command line. `tls` null: no TLS.
QByteArray postgresqlSettings(const QString &socketDirectory, const SandboxOptions &options,
                              const SandboxTlsFiles *tls);
QByteArray pgHba();
QByteArray pgbouncerIni(const QString &directory, int postgresPort, int bouncerPort,
                        const SandboxOptions &options, const SandboxTlsFiles *tls);
QByteArray pgbouncerUserList(const SandboxCredentials &credentials);
// A client URI for `user` on 127.0.0.1:port/database; with `caCertificate`, verify-full TLS.
QString clientUri(const char *user, int port, const char *database, const QString &caCertificate);
QByteArray pgpass(int postgresPort, int bouncerPort, const SandboxCredentials &credentials);

} // namespace config
} // namespace poolscope::sandbox
