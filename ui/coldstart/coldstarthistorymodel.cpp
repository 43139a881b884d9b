#include "ui/coldstart/coldstarthistorymodel.h"

#include "ui/coldstart/coldstartformat.h"

#include <QBrush>
#include <QColor>
#include <QLocale>

namespace poolscope::ui {

using coldstartformat::ms;
using coldstartformat::verdictColor;

ColdStartHistoryModel::ColdStartHistoryModel(QObject *parent)
    : QAbstractTableModel(parent)
{
}

ColdStartHistoryModel::~ColdStartHistoryModel() = default;

int ColdStartHistoryModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int ColdStartHistoryModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant ColdStartHistoryModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case Id:
        return tr("Run");
    case Time:
        return tr("Time");
    case Target:
        return tr("Target");
    case Trials:
        return tr("Trials");
    case P50:
        return tr("p50");
    case P95:
        return tr("p95");
    case Max:
        return tr("max");
    case WarmP50:
        return tr("warm p50");
    case Verdict:
        return tr("Verdict");
    default:
        return {};
    }
}

QVariant ColdStartHistoryModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const Row &row = m_rows.at(index.row());
    const ColdStartRun &run = *row.run;
    const ColdStartTargetResult *result = row.target >= 0 ? &run.results.at(row.target) : nullptr;
    const int column = index.column();

    if (role == Qt::TextAlignmentRole) {
        return column == Target || column == Verdict
            ? QVariant(int(Qt::AlignLeft | Qt::AlignVCenter))
            : QVariant(int(Qt::AlignRight | Qt::AlignVCenter));
    }
    if (role == Qt::ForegroundRole && column == Verdict) {
        if (!result)
            return QBrush(verdictColor(QStringLiteral("warn")));
        return QBrush(verdictColor(result->report.verdict));
    }
    if (role == Qt::ToolTipRole) {
        if (column == Verdict && result)
            return result->report.reason;
        if (column == Target && result)
            return result->displayName;
        return {};
    }
    if (role != Qt::DisplayRole)
        return {};

    switch (column) {
    case Id:
        return run.id;
    case Time:
        return QLocale().toString(run.startedAt.toLocalTime().time(), QStringLiteral("HH:mm:ss"));
    case Target:
        return result ? result->label : tr("(none finished)");
    case Trials:
        return result ? QStringLiteral("%1/%2")
                            .arg(result->report.okTrials())
                            .arg(std::max(1, run.options.trials))
                      : QStringLiteral("0/%1").arg(std::max(1, run.options.trials));
    case P50:
        return result && result->report.okTrials() > 0 ? ms(result->report.p50TotalMs) : QString();
    case P95:
        return result && result->report.okTrials() > 0 ? ms(result->report.p95TotalMs) : QString();
    case Max:
        return result && result->report.okTrials() > 0 ? ms(result->report.maxTotalMs) : QString();
    case WarmP50:
        return result && !result->report.warmQueryMs.isEmpty() ? ms(result->report.warmP50Ms)
                                                               : QString();
    case Verdict: {
        QString text = result ? result->report.verdict : QString();
        if (run.cancelled)
            text = text.isEmpty() ? tr("cancelled") : tr("%1 (cancelled)").arg(text);
        return text;
    }
    default:
        return {};
    }
}

int ColdStartHistoryModel::addRun(const ColdStartRun &run)
{
    while (m_runs.size() >= m_maxRuns)
        dropOldestRun();
    auto shared = std::make_shared<const ColdStartRun>(run);
    const int first = int(m_rows.size());
    const int count = std::max(1, int(run.results.size()));
    beginInsertRows({}, first, first + count - 1);
    m_runs.append(shared);
    if (run.results.isEmpty()) {
        m_rows.append(Row { shared, -1 });
    } else {
        for (int i = 0; i < run.results.size(); ++i)
            m_rows.append(Row { shared, i });
    }
    endInsertRows();
    return first;
}

void ColdStartHistoryModel::setMaxRuns(int maxRuns)
{
    m_maxRuns = std::max(1, maxRuns);
    while (m_runs.size() > m_maxRuns)
        dropOldestRun();
}

void ColdStartHistoryModel::dropOldestRun()
{
    if (m_runs.isEmpty())
        return;
    const auto oldest = m_runs.constFirst();
    int count = 0;
    while (count < m_rows.size() && m_rows.at(count).run == oldest)
        ++count;
    beginRemoveRows({}, 0, count - 1);
    m_rows.remove(0, count);
    m_runs.removeFirst();
    endRemoveRows();
}

const ColdStartRun &ColdStartHistoryModel::runAt(int row) const
{
    return *m_rows.at(row).run;
}

int ColdStartHistoryModel::targetIndexAt(int row) const
{
    return m_rows.at(row).target;
}

QList<ColdStartRun> ColdStartHistoryModel::runs() const
{
    QList<ColdStartRun> out;
    out.reserve(m_runs.size());
    for (const auto &run : m_runs)
        out.append(*run);
    return out;
}

int ColdStartHistoryModel::rowOfRun(int runId) const
{
    for (int i = 0; i < m_rows.size(); ++i) {
        if (m_rows.at(i).run->id == runId)
            return i;
    }
    return -1;
}

} // namespace poolscope::ui
