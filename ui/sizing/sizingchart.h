#pragma once

#include <QWidget>

#include <optional>

class QCustomPlot;
class QCPGraph;

namespace poolscope::ui {

// Demand (instances × pool max + other clients) against the instance count, with the direct
// limit (what the pools may use), the pooled limits (the pooler's client limit and its server
// pool per user/database pair) as horizontal lines, and the live peak as a marker. Follows the
// palette like TimeSeriesChart.
class SizingChart : public QWidget
{
    Q_OBJECT

public:
    struct Data
    {
        int poolMax = 0;       // per instance, the line's slope
        int otherClients = 0;  // the line's intercept
        int instances = 1;     // the current input (marked on the demand line)
        int available = 0;     // direct: max_connections - reserved - others... as the advisor says
        int poolerClients = 0; // pooled: client connections the pooler accepts
        int poolerServerPool = 0; // pooled: server connections per user/database pair
        bool pooled = false;      // the pooler is in use (its lines drawn solid)
        int maxSafeInstances = 0;
        std::optional<double> livePeak; // max of connections.total over the last hour
    };

    explicit SizingChart(QWidget *parent = nullptr);
    ~SizingChart() override;

    void setData(const Data &data);
    QCustomPlot *plot() const { return m_plot; }
    QCPGraph *demandGraph() const { return m_demand; }
    QCPGraph *directLimitGraph() const { return m_direct; }
    QCPGraph *poolerClientGraph() const { return m_poolerClients; }
    QCPGraph *poolerServerGraph() const { return m_poolerServers; }
    QCPGraph *livePeakGraph() const { return m_peak; }

protected:
    void changeEvent(QEvent *event) override;

private:
    void applyPalette();

    QCustomPlot *m_plot;
    QCPGraph *m_demand = nullptr;
    QCPGraph *m_current = nullptr;
    QCPGraph *m_direct = nullptr;
    QCPGraph *m_poolerClients = nullptr;
    QCPGraph *m_poolerServers = nullptr;
    QCPGraph *m_peak = nullptr;
};

} // namespace poolscope::ui
