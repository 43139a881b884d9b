#pragma once

#include "core/db/dberror.h"
#include "core/pool/poolconfig.h"
#include "core/util/result.h"

#include <QJsonObject>
#include <QList>
#include <QString>

#include <optional>

namespace poolscope {

// What a connection string points at, recognised from the host name and port (the guide swaps
// Neon's two labels: on Neon the host whose *first DNS label* ends in "-pooler" is the pooled one).
enum class EndpointKind {
    NeonPooled,          // ep-xxx-pooler.<region>.aws|azure.neon.tech
    NeonDirect,          // ep-xxx.<region>.aws|azure.neon.tech
    SupabaseTransaction, // *.pooler.supabase.com:6543
    SupabaseSession,     // *.pooler.supabase.com:5432
    SupabaseDirect,      // db.<ref>.supabase.co
    RdsProxy,            // *.proxy-*.<region>.rds.amazonaws.com
    PgBouncer,           // port 6432
    Local,               // loopback, localhost, unix socket
    Direct,              // anything else
};

QString endpointKindName(EndpointKind kind); // "neon-pooled", ..., "direct" (JSON values)
bool isPooledKind(EndpointKind kind);        // transaction (or session) pooler in the path

struct EndpointInfo
{
    QString host; // first host, as written
    int port = 5432;
    QString dbname;
    QString user;
    EndpointKind kind = EndpointKind::Direct;
    bool pooled = false;
};

enum class Severity { Error, Warning, Info };
QString severityName(Severity s); // "error", "warning", "info"

struct Finding
{
    Severity severity = Severity::Info;
    QString code;    // stable, e.g. "serverless-direct-endpoint"
    QString message; // what is wrong, with the facts (never the password)
    QString remedy;  // what to do
};

// How the connection string will be used: decides which findings apply.
struct LintContext
{
    std::optional<PoolProfile> profile; // --profile local|serverless
    // Session features the application says it uses (SET/RESET, LISTEN/NOTIFY, PREPARE, advisory
    // locks, WITH HOLD cursors, temp tables, migrations / pg_dump).
    bool usesSessionFeatures = false;
    // libpq version as PQlibVersion() reports it (150004 = 15.4); 0 = the linked libpq. Decides
    // the SNI and sslrootcert advice.
    int libpqVersion = 0;
};

struct LintResult
{
    EndpointInfo endpoint;
    QList<Finding> findings;
    bool hasError() const;
};

// Parses with libpq's own parser (PQconninfoParse via ConnInfo) and lints. Fails only when the
// string cannot be parsed (InvalidConfiguration with libpq's message). Never throws, never
// crashes on any input; no password in any output.
Result<LintResult, DbError> lintEndpoint(const QString &conninfo, const LintContext &context = {});

// Exposed for tests: the kind of a host/port pair.
EndpointKind classifyEndpoint(const QString &host, int port);

// True when a libpq of this version (PQlibVersion() form) sends SNI by default (14 and later).
bool libpqSendsSni(int libpqVersion);

// The JSON the `check` command prints (without "live"): {"endpoint": {...}, "findings": [...]}.
QJsonObject lintResultToJson(const LintResult &result);

} // namespace poolscope
