#pragma once

#include "ui/charts/holdershistory.h"

#include <QWidget>

class QComboBox;
class QTableView;
class QVBoxLayout;

namespace poolscope {
class MonitorSession;
struct ActivitySample;
} // namespace poolscope

namespace poolscope::ui {

class HoldersModel;
class TimeSeriesChart;

// The Overview's "Who holds the connections": connections stacked over time by the top holders
// of one dimension (application by default; the selector switches to user, database or client
// address) with "other", and below it the latest sample's holders as a table (total, active,
// idle, idle in transaction, oldest connection, longest idle in transaction). Clicking a holder
// emits holderActivated; "other" is not a holder and emits nothing.
//
// It only reads MonitorSession's signals (never the network) and keeps its own bounded history
// (HoldersHistory, at most HoldersHistory::memoryBudgetBytes()). The chart is rebuilt when the
// set of charted holders or the dimension changes, keeping the window, Live/paused and range.
class HoldersPanel : public QWidget
{
    Q_OBJECT

public:
    explicit HoldersPanel(MonitorSession *session, QWidget *parent = nullptr);
    ~HoldersPanel() override;

    HolderDimension dimension() const { return m_dimension; }
    void setDimension(HolderDimension dimension);
    QComboBox *dimensionSelector() const { return m_selector; }
    QTableView *table() const { return m_table; }
    HoldersModel *model() const { return m_model; }
    TimeSeriesChart *chart() const { return m_chart; }
    const HoldersHistory &history() const { return m_history; }

    // Follow the page's time controls, as its other charts do.
    void setWindowMs(qint64 windowMs);
    void setLive(bool live);
    void showRange(qint64 fromMs, qint64 toMs);

Q_SIGNALS:
    void holderActivated(poolscope::ui::HolderDimension dimension, const QString &key);
    void liveChanged(bool live);
    void userRangeChanged(qint64 fromMs, qint64 toMs);

private:
    void onSampled(const ActivitySample &sample);
    void rebuildChartIfNeeded();
    void rebuildChart();
    void activate(const QModelIndex &index);

    MonitorSession *m_session;
    HoldersHistory m_history;
    HolderDimension m_dimension = HolderDimension::Application;
    std::array<QList<BreakdownEntry>, kHolderDimensionCount> m_latest;
    HoldersModel *m_model = nullptr;
    QComboBox *m_selector = nullptr;
    QTableView *m_table = nullptr;
    QVBoxLayout *m_chartSlot = nullptr;
    TimeSeriesChart *m_chart = nullptr;
    QStringList m_chartKeys;
    int m_chartGeneration = -1;
    HolderDimension m_chartDimension = HolderDimension::Application;
    qint64 m_windowMs = 5 * 60 * 1000;
    qint64 m_newestMs = 0;
    bool m_live = true;
};

} // namespace poolscope::ui
