#include "core/monitor/incidentsummary.h"

#include "core/db/conninfo.h"
#include "core/db/redaction.h"

#include <QRegularExpression>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace poolscope {

namespace {

constexpr double kNearExhaustedShare = 0.9;
constexpr double kIdleInTransactionSeconds = 10;
constexpr double kLongTransactionSeconds = 5 * 60;

QString duration(double seconds)
{
    // PgBouncer's maxwait has microseconds: a queue of a few milliseconds is not "0.0 s".
    if (seconds < 0.95)
        return QStringLiteral("%1 ms").arg(std::max(1, qRound(seconds * 1000)));
    if (seconds < 90)
        return QStringLiteral("%1 s").arg(qRound(seconds));
    if (seconds < 90 * 60)
        return QStringLiteral("%1 min").arg(qRound(seconds / 60));
    return QStringLiteral("%1 h").arg(seconds / 3600, 0, 'f', 1);
}

QString plural(int n, const QString &one, const QString &many)
{
    return QStringLiteral("%1 %2").arg(n).arg(n == 1 ? one : many);
}

bool isIdleInTransaction(const QString &state)
{
    return state.startsWith(QLatin1String("idle in transaction"));
}

struct Holder
{
    QString label;
    int total = 0;
    int idleInTransaction = 0;
    double oldestIdleTransactionSeconds = 0; // age of the transaction itself
    double longestIdleSeconds = 0;           // how long one has been idle in it; 0 when unknown
};

// The biggest application family, from the per-(database, user, application, state) groups when
// the sampler has them (they carry the transaction ages), else from the by-application breakdown.
std::optional<Holder> biggestHolder(const ActivitySample &s)
{
    struct Family
    {
        std::set<QString> names;
        Holder holder;
    };
    std::map<QString, Family> families;
    auto add = [&](const QString &application, int count, int idleInTransaction, double age) {
        Family &f = families[holderFamily(application)];
        f.names.insert(application);
        f.holder.total += count;
        f.holder.idleInTransaction += idleInTransaction;
        if (idleInTransaction > 0)
            f.holder.oldestIdleTransactionSeconds =
                std::max(f.holder.oldestIdleTransactionSeconds, age);
    };
    if (!s.groups.isEmpty()) {
        for (const ActivityGroup &g : s.groups) {
            // The fold of the groups past the bound names nobody.
            if (g.application == QLatin1String("other") && g.database == QLatin1String("other")
                && g.user == QLatin1String("other") && g.state == QLatin1String("other"))
                continue;
            const bool idle = isIdleInTransaction(g.state);
            add(g.application, g.count, idle ? g.count : 0, g.maxTransactionSeconds);
        }
    } else {
        for (const BreakdownEntry &e : s.byApplication) {
            if (!e.isOther)
                add(e.key, e.total, e.idleInTransaction, 0);
        }
    }
    // How long the idle-in-transaction sessions have been idle is per application in the
    // breakdown (its top N; a family member folded into "other" there is not counted here).
    for (const BreakdownEntry &e : s.byApplication) {
        if (e.isOther)
            continue;
        if (auto it = families.find(holderFamily(e.key)); it != families.end())
            it->second.holder.longestIdleSeconds =
                std::max(it->second.holder.longestIdleSeconds, e.longestIdleInTransactionSeconds);
    }
    std::optional<Holder> best;
    for (auto &[family, f] : families) {
        if (f.holder.total <= 0)
            continue;
        if (f.names.size() == 1)
            f.holder.label = *f.names.begin();
        else
            f.holder.label = family;
        if (!best || f.holder.total > best->total)
            best = f.holder; // ties: the first in name order, so the line is stable
    }
    return best;
}

QString holderPhrase(const Holder &h)
{
    const QString who =
        h.label.isEmpty() ? QStringLiteral("clients without an application name") : h.label;
    QString text = QStringLiteral("%1 held by %2").arg(h.total).arg(who);
    if (h.idleInTransaction > 0) {
        text += QStringLiteral(", %1 of them idle in transaction").arg(h.idleInTransaction);
        if (h.longestIdleSeconds >= 1)
            text += QStringLiteral(" for up to %1").arg(duration(h.longestIdleSeconds));
        else if (h.oldestIdleTransactionSeconds >= 1)
            text +=
                QStringLiteral(" (open up to %1)").arg(duration(h.oldestIdleTransactionSeconds));
    }
    return text;
}

QString clock(const QDateTime &at)
{
    return at.toUTC().toString(QStringLiteral("HH:mm:ss")) + QStringLiteral(" UTC");
}

} // namespace

QString holderFamily(const QString &application)
{
    // A stem of at least one letter, an optional separator, then only digits.
    static const QRegularExpression instance(QStringLiteral("^(.*[^\\d\\W_].*?)([-_.:#]?)\\d+$"),
                                             QRegularExpression::UseUnicodePropertiesOption);
    const auto m = instance.match(application);
    if (!m.hasMatch())
        return application;
    return m.captured(1) + m.captured(2) + QLatin1Char('*');
}

