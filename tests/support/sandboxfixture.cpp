#include "tests/support/sandboxfixture.h"

#include <QFile>
#include <QUrl>
#include <QtGlobal>

#include <libpq-fe.h>

#include <poll.h>
#include <sys/stat.h>

namespace poolscope::testing {
namespace {

using ConnPtr = std::unique_ptr<PGconn, decltype(&PQfinish)>;

// PQconnectStart + a poll loop, with verbose errors set before the handshake so that startup
// failures carry their SQLSTATE.
ConnPtr connectVerbose(const QString &conninfoOrUri)
{
    ConnPtr conn(PQconnectStart(conninfoOrUri.toUtf8().constData()), &PQfinish);
    if (!conn || PQstatus(conn.get()) == CONNECTION_BAD)
        return conn;
    PQsetErrorVerbosity(conn.get(), PQERRORS_VERBOSE);
    PostgresPollingStatusType state = PGRES_POLLING_WRITING;
    while (state != PGRES_POLLING_OK && state != PGRES_POLLING_FAILED) {
        const int socket = PQsocket(conn.get());
        if (socket < 0)
            break;
        // poll(), not select(): a descriptor above FD_SETSIZE must not corrupt the stack.
        pollfd fd { socket, short(state == PGRES_POLLING_READING ? POLLIN : POLLOUT), 0 };
        const int ready = ::poll(&fd, 1, 10000);
        if (ready <= 0)
            break;
        state = PQconnectPoll(conn.get());
    }
    return conn;
}

QString messageOf(PGconn *conn)
{
    return conn ? QString::fromUtf8(PQerrorMessage(conn)).trimmed()
                : QStringLiteral("out of memory");
}

} // namespace

SandboxFixture::SandboxFixture() = default;

SandboxFixture::~SandboxFixture()
{
    stop();
}

bool SandboxFixture::start(const sandbox::SandboxOptions &options)
{
    stop();
    m_error.clear();
    m_sandbox = std::make_unique<sandbox::Sandbox>();
    const auto started = m_sandbox->start(options);
    if (!started) {
        m_error = started.error().message;
        return false;
    }
    qputenv("PGPASSFILE", QFile::encodeName(started.value().passFile));
    return true;
}

void SandboxFixture::stop()
{
    if (m_sandbox)
        m_sandbox->stop();
}

bool SandboxFixture::isRunning() const
{
    return m_sandbox && m_sandbox->isRunning();
}

const sandbox::SandboxEndpoints &SandboxFixture::endpoints() const
{
    static const sandbox::SandboxEndpoints none;
    return m_sandbox ? m_sandbox->endpoints() : none;
}

QString querySingleValue(const QString &conninfoOrUri, const QString &sql, QString *error)
{
    if (error)
        error->clear();
    ConnPtr conn = connectVerbose(conninfoOrUri);
    if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
        if (error)
            *error = messageOf(conn.get());
        return QString();
    }
    std::unique_ptr<PGresult, decltype(&PQclear)> result(
        PQexec(conn.get(), sql.toUtf8().constData()), &PQclear);
    const ExecStatusType status = PQresultStatus(result.get());
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
        if (error)
            *error = messageOf(conn.get());
        return QString();
    }
    if (status != PGRES_TUPLES_OK || PQntuples(result.get()) < 1 || PQnfields(result.get()) < 1
        || PQgetisnull(result.get(), 0, 0)) {
        return QString();
    }
    return QString::fromUtf8(PQgetvalue(result.get(), 0, 0));
}

QStringList pgpassPasswords(const QString &passFile)
{
    QFile file(passFile);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    QStringList out;
    for (const QByteArray &line : file.readAll().split('\n')) {
        const QList<QByteArray> fields = line.trimmed().split(':');
        if (fields.size() == 5 && !fields.last().isEmpty())
            out << QString::fromUtf8(fields.last());
    }
    out.removeDuplicates(); // one line per host and port for each role
    return out;
}

mode_t fileMode(const QString &path, uid_t *owner)
{
    struct stat info
    {
    };
    if (::stat(QFile::encodeName(path).constData(), &info) != 0)
        return 0;
    if (owner)
        *owner = info.st_uid;
    return info.st_mode & 07777;
}

QString withUriParameter(const QString &uri, const QString &key, const QString &value)
{
    return uri + (uri.contains(QLatin1Char('?')) ? QLatin1Char('&') : QLatin1Char('?')) + key
        + QLatin1Char('=') + QString::fromLatin1(QUrl::toPercentEncoding(value, "/"));
}

QString connectionError(const QString &conninfoOrUri)
{
    ConnPtr conn = connectVerbose(conninfoOrUri);
    if (conn && PQstatus(conn.get()) == CONNECTION_OK)
        return QString();
    return messageOf(conn.get());
}

} // namespace poolscope::testing
