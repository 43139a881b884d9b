#include "core/db/redaction.h"

#include <QRegularExpression>

#include <mutex>
#include <set>

namespace poolscope {
namespace {

// Longest first, so that a secret which extends another one is replaced whole.
struct LongerFirst
{
    bool operator()(const QString &a, const QString &b) const
    {
        return a.size() != b.size() ? a.size() > b.size() : a < b;
    }
};

struct SecretRegistry
{
    std::mutex mutex;
    std::set<QString, LongerFirst> secrets;
};

SecretRegistry &registry()
{
    static SecretRegistry instance;
    return instance;
}

} // namespace

void registerSecret(const QString &secret)
{
    if (secret.size() < 4)
        return;
    std::lock_guard lock(registry().mutex);
    registry().secrets.insert(secret);
}

QString redactSecrets(const QString &text)
{
    // conninfo keywords (password, sslpassword): an unquoted value runs to the next whitespace,
    // '&' included. In a URI query the value ends at the next '&'.
    static const QRegularExpression keywordValue(
        QStringLiteral(R"((?<![?&])(\b(?:ssl)?password\s*=\s*)('(?:[^'\\]|\\.)*'?|\S+))"),
        QRegularExpression::CaseInsensitiveOption);
    static const QRegularExpression queryValue(
        QStringLiteral(R"(([?&](?:ssl)?password=)([^\s&#]*))"),
        QRegularExpression::CaseInsensitiveOption);
    static const QRegularExpression uriUserInfo(
        QStringLiteral(R"(((?:postgres|postgresql)://[^:/@\s]*):([^@\s]*)@)"),
        QRegularExpression::CaseInsensitiveOption);
    static const QRegularExpression environment(QStringLiteral(R"((\bPGPASSWORD=)(\S+))"));

    QString out = text;
    out.replace(keywordValue, QStringLiteral("\\1***"));
    out.replace(queryValue, QStringLiteral("\\1***"));
    out.replace(uriUserInfo, QStringLiteral("\\1:***@"));
    out.replace(environment, QStringLiteral("\\1***"));

    std::lock_guard lock(registry().mutex);
    for (const QString &secret : registry().secrets)
        out.replace(secret, QStringLiteral("***"));
    return out;
}

std::string redactSecrets(std::string_view utf8Text)
{
    const QString in = QString::fromUtf8(utf8Text.data(), qsizetype(utf8Text.size()));
    return redactSecrets(in).toStdString();
}

} // namespace poolscope
