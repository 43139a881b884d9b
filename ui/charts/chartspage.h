#pragma once

#include <QList>
#include <QWidget>

class QComboBox;
class QGridLayout;
class QLabel;
class QToolButton;

namespace poolscope {
class MonitorSession;
struct ActivitySample;
} // namespace poolscope

namespace poolscope::ui {

class HoldersPanel;
class TimeSeriesChart;

// The "Overview" page: connections by state against the server's limits, who holds them
// (HoldersPanel), the pooler, the rates and the app's own pool when there is one, with a shared
// time window, Live/Pause and exports. It observes the session's signals and reads its store; it
// never talks to a server.
class ChartsPage : public QWidget
{
    Q_OBJECT

public:
    enum class ChartId { Connections, OwnPool, Pooler, Rates };
    enum class ExportFormat { Png, Pdf, Csv };

    explicit ChartsPage(MonitorSession *session, QWidget *parent = nullptr);

    TimeSeriesChart *chart(ChartId id) const;
    QList<TimeSeriesChart *> charts() const { return m_charts; }
    QComboBox *windowSelector() const { return m_windowSelector; }
    QToolButton *liveButton() const { return m_liveButton; }
    QString headroomText() const;
    QString exhaustionText() const;
    bool poolerChartShown() const;  // false while no pooler series exists (note shown instead)
    bool ownPoolChartShown() const; // only while the session has a pool of its own
    HoldersPanel *holdersPanel() const { return m_holders; }

    static QList<qint64> windowChoicesMs(); // 1 min … 24 h, in selector order

    // Asks for a file name, then exports (the toolbar's and context menus' entry point).
    void exportWithDialog(TimeSeriesChart *chart, ExportFormat format);

private:
    void buildCharts();
    QWidget *addPlaceholder(TimeSeriesChart *chart, const QString &note);
    void addExportActions(TimeSeriesChart *chart, QMenu *toolbarMenu);
    void setLive(bool live);
    void onSampled(const ActivitySample &sample);
    void noteNewData(qint64 newestMs);
    void updatePlaceholders();

    MonitorSession *m_session;
    QList<TimeSeriesChart *> m_charts;                 // ChartId order
    QList<QPair<TimeSeriesChart *, QLabel *>> m_notes; // charts hidden until their series exist
    QComboBox *m_windowSelector = nullptr;
    QToolButton *m_liveButton = nullptr;
    QLabel *m_headroom = nullptr;
    QLabel *m_exhaustion = nullptr;
    HoldersPanel *m_holders = nullptr;
    QGridLayout *m_grid = nullptr;
};

} // namespace poolscope::ui
