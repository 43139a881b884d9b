#include "ui/loaddemo/loaddemorunsmodel.h"

#include "core/util/csv.h"
#include "ui/loaddemo/loaddemotext.h"

#include <QBrush>
#include <QColor>
#include <QStringList>

namespace poolscope::ui {

namespace {

const char *const kCsvHeader[LoadDemoRunsModel::ColumnCount] = {
    "demo",
    "target",
    "endpoint",
    "instances",
    "pool",
    "requests",
    "ok",
    "too_many_connections",
    "acquire_timeout",
    "pooler",
    "other",
    "abandoned",
    "peak_server_connections",
    "server_limit",
    "baseline_server_connections",
    "server_connections_after",
    "returned_to_baseline",
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "acquire_wait_p50_ms",
    "acquire_wait_p95_ms",
    "acquire_wait_p99_ms",
    "duration_s",
    "status",
};

QString status(const LoadDemoRunSummary &r)
{
    if (r.fatal)
        return QStringLiteral("did not run");
    if (r.cancelled)
        return QStringLiteral("stopped");
    return QStringLiteral("finished");
}

bool isNumeric(int column)
{
    return column >= LoadDemoRunsModel::Requests && column <= LoadDemoRunsModel::Duration
        && column != LoadDemoRunsModel::BackToBaseline;
}

QString firstErrorsTip(const LoadDemoRunSummary &r)
{
    QStringList lines;
    for (const LoadDemoFirstError &e : r.firstErrors)
        lines << QStringLiteral("First %1 after %2 s: %3\nRemedy: %4")
                     .arg(loadDemoErrorClassName(e.errorClass))
                     .arg(e.atSeconds, 0, 'f', 2)
                     .arg(e.error.summary(), e.error.remedy);
    if (r.fatal)
        lines << QStringLiteral("Did not run: %1\nRemedy: %2")
                     .arg(r.fatal->summary(), r.fatal->remedy);
    return lines.join(QStringLiteral("\n\n"));
}

} // namespace

LoadDemoRunsModel::LoadDemoRunsModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

int LoadDemoRunsModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int LoadDemoRunsModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QString LoadDemoRunsModel::text(const Row &row, int column) const
{
    const LoadDemoRunSummary &r = row.summary;
    switch (Column(column)) {
    case Demo:
        return QString::number(row.demo);
    case Target:
        return r.target;
    case Endpoint:
        return r.displayName;
    case Instances:
        return QString::number(r.config.instances);
    case Pool: // MIN:MAX, so runs of pool size A and B read side by side
        return QStringLiteral("%1:%2").arg(r.config.pool.minSize).arg(r.config.pool.maxSize);
    case Requests:
        return QString::number(r.requests);
    case Ok:
        return QString::number(r.ok);
    case TooManyConnections:
        return QString::number(r.errors.tooManyConnections);
    case AcquireTimeout:
        return QString::number(r.errors.acquireTimeout);
    case Pooler:
        return QString::number(r.errors.pooler);
    case Other:
        return QString::number(r.errors.other);
    case Abandoned:
        return QString::number(r.abandoned);
    case PeakServer:
        return loadDemoCountText(r.peakServerConnections);
    case Limit:
        return loadDemoCountText(r.serverLimit);
    case Baseline:
        return loadDemoCountText(r.baselineServerConnections);
    case After:
        return loadDemoCountText(r.serverConnectionsAfter);
    case BackToBaseline:
        if (r.fatal || r.serverConnectionsAfter < 0)
            return QStringLiteral("-");
        return r.returnedToBaseline ? QStringLiteral("yes") : QStringLiteral("no");
    case LatencyP50:
        return loadDemoMs(r.latency, r.latency.p50Us);
    case LatencyP95:
        return loadDemoMs(r.latency, r.latency.p95Us);
    case LatencyP99:
        return loadDemoMs(r.latency, r.latency.p99Us);
    case AcquireP50:
        return loadDemoMs(r.acquireWait, r.acquireWait.p50Us);
    case AcquireP95:
        return loadDemoMs(r.acquireWait, r.acquireWait.p95Us);
    case AcquireP99:
        return loadDemoMs(r.acquireWait, r.acquireWait.p99Us);
    case Duration:
        return QString::number(r.durationSeconds, 'f', 1);
    case Status:
        return status(r);
    case ColumnCount:
        break;
    }
    return {};
}

QVariant LoadDemoRunsModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &row = m_rows.at(index.row());
    const LoadDemoRunSummary &r = row.summary;
    const int column = index.column();
    switch (role) {
    case Qt::DisplayRole:
        return text(row, column);
    case Qt::TextAlignmentRole:
        return QVariant::fromValue(isNumeric(column) ? Qt::AlignRight | Qt::AlignVCenter
                                                     : Qt::AlignLeft | Qt::AlignVCenter);
    case Qt::ToolTipRole:
        if (column >= TooManyConnections && column <= Other)
            return firstErrorsTip(r);
        if (column == Limit)
            return r.pooled && r.poolerPoolSize > 0
                ? tr("max_connections minus the superuser-reserved slots; PgBouncer's pool "
                     "size is %1")
                      .arg(r.poolerPoolSize)
                : tr("max_connections minus the superuser-reserved slots");
        if (column == Status)
            return firstErrorsTip(r);
        return {};
    case Qt::ForegroundRole: {
        const bool bad = (column == TooManyConnections && r.errors.tooManyConnections > 0)
            || (column == AcquireTimeout && r.errors.acquireTimeout > 0)
            || (column == Pooler && r.errors.pooler > 0) || (column == Other && r.errors.other > 0)
            || (column == BackToBaseline && !r.fatal && r.serverConnectionsAfter >= 0
                && !r.returnedToBaseline)
            || (column == Status && r.fatal);
        return bad ? QVariant(QBrush(QColor(0xc0, 0x39, 0x2b))) : QVariant();
    }
    default:
        return {};
    }
}

