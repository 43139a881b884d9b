#include "core/db/conninfo.h"

#include "core/db/redaction.h"

#include <QRegularExpression>

#include <libpq-fe.h>

#include <arpa/inet.h>

#include <memory>

namespace poolscope {
namespace {

QString quoteValue(const QString &value)
{
    QString escaped = value;
    escaped.replace(QLatin1Char('\\'), QLatin1String("\\\\"));
    escaped.replace(QLatin1Char('\''), QLatin1String("\\'"));
    return QLatin1Char('\'') + escaped + QLatin1Char('\'');
}

QString render(const QList<ConnInfo::Entry> &entries, bool hideSecrets)
{
    QStringList parts;
    for (const auto &[key, value] : entries) {
        const bool secret = key == QLatin1String("password") || key == QLatin1String("sslpassword");
        parts << key + QLatin1Char('=')
                + (secret && hideSecrets ? QStringLiteral("***") : quoteValue(value));
    }
    return parts.join(QLatin1Char(' '));
}

// PQconninfoParse() accepts any port text; libpq only checks it when connecting. Check it here,
// with libpq's wording, so that port() never silently falls back to 5432 for "notaport".
// An empty entry means the default port, as in libpq.
QString portProblem(const QString &ports)
{
    for (const QString &port : ports.split(QLatin1Char(','))) {
        const QString p = port.trimmed();
        if (p.isEmpty())
            continue;
        bool ok = false;
        const long value = p.toLong(&ok);
        if (!ok)
            return QStringLiteral("invalid integer value \"%1\" for connection option \"port\"")
                .arg(p);
        if (value < 1 || value > 65535)
            return QStringLiteral("invalid port number: \"%1\"").arg(p);
    }
    return {};
}

} // namespace

// libpq's messages quote the token they could not decode, which may be the password: remove
// every password-looking part of the raw input from the message.
static QString scrubParseMessage(const QString &message, const QString &input)
{
    QString out = redactSecrets(message);
    QStringList candidates;
    static const QRegularExpression userInfo(QStringLiteral(R"(^[a-z]+://[^:/@?]*:([^@/?]*)@)"),
                                             QRegularExpression::CaseInsensitiveOption);
    if (const auto m = userInfo.match(input); m.hasMatch())
        candidates << m.captured(1);
    static const QRegularExpression passwordValue(QStringLiteral(R"(password\s*=\s*'?([^&\s']*))"),
                                                  QRegularExpression::CaseInsensitiveOption);
    for (auto it = passwordValue.globalMatch(input); it.hasNext();)
        candidates << it.next().captured(1);
    for (const QString &c : std::as_const(candidates)) {
        if (c.isEmpty())
            continue;
        out.replace(QLatin1Char('"') + c + QLatin1Char('"'), QStringLiteral("\"***\""));
        if (c.size() >= 4)
            out.replace(c, QStringLiteral("***"));
    }
    return out;
}

Result<ConnInfo, DbError> ConnInfo::parse(const QString &text)
{
    char *errmsg = nullptr;
    const QByteArray utf8 = text.toUtf8();
    std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(
        PQconninfoParse(utf8.constData(), &errmsg), &PQconninfoFree);
    if (!options) {
        QString message = errmsg
            ? QString::fromUtf8(errmsg).trimmed()
            : QStringLiteral("out of memory while parsing the connection string");
        PQfreemem(errmsg);
        // libpq quotes the token it could not decode, which may be the password.
        return makeError(
            ErrorKind::InvalidConfiguration,
            QStringLiteral("invalid connection string: %1").arg(scrubParseMessage(message, text)));
    }
    ConnInfo info;
    for (PQconninfoOption *o = options.get(); o->keyword; ++o) {
        if (o->val)
            info.m_entries.append({ QString::fromUtf8(o->keyword), QString::fromUtf8(o->val) });
    }
    if (const QString problem = portProblem(info.value(QStringLiteral("port"))); !problem.isEmpty())
        return makeError(ErrorKind::InvalidConfiguration,
                         QStringLiteral("invalid connection string: %1").arg(problem));
    return info;
}

QString ConnInfo::value(const QString &keyword) const
{
    for (const auto &[key, value] : m_entries) {
        if (key == keyword)
            return value;
    }
    return {};
}

bool ConnInfo::has(const QString &keyword) const
{
    for (const auto &entry : m_entries) {
        if (entry.first == keyword)
            return true;
    }
    return false;
}

void ConnInfo::set(const QString &keyword, const QString &value)
{
    for (auto &entry : m_entries) {
        if (entry.first == keyword) {
            entry.second = value;
            return;
        }
    }
    m_entries.append({ keyword, value });
}

void ConnInfo::remove(const QString &keyword)
{
    m_entries.removeIf([&](const Entry &e) { return e.first == keyword; });
}

QString ConnInfo::host() const
{
    const QString hosts = has(QStringLiteral("host")) ? value(QStringLiteral("host"))
                                                      : value(QStringLiteral("hostaddr"));
    return hosts.section(QLatin1Char(','), 0, 0);
}

int ConnInfo::port() const
{
    bool ok = false;
    const int p = value(QStringLiteral("port")).section(QLatin1Char(','), 0, 0).toInt(&ok);
    return ok ? p : 5432;
}

bool ConnInfo::targetsLoopbackOnly() const
{
    auto isLocal = [](const QString &h) {
        if (h.isEmpty() || h.startsWith(QLatin1Char('/')) || h.startsWith(QLatin1Char('@')))
            return true; // unix socket (or the default, which is one)
        if (h.compare(QLatin1String("localhost"), Qt::CaseInsensitive) == 0)
            return true;
        const QByteArray text = h.toLatin1();
        in_addr v4 {};
        if (inet_pton(AF_INET, text.constData(), &v4) == 1)
            return (ntohl(v4.s_addr) >> 24) == 127;
        in6_addr v6 {};
        return inet_pton(AF_INET6, text.constData(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
    };
    for (const QString &key : { QStringLiteral("host"), QStringLiteral("hostaddr") }) {
        for (const QString &h : value(key).split(QLatin1Char(','))) {
            if (!isLocal(h.trimmed()))
                return false;
        }
    }
    return true;
}

QString ConnInfo::toConninfoString() const
{
    return render(m_entries, false);
}

QString ConnInfo::redacted() const
{
    return render(m_entries, true);
}

} // namespace poolscope