QString serverLabel(const QString &conninfo)
{
    const auto parsed = ConnInfo::parse(conninfo);
    if (!parsed)
        return redactSecrets(conninfo);
    const ConnInfo &c = parsed.value();
    QString host = c.host();
    if (host.isEmpty())
        host = c.value(QStringLiteral("hostaddr"));
    if (host.isEmpty())
        host = QStringLiteral("localhost");
    QString label = QStringLiteral("%1:%2").arg(host).arg(c.port());
    const QString db = c.value(QStringLiteral("dbname"));
    if (!db.isEmpty())
        label += QLatin1Char('/') + db;
    return label;
}

IncidentSummary summarizeIncident(const IncidentInput &input)
{
    IncidentSummary out;
    if (input.activity)
        out.at = input.activity->takenAt.toUTC();

    if (input.serverError) {
        out.severity = IncidentSeverity::Critical;
        out.condition = QStringLiteral("unreachable");
        out.text = QStringLiteral("Server unreachable: %1 does not answer (%2)")
                       .arg(input.server, input.serverError->message);
        if (input.activity)
            out.text += QStringLiteral("; last sample at %1").arg(clock(input.activity->takenAt));
        else
            out.text += QStringLiteral("; no sample yet");
        out.at = QDateTime::currentDateTimeUtc();
        return out;
    }
    if (!input.activity) {
        out.condition = QStringLiteral("pending");
        out.text = input.server.isEmpty()
            ? QStringLiteral("Waiting for the first sample")
            : QStringLiteral("Waiting for the first sample of %1").arg(input.server);
        return out;
    }

    const ActivitySample &s = *input.activity;
    const int usable = s.limits.usableByOrdinaryRoles();
    const int inUse = usable > 0 ? std::clamp(usable - s.available, 0, usable) : s.counts.total;
    QString text = usable > 0
        ? QStringLiteral("%1 of %2 usable connections in use").arg(inUse).arg(usable)
        : QStringLiteral("%1 connections in use").arg(inUse);
    if (const auto holder = biggestHolder(s))
        text += QStringLiteral(" \u2014 ") + holderPhrase(*holder);

    const int waitingAtPooler = input.pooler ? input.pooler->clWaiting() : 0;
    auto set = [&](IncidentSeverity severity, const char *condition, const QString &phrase) {
        out.severity = severity;
        out.condition = QString::fromLatin1(condition);
        out.text = text + QStringLiteral("; ") + phrase;
    };
    if (input.poolerError) {
        set(IncidentSeverity::Critical, "pooler_unreachable",
            QStringLiteral("PgBouncer console unreachable (%1)").arg(input.poolerError->message));
    } else if (usable > 0 && s.available <= 0) {
        set(IncidentSeverity::Critical, "exhausted",
            QStringLiteral("no connections left for ordinary roles"));
    } else if (waitingAtPooler > 0) {
        set(IncidentSeverity::Critical, "pooler_waiting",
            QStringLiteral("PgBouncer: %1 up to %2")
                .arg(plural(waitingAtPooler, QStringLiteral("client waiting"),
                            QStringLiteral("clients waiting")),
                     duration(input.pooler->maxWaitSeconds())));
    } else if (usable > 0 && inUse >= std::ceil(kNearExhaustedShare * usable)) {
        set(IncidentSeverity::Warning, "nearly_exhausted",
            QStringLiteral("only %1 left")
                .arg(plural(s.available, QStringLiteral("connection"),
                            QStringLiteral("connections"))));
    } else if (s.counts.waiting > 0) {
        set(IncidentSeverity::Warning, "lock_waits",
            s.counts.waiting == 1
                ? QStringLiteral("1 session waiting on a lock")
                : QStringLiteral("%1 sessions waiting on locks").arg(s.counts.waiting));
    } else if (s.counts.idleInTransaction > 0
               && s.longestIdleInTransactionSeconds >= kIdleInTransactionSeconds) {
        set(IncidentSeverity::Warning, "idle_in_transaction",
            QStringLiteral("%1 idle in transaction, the longest for %2")
                .arg(plural(s.counts.idleInTransaction, QStringLiteral("session"),
                            QStringLiteral("sessions")),
                     duration(s.longestIdleInTransactionSeconds)));
    } else if (s.longestTransactionSeconds >= kLongTransactionSeconds) {
        set(IncidentSeverity::Warning, "long_transaction",
            QStringLiteral("a transaction open for %1").arg(duration(s.longestTransactionSeconds)));
    } else {
        set(IncidentSeverity::Calm, "calm",
            QStringLiteral("nothing waiting, no long transactions"));
    }
    return out;
}

QString incidentClipboardText(const IncidentSummary &summary, const QString &server)
{
    const QDateTime at = summary.at.isValid() ? summary.at : QDateTime::currentDateTimeUtc();
    return QStringLiteral("%1 %2: %3").arg(at.toUTC().toString(Qt::ISODate), server, summary.text);
}

} // namespace poolscope