QVariant LoadDemoRunsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || section < 0 || section >= ColumnCount)
        return {};
    static const QStringList names {
        tr("Demo"),
        tr("Target"),
        tr("Endpoint"),
        tr("Instances"),
        tr("Pool"),
        tr("Requests"),
        tr("OK"),
        tr("Too many (53300)"),
        tr("Acquire timeout"),
        tr("Pooler"),
        tr("Other"),
        tr("Abandoned"),
        tr("Peak server"),
        tr("Limit"),
        tr("Baseline"),
        tr("After"),
        tr("Back to baseline"),
        tr("p50 ms"),
        tr("p95 ms"),
        tr("p99 ms"),
        tr("Acquire p50"),
        tr("Acquire p95"),
        tr("Acquire p99"),
        tr("Duration s"),
        tr("Status"),
    };
    if (role == Qt::DisplayRole)
        return names.at(section);
    if (role == Qt::ToolTipRole) {
        if (section >= LatencyP50 && section <= LatencyP99)
            return tr("Request latency of successful requests, from the scheduled arrival");
        if (section >= AcquireP50 && section <= AcquireP99)
            return tr("Wait for a connection from the instance's pool, ms");
        if (section == PeakServer)
            return tr("Highest server-side count of the target database's client backends");
        if (section == Abandoned)
            return tr("Still in flight when the drain grace ended: closed, not counted ok");
    }
    return {};
}

int LoadDemoRunsModel::addRun(const Row &row)
{
    const int at = int(m_rows.size());
    beginInsertRows({}, at, at);
    m_rows.append(row);
    endInsertRows();
    trim();
    return int(m_rows.size()) - 1;
}

QList<LoadDemoRunSummary> LoadDemoRunsModel::runsOfDemo(int demo) const
{
    QList<LoadDemoRunSummary> runs;
    for (const Row &row : m_rows) {
        if (row.demo == demo)
            runs << row.summary;
    }
    return runs;
}

void LoadDemoRunsModel::setMaxRows(int maxRows)
{
    m_maxRows = std::max(1, maxRows);
    trim();
}

void LoadDemoRunsModel::trim()
{
    const int excess = int(m_rows.size()) - m_maxRows;
    if (excess <= 0)
        return;
    beginRemoveRows({}, 0, excess - 1);
    m_rows.erase(m_rows.begin(), m_rows.begin() + excess);
    endRemoveRows();
}

QByteArray LoadDemoRunsModel::toCsv() const
{
    QStringList header;
    for (const char *name : kCsvHeader)
        header << QLatin1String(name);
    QByteArray out = header.join(QLatin1Char(',')).toUtf8() + "\n";
    auto ms3 = [](const LatencySummary &l, std::uint64_t us) {
        return l.count == 0 ? QString() : QString::number(double(us) / 1000.0, 'f', 3);
    };
    auto known = [](qint64 v) {
        return v < 0 ? QString() : QString::number(v);
    };
    for (const Row &row : m_rows) {
        const LoadDemoRunSummary &r = row.summary;
        const QStringList fields {
            QString::number(row.demo),
            csvField(r.target),
            csvField(r.displayName),
            QString::number(r.config.instances),
            QStringLiteral("%1:%2").arg(r.config.pool.minSize).arg(r.config.pool.maxSize),
            QString::number(r.requests),
            QString::number(r.ok),
            QString::number(r.errors.tooManyConnections),
            QString::number(r.errors.acquireTimeout),
            QString::number(r.errors.pooler),
            QString::number(r.errors.other),
            QString::number(r.abandoned),
            known(r.peakServerConnections),
            known(r.serverLimit),
            known(r.baselineServerConnections),
            known(r.serverConnectionsAfter),
            r.serverConnectionsAfter < 0
                ? QString()
                : (r.returnedToBaseline ? QStringLiteral("true") : QStringLiteral("false")),
            ms3(r.latency, r.latency.p50Us),
            ms3(r.latency, r.latency.p95Us),
            ms3(r.latency, r.latency.p99Us),
            ms3(r.acquireWait, r.acquireWait.p50Us),
            ms3(r.acquireWait, r.acquireWait.p95Us),
            ms3(r.acquireWait, r.acquireWait.p99Us),
            QString::number(r.durationSeconds, 'f', 3),
            status(r),
        };
        out += fields.join(QLatin1Char(',')).toUtf8() + "\n";
    }
    return out;
}

} // namespace poolscope::ui
