// The endpoint linter: what a connection string points at and what will go wrong with it.
// Facts: /work/shared/reference/pools-and-neon.md §1, §4.1, §4.4, §4.5, §5.9. No logging here
// (the libFuzzer build compiles this file without spdlog).
#include "core/check/endpointlint.h"

#include "core/db/conninfo.h"
#include "core/db/redaction.h"

#include <QJsonArray>
#include <QRegularExpression>
#include <QStringList>

#include <libpq-fe.h>

#include <arpa/inet.h>

#include <algorithm>

namespace poolscope {
namespace {

// Neon: ep-<adjective>-<noun>-<id>[-pooler].<region>.aws|azure.neon.tech (id: 6 digits in older
// examples, 8 alphanumerics in newer ones; the guide's "ep-xxx" is accepted too).
const QRegularExpression &neonHostPattern()
{
    static const QRegularExpression re(QStringLiteral(
        R"(^(ep-[a-z0-9]+(?:-[a-z0-9]+)*?)(-pooler)?\.([a-z0-9-]+)\.(aws|azure)\.neon\.tech$)"));
    return re;
}

bool matches(const QString &host, const QString &pattern)
{
    return QRegularExpression(pattern).match(host).hasMatch();
}

// Lower case, one trailing dot (fully qualified form) removed.
QString normalizedHost(const QString &host)
{
    QString h = host.trimmed().toLower();
    if (h.endsWith(QLatin1Char('.')))
        h.chop(1);
    return h;
}

bool isLocalHost(const QString &h)
{
    if (h.isEmpty() || h.startsWith(QLatin1Char('/')) || h.startsWith(QLatin1Char('@')))
        return true; // unix socket (libpq's default when no host is given)
    if (h == QLatin1String("localhost") || h.endsWith(QLatin1String(".localhost")))
        return true;
    const QByteArray text = h.toLatin1();
    in_addr v4 {};
    if (inet_pton(AF_INET, text.constData(), &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    in6_addr v6 {};
    return inet_pton(AF_INET6, text.constData(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

bool isNeon(EndpointKind k)
{
    return k == EndpointKind::NeonPooled || k == EndpointKind::NeonDirect;
}

bool isCloudProvider(EndpointKind k)
{
    return k != EndpointKind::Direct && k != EndpointKind::Local && k != EndpointKind::PgBouncer;
}

// Transaction-mode poolers: session state does not survive the transaction.
bool isTransactionPooler(EndpointKind k)
{
    return k == EndpointKind::NeonPooled || k == EndpointKind::SupabaseTransaction
        || k == EndpointKind::PgBouncer;
}

// The other Neon host name of the same endpoint: with "-pooler" added to or removed from the
// endpoint id (the first DNS label).
QString neonCounterpart(const QString &host)
{
    const QString h = normalizedHost(host);
    const auto m = neonHostPattern().match(h);
    if (!m.hasMatch())
        return {};
    const QString rest = h.mid(m.capturedEnd(m.captured(2).isEmpty() ? 1 : 2));
    return m.captured(1) + (m.captured(2).isEmpty() ? QStringLiteral("-pooler") : QString()) + rest;
}

// Startup parameters a PgBouncer-based pooler tracks (Neon, pools-and-neon.md §4.4).
bool isTrackedParameter(const QString &name)
{
    static const QStringList tracked { QStringLiteral("client_encoding"),
                                       QStringLiteral("datestyle"), QStringLiteral("timezone"),
                                       QStringLiteral("standard_conforming_strings"),
                                       QStringLiteral("application_name") };
    return tracked.contains(name.toLower());
}

// The server parameters that `options` sets ("-c a=b -c x=y", "--a=b", "-ca=b"), other than
// Neon's "endpoint=<id>" (and its deprecated name "project=").
QStringList optionParameters(const QString &options)
{
    QStringList names;
    const QStringList tokens =
        options.split(QRegularExpression(QStringLiteral(R"(\s+)")), Qt::SkipEmptyParts);
    for (qsizetype i = 0; i < tokens.size(); ++i) {
        QString t = tokens.at(i);
        if (t == QLatin1String("-c") && i + 1 < tokens.size())
            t = tokens.at(++i);
        else if (t.startsWith(QLatin1String("--")))
            t = t.mid(2);
        else if (t.startsWith(QLatin1String("-c")))
            t = t.mid(2);
        else if (t.startsWith(QLatin1String("endpoint="), Qt::CaseInsensitive)
                 || t.startsWith(QLatin1String("project="), Qt::CaseInsensitive))
            continue;
        names << t.section(QLatin1Char('='), 0, 0);
    }
    return names;
}

class Linter
{
public:
    Linter(const ConnInfo &info, const LintContext &ctx, LintResult &out)
        : m_info(info)
        , m_ctx(ctx)
        , m_out(out)
        , m_kind(out.endpoint.kind)
        , m_local(isLocalHost(normalizedHost(out.endpoint.host)))
        , m_libpq(ctx.libpqVersion > 0 ? ctx.libpqVersion : PQlibVersion())
    {
    }

    void run()
    {
        hostFindings();
        profileFindings();
        startupParameterFindings();
        tlsFindings();
        secretAndTimeoutFindings();
    }

private:
    QString value(const char *key) const { return m_info.value(QString::fromLatin1(key)); }
    bool has(const char *key) const { return m_info.has(QString::fromLatin1(key)); }
    void add(Severity s, const char *code, const QString &message, const QString &remedy)
    {
        m_out.findings.append({ s, QString::fromLatin1(code), message, remedy });
    }
    QString host() const { return m_out.endpoint.host; }

    void hostFindings()
    {
        const QString h = normalizedHost(host());
        const QString firstLabel = h.section(QLatin1Char('.'), 0, 0);
        if (m_kind == EndpointKind::NeonDirect && h.contains(QLatin1String("pooler")))
            add(Severity::Warning, "neon-pooler-misplaced",
                QStringLiteral("%1 has \"pooler\" outside the end of the endpoint id (the first "
                               "DNS label), so it names the direct endpoint or no endpoint at all")
                    .arg(host()),
                QStringLiteral("Neon appends \"-pooler\" to the endpoint id: ep-<name>-<id>-"
                               "pooler.<region>.aws.neon.tech is pooled, the same host without "
                               "\"-pooler\" is direct. Copy the string from the Neon console."));
        if (!isNeon(m_kind)
            && (h.contains(QLatin1String(".neon.tech"))
                || (firstLabel.startsWith(QLatin1String("ep-"))
                    && h.contains(QLatin1String("neon")))))
            add(Severity::Warning, "neon-lookalike-host",
                QStringLiteral("%1 looks like a Neon host name but is not a Neon endpoint "
                               "(ep-<id>[-pooler].<region>.aws|azure.neon.tech)")
                    .arg(host()),
                QStringLiteral("Check the host: only names ending in .aws.neon.tech or "
                               ".azure.neon.tech are Neon's; anything else is another server."));
    }

    QString pooledAlternative() const
    {
        switch (m_kind) {
        case EndpointKind::NeonDirect:
            return QStringLiteral("Use Neon's pooled host %1 (the endpoint id with \"-pooler\"; "
                                  "the guide has the two labels swapped).")
                .arg(neonCounterpart(host()));
        case EndpointKind::SupabaseDirect:
            return QStringLiteral("Use Supabase's pooler: <region>.pooler.supabase.com port 6543 "
                                  "(transaction mode).");
        default:
            return QStringLiteral("Put a transaction-mode pooler (PgBouncer, RDS Proxy, Neon's "
                                  "-pooler host) between the functions and the server.");
        }
    }

    void profileFindings()
    {
        const bool serverless = m_ctx.profile == PoolProfile::ServerlessProduction;
        if (serverless && !m_out.endpoint.pooled) {
            if (m_local)
                add(Severity::Info, "serverless-local-endpoint",
                    QStringLiteral("The serverless profile against a local server: fine for a "
                                   "trial, but production functions need a pooled endpoint"),
                    pooledAlternative());
            else
                add(Severity::Error, "serverless-direct-endpoint",
                    QStringLiteral("%1 is a direct endpoint (%2): every function instance opens "
                                   "its own connections and together they exhaust "
                                   "max_connections")
                        .arg(host(), endpointKindName(m_kind)),
                    pooledAlternative());
        }
        if (m_ctx.usesSessionFeatures && m_out.endpoint.pooled) {
            const bool transaction = isTransactionPooler(m_kind);
            QString direct = m_kind == EndpointKind::NeonPooled
                ? QStringLiteral("the direct host %1").arg(neonCounterpart(host()))
                : QStringLiteral("a direct connection to the server");
            if (m_kind == EndpointKind::SupabaseSession)
                return; // session mode keeps the server connection for the whole session
            add(transaction ? Severity::Warning : Severity::Info, "pooled-session-features",
                m_kind == EndpointKind::RdsProxy
                    ? QStringLiteral("RDS Proxy pins the client to one server connection when it "
                                     "sees session state (SET, PREPARE, temp tables, advisory "
                                     "locks), which defeats the pooling")
                    : QStringLiteral("%1 is a transaction-mode pooler: SET/RESET (search_path "
                                     "too), LISTEN/NOTIFY, SQL PREPARE/DEALLOCATE, session "
                                     "advisory locks, WITH HOLD cursors and temp tables do not "
                                     "survive the transaction and can leak to other clients")
                          .arg(host()),
                QStringLiteral("Use %1 for session features, migrations and pg_dump. On the "
                               "pooled endpoint use SET LOCAL inside a transaction, ALTER ROLE "
                               "... SET for defaults, and protocol-level prepared statements "
                               "(PQprepare), which are supported.")
                    .arg(direct));
        }
        if (serverless && isTransactionPooler(m_kind))
            add(Severity::Info, "pooled-statement-timeout",
                QStringLiteral("A session SET statement_timeout on each checkout (as the guide "
                               "does) does not work through %1: it lands on whichever server "
                               "connection the pooler picks")
                    .arg(host()),
                QStringLiteral("BEGIN; SET LOCAL statement_timeout = '30s'; ...; COMMIT; or "
                               "ALTER ROLE <app> SET statement_timeout = '30s', plus a client "
                               "deadline with a cancel request."));
    }

    void startupParameterFindings()
    {
        if (!m_out.endpoint.pooled)
            return;
        QStringList rejected;
        for (const QString &name : optionParameters(value("options"))) {
            if (!isTrackedParameter(name))
                rejected << name;
        }
        if (!value("replication").isEmpty())
            rejected << QStringLiteral("replication");
        if (rejected.isEmpty())
            return;
        const bool proxy = m_kind == EndpointKind::RdsProxy;
        add(proxy ? Severity::Warning : Severity::Error, "pooled-startup-parameter",
            proxy ? QStringLiteral("Startup parameters (%1) pin every RDS Proxy client to its own "
                                   "server connection")
                        .arg(rejected.join(QStringLiteral(", ")))
                  : QStringLiteral("The pooler at %1 rejects these startup parameters with "
                                   "\"unsupported startup parameter\": %2. Only client_encoding, "
                                   "datestyle, timezone, standard_conforming_strings and "
                                   "application_name are tracked")
                        .arg(host(), rejected.join(QStringLiteral(", "))),
            QStringLiteral("Remove them from options=. For statement_timeout use SET LOCAL in "
                           "each transaction or ALTER ROLE <app> SET statement_timeout; keep "
                           "options='-c ...' for the direct endpoint (Neon's endpoint=<id> "
                           "option is fine)."));
    }

    QString verifyFullRemedy() const
    {
        return m_libpq >= 160000
            ? QStringLiteral("sslmode=verify-full sslrootcert=system")
            : QStringLiteral("sslmode=verify-full sslrootcert=/etc/ssl/certs/ca-certificates.crt "
                             "(libpq %1 has no sslrootcert=system)")
                  .arg(m_libpq / 10000);
    }

    void tlsFindings()
    {
        if (m_local)
            return;
        const QString mode = value("sslmode").toLower();
        const bool neon = isNeon(m_kind);
        if (mode.isEmpty()) {
            add(Severity::Warning, "sslmode-missing",
                QStringLiteral("No sslmode: libpq defaults to prefer (unless PGSSLMODE is set), "
                               "which falls back to an unencrypted connection and never checks "
                               "the certificate"),
                QStringLiteral("Add %1.").arg(verifyFullRemedy()));
        } else if (mode == QLatin1String("disable") || mode == QLatin1String("allow")
                   || mode == QLatin1String("prefer")) {
            const bool fatal = neon && mode == QLatin1String("disable");
            add(fatal ? Severity::Error : Severity::Warning, "sslmode-insecure",
                fatal ? QStringLiteral("sslmode=disable: Neon rejects connections without TLS")
                      : QStringLiteral("sslmode=%1 may connect without TLS and never checks the "
                                       "certificate")
                            .arg(mode),
                QStringLiteral("Use %1.").arg(verifyFullRemedy()));
        } else if (mode == QLatin1String("require") || mode == QLatin1String("verify-ca")) {
            add(isCloudProvider(m_kind) ? Severity::Warning : Severity::Info,
                "sslmode-no-hostname-check",
                QStringLiteral("sslmode=%1 encrypts but never checks that the certificate belongs "
                               "to %2 (require checks the CA only when a root certificate file is "
                               "present)")
                    .arg(mode, host()),
                QStringLiteral("Use %1.").arg(verifyFullRemedy()));
        } else if (mode == QLatin1String("verify-full") && !has("sslrootcert")
                   && m_libpq < 160000) {
            add(Severity::Info, "sslrootcert-missing",
                QStringLiteral("sslmode=verify-full without sslrootcert: libpq %1 reads "
                               "~/.postgresql/root.crt and fails when it is missing")
                    .arg(m_libpq / 10000),
                QStringLiteral("Add sslrootcert=/etc/ssl/certs/ca-certificates.crt (Debian's "
                               "bundle; ship one on Windows)."));
        }
        const QString binding = value("channel_binding").toLower();
        if (neon && binding.isEmpty())
            add(Severity::Info, "channel-binding-missing",
                QStringLiteral("No channel_binding: Neon's console strings carry "
                               "channel_binding=require (SCRAM-SHA-256-PLUS, libpq 13 or later)"),
                QStringLiteral("Add channel_binding=require if every client driver supports it "
                               "(asyncpg and Postgrex do not)."));
        if (binding == QLatin1String("require") && mode == QLatin1String("disable"))
            add(Severity::Error, "channel-binding-without-tls",
                QStringLiteral("channel_binding=require needs TLS, but sslmode=disable"),
                QStringLiteral("Use %1.").arg(verifyFullRemedy()));
        else if (binding == QLatin1String("require") && m_kind == EndpointKind::PgBouncer)
            add(Severity::Warning, "channel-binding-pooler",
                QStringLiteral("channel_binding=require through PgBouncer: PgBouncer does not "
                               "offer SCRAM-SHA-256-PLUS, so authentication will fail"),
                QStringLiteral("Use channel_binding=prefer towards PgBouncer, and sslmode="
                               "verify-full for the server's identity."));
        // Neon's proxy routes by SNI (the endpoint id in the TLS server name).
        if (neon && !libpqSendsSni(m_libpq)
            && !value("options").contains(QLatin1String("endpoint="), Qt::CaseInsensitive))
            add(Severity::Error, "libpq-no-sni",
                QStringLiteral("libpq %1 sends no SNI, and Neon routes by it: \"The endpoint ID is "
                               "not specified\"")
                    .arg(m_libpq / 10000),
                QStringLiteral("Upgrade libpq to 14 or later, or add "
                               "options=endpoint%3D<endpoint id>."));
        else if (neon && value("sslsni") == QLatin1String("0"))
            add(Severity::Error, "libpq-no-sni",
                QStringLiteral("sslsni=0 turns SNI off, and Neon routes by it"),
                QStringLiteral("Remove sslsni=0."));
    }

    void secretAndTimeoutFindings()
    {
        if (!value("password").isEmpty())
            add(Severity::Warning, "password-in-string",
                QStringLiteral("The connection string carries a password, which ends up in shell "
                               "history, process lists, logs and screenshots"),
                QStringLiteral("Remove it and put it in ~/.pgpass (or PGPASSFILE), mode 0600: "
                               "host:port:dbname:user:password."));
        if (!m_local && !has("connect_timeout"))
            add(Severity::Info, "connect-timeout-missing",
                QStringLiteral("No connect_timeout: libpq waits for the operating system's TCP "
                               "timeout, which can take minutes against an unreachable host"),
                QStringLiteral("Add connect_timeout=10 (seconds; leave room for a cold start of "
                               "a scaled-to-zero compute)."));
    }

    const ConnInfo &m_info;
    const LintContext &m_ctx;
    LintResult &m_out;
    EndpointKind m_kind;
    bool m_local;
    int m_libpq;
};

QString scrubbed(QString text, const QString &password)
{
    text = redactSecrets(text);
    if (password.size() >= 4)
        text.replace(password, QStringLiteral("***"));
    return text;
}

} // namespace

QString endpointKindName(EndpointKind kind)
{
    switch (kind) {
    case EndpointKind::NeonPooled:
        return QStringLiteral("neon-pooled");
    case EndpointKind::NeonDirect:
        return QStringLiteral("neon-direct");
    case EndpointKind::SupabaseTransaction:
        return QStringLiteral("supabase-transaction");
    case EndpointKind::SupabaseSession:
        return QStringLiteral("supabase-session");
    case EndpointKind::SupabaseDirect:
        return QStringLiteral("supabase-direct");
    case EndpointKind::RdsProxy:
        return QStringLiteral("rds-proxy");
    case EndpointKind::PgBouncer:
        return QStringLiteral("pgbouncer");
    case EndpointKind::Local:
        return QStringLiteral("local");
    case EndpointKind::Direct:
        return QStringLiteral("direct");
    }
    return QStringLiteral("direct");
}

bool isPooledKind(EndpointKind kind)
{
    switch (kind) {
    case EndpointKind::NeonPooled:
    case EndpointKind::SupabaseTransaction:
    case EndpointKind::SupabaseSession:
    case EndpointKind::RdsProxy:
    case EndpointKind::PgBouncer:
        return true;
    default:
        return false;
    }
}

QString severityName(Severity s)
{
    switch (s) {
    case Severity::Error:
        return QStringLiteral("error");
    case Severity::Warning:
        return QStringLiteral("warning");
    case Severity::Info:
        return QStringLiteral("info");
    }
    return QStringLiteral("info");
}

bool LintResult::hasError() const
{
    return std::any_of(findings.cbegin(), findings.cend(),
                       [](const Finding &f) { return f.severity == Severity::Error; });
}

bool libpqSendsSni(int libpqVersion)
{
    return libpqVersion >= 140000;
}

EndpointKind classifyEndpoint(const QString &host, int port)
{
    const QString h = normalizedHost(host);
    if (neonHostPattern().match(h).hasMatch())
        return h.section(QLatin1Char('.'), 0, 0).endsWith(QLatin1String("-pooler"))
            ? EndpointKind::NeonPooled
            : EndpointKind::NeonDirect;
    if (matches(h, QStringLiteral(R"(^(?:[a-z0-9-]+\.)+pooler\.supabase\.com$)"))) {
        if (port == 6543)
            return EndpointKind::SupabaseTransaction;
        if (port == 5432)
            return EndpointKind::SupabaseSession;
    }
    if (matches(h, QStringLiteral(R"(^db\.[a-z0-9]+\.supabase\.co$)")))
        return EndpointKind::SupabaseDirect;
    if (matches(
            h,
            QStringLiteral(
                R"(^(?:[a-z0-9-]+\.)+proxy-[a-z0-9]+\.[a-z0-9-]+\.rds\.amazonaws\.com(?:\.cn)?$)")))
        return EndpointKind::RdsProxy;
    if (port == 6432)
        return EndpointKind::PgBouncer;
    if (isLocalHost(h))
        return EndpointKind::Local;
    return EndpointKind::Direct;
}

Result<LintResult, DbError> lintEndpoint(const QString &conninfo, const LintContext &context)
{
    if (conninfo.trimmed().isEmpty())
        return makeError(ErrorKind::InvalidConfiguration,
                         QStringLiteral("invalid connection string: it is empty (expected "
                                        "key=value pairs or a postgresql:// URI)"));
    auto parsed = ConnInfo::parse(conninfo);
    if (!parsed)
        return parsed.error(); // libpq's message, already scrubbed of the password by ConnInfo
    const ConnInfo &info = parsed.value();
    const QString password = info.value(QStringLiteral("password"));

    LintResult result;
    EndpointInfo &e = result.endpoint;
    e.host = info.host().trimmed();
    e.port = info.port();
    e.dbname = info.value(QStringLiteral("dbname"));
    e.user = info.value(QStringLiteral("user"));
    e.kind = classifyEndpoint(e.host, e.port);
    e.pooled = isPooledKind(e.kind);

    Linter(info, context, result).run();

    e.host = scrubbed(e.host, password);
    e.dbname = scrubbed(e.dbname, password);
    e.user = scrubbed(e.user, password);
    for (Finding &f : result.findings) {
        f.message = scrubbed(f.message, password);
        f.remedy = scrubbed(f.remedy, password);
    }
    return result;
}

QJsonObject lintResultToJson(const LintResult &result)
{
    const EndpointInfo &e = result.endpoint;
    QJsonArray findings;
    for (const Finding &f : result.findings)
        findings.append(QJsonObject { { QStringLiteral("severity"), severityName(f.severity) },
                                      { QStringLiteral("code"), f.code },
                                      { QStringLiteral("message"), f.message },
                                      { QStringLiteral("remedy"), f.remedy } });
    return QJsonObject {
        { QStringLiteral("endpoint"),
          QJsonObject { { QStringLiteral("host"), e.host },
                        { QStringLiteral("port"), e.port },
                        { QStringLiteral("dbname"), e.dbname },
                        { QStringLiteral("user"), e.user },
                        { QStringLiteral("kind"), endpointKindName(e.kind) },
                        { QStringLiteral("pooled"), e.pooled } } },
        { QStringLiteral("findings"), findings },
    };
}

} // namespace poolscope
