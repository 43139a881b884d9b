#include "core/sandbox/pgclient_p.h"

#include <libpq-fe.h>

#include <memory>

namespace poolscope::sandbox::pgclient {

bool isAccepting(int port)
{
    const QByteArray portText = QByteArray::number(port);
    const char *keywords[] = { "host", "port", "dbname", "connect_timeout", nullptr };
    const char *values[] = { "127.0.0.1", portText.constData(), "postgres", "2", nullptr };
    return PQpingParams(keywords, values, 0) == PQPING_OK;
}

bool runStatements(const QString &socketDirectory, int port, const QString &user,
                   const QStringList &statements, QString *error)
{
    const QByteArray host = socketDirectory.toUtf8();
    const QByteArray portText = QByteArray::number(port);
    const QByteArray userText = user.toUtf8();
    const char *keywords[] = { "host", "port", "user", "dbname", "connect_timeout", nullptr };
    const char *values[] = {
        host.constData(), portText.constData(), userText.constData(), "postgres", "10", nullptr
    };
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdbParams(keywords, values, 0),
                                                      &PQfinish);
    if (PQstatus(conn.get()) != CONNECTION_OK) {
        *error = QStringLiteral("cannot connect over the unix socket: %1")
                     .arg(QString::fromUtf8(PQerrorMessage(conn.get())).trimmed());
        return false;
    }
    for (const QString &sql : statements) {
        std::unique_ptr<PGresult, decltype(&PQclear)> result(
            PQexec(conn.get(), sql.toUtf8().constData()), &PQclear);
        if (PQresultStatus(result.get()) != PGRES_COMMAND_OK
            && PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
            // The statement text may carry a password: name only its first words.
            *error = QStringLiteral("`%1 ...` failed: %2")
                         .arg(sql.section(QLatin1Char(' '), 0, 2),
                              QString::fromUtf8(PQerrorMessage(conn.get())).trimmed());
            return false;
        }
    }
    return true;
}

} // namespace poolscope::sandbox::pgclient
