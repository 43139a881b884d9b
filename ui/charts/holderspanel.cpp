#include "ui/charts/holderspanel.h"

#include "core/monitor/monitorsession.h"
#include "ui/charts/holdersmodel.h"
#include "ui/charts/timeserieschart.h"

#include <QComboBox>
#include <QDateTime>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QTableView>
#include <QVBoxLayout>

namespace poolscope::ui {

namespace {

// Distinct from the state colours of the connections chart; grey is "other".
const QColor kHolderColors[HoldersHistory::kChartedHolders] = {
    QColor(0x1e, 0x88, 0xe5), QColor(0xfb, 0x8c, 0x00), QColor(0x43, 0xa0, 0x47),
    QColor(0x8e, 0x24, 0xaa), QColor(0xe5, 0x39, 0x35), QColor(0x00, 0xac, 0xc1),
    QColor(0x6d, 0x4c, 0x41),
};
const QColor kOtherColor(0x9e, 0x9e, 0x9e);

QString dimensionLabel(HolderDimension dimension)
{
    switch (dimension) {
    case HolderDimension::Application:
        return HoldersPanel::tr("application");
    case HolderDimension::User:
        return HoldersPanel::tr("user");
    case HolderDimension::Database:
        return HoldersPanel::tr("database");
    case HolderDimension::Client:
        return HoldersPanel::tr("client address");
    }
    return {};
}

} // namespace

HoldersPanel::HoldersPanel(MonitorSession *session, QWidget *parent)
    : QWidget(parent)
    , m_session(session)
{
    setObjectName(QStringLiteral("holdersPanel"));
    auto *bar = new QHBoxLayout;
    auto *title = new QLabel(tr("Who holds the connections, by"), this);
    QFont bold = title->font();
    bold.setBold(true);
    title->setFont(bold);
    m_selector = new QComboBox(this);
    for (int i = 0; i < kHolderDimensionCount; ++i)
        m_selector->addItem(dimensionLabel(HolderDimension(i)), i);
    bar->addWidget(title);
    bar->addWidget(m_selector);
    bar->addStretch(1);

    m_model = new HoldersModel(this);
    m_table = new QTableView(this);
    m_table->setObjectName(QStringLiteral("holdersTable"));
    m_table->setModel(m_model);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->verticalHeader()->hide();
    // Compact rows: the panel shares a quarter of the page with its chart.
    m_table->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setSectionResizeMode(HoldersModel::Holder, QHeaderView::Stretch);
    m_table->setWordWrap(false);

    m_chartSlot = new QVBoxLayout;
    m_chartSlot->setContentsMargins(0, 0, 0, 0);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(bar);
    layout->addLayout(m_chartSlot, 1);
    layout->addWidget(m_table, 1);

    connect(m_selector, &QComboBox::currentIndexChanged, this,
            [this] { setDimension(HolderDimension(m_selector->currentData().toInt())); });
    connect(m_table, &QTableView::clicked, this, &HoldersPanel::activate);
    connect(m_table, &QTableView::activated, this, &HoldersPanel::activate);
    connect(m_session, &MonitorSession::sampled, this, &HoldersPanel::onSampled);
    connect(m_session, &MonitorSession::connectionLost, this, [this] {
        // The sampler marks its gap with the client's clock; so does this history.
        m_newestMs = QDateTime::currentMSecsSinceEpoch();
        m_history.recordGap(m_newestMs);
        if (m_chart)
            m_chart->noteNewData(m_newestMs);
    });
    connect(m_session, &MonitorSession::watching, this, [this] {
        m_history.clear();
        m_latest = {};
        m_model->setEntries({});
        rebuildChartIfNeeded();
    });
    rebuildChart();
}

HoldersPanel::~HoldersPanel() = default;

void HoldersPanel::setDimension(HolderDimension dimension)
{
    if (dimension == m_dimension)
        return;
    m_dimension = dimension;
    {
        const QSignalBlocker blocker(m_selector);
        m_selector->setCurrentIndex(int(dimension));
    }
    m_model->setEntries(m_latest[int(dimension)]);
    rebuildChartIfNeeded();
}

void HoldersPanel::setWindowMs(qint64 windowMs)
{
    m_windowMs = windowMs;
    m_chart->setWindowMs(windowMs);
}

void HoldersPanel::setLive(bool live)
{
    m_live = live;
    m_chart->setLive(live);
}

void HoldersPanel::showRange(qint64 fromMs, qint64 toMs)
{
    m_live = false;
    m_chart->showRange(fromMs, toMs);
}

void HoldersPanel::onSampled(const ActivitySample &sample)
{
    m_history.record(sample);
    for (int i = 0; i < kHolderDimensionCount; ++i)
        m_latest[i] = breakdownOf(sample, HolderDimension(i));
    m_model->setEntries(m_latest[int(m_dimension)]);
    // Before returning to the event loop: a retirement replaced the store the chart reads.
    rebuildChartIfNeeded();
    m_newestMs = sample.takenAt.toMSecsSinceEpoch();
    m_chart->noteNewData(m_newestMs);
}

void HoldersPanel::rebuildChartIfNeeded()
{
    if (m_chartDimension != m_dimension || m_chartKeys != m_history.keys(m_dimension)
        || m_chartGeneration != m_history.generation(m_dimension))
        rebuildChart();
}

void HoldersPanel::rebuildChart()
{
    const QStringList keys = m_history.keys(m_dimension);
    ChartSpec spec {
        tr("Connections by %1").arg(dimensionLabel(m_dimension)), tr("connections"), {}, {}
    };
    // "other" at the bottom of the stack, the charted holders above it in the order first seen.
    spec.series.append({ HoldersHistory::otherSeries(), tr("other"), kOtherColor,
                         SeriesStyle::StackedArea, false });
    for (qsizetype i = 0; i < keys.size(); ++i) {
        const QString &key = keys.at(i);
        spec.series.append({ HoldersHistory::seriesName(key), key.isEmpty() ? tr("(empty)") : key,
                             kHolderColors[i % HoldersHistory::kChartedHolders],
                             SeriesStyle::StackedArea, false });
    }

    std::optional<std::pair<qint64, qint64>> pausedRange;
    if (m_chart && !m_chart->isLive())
        pausedRange = std::make_pair(m_chart->shownFromMs(), m_chart->shownToMs());
    auto *chart = new TimeSeriesChart(m_history.store(m_dimension), spec, this);
    chart->setObjectName(QStringLiteral("holdersChart"));
    chart->setWindowMs(m_windowMs);
    if (m_newestMs > 0)
        chart->noteNewData(m_newestMs);
    if (pausedRange)
        chart->showRange(pausedRange->first, pausedRange->second);
    else
        chart->setLive(m_live);
    connect(chart, &TimeSeriesChart::liveChanged, this, [this](bool live) {
        m_live = live;
        Q_EMIT liveChanged(live);
    });
    connect(chart, &TimeSeriesChart::userRangeChanged, this, &HoldersPanel::userRangeChanged);

    if (m_chart) {
        m_chartSlot->removeWidget(m_chart);
        delete m_chart; // it reads a store that may be gone: never let it refresh again
    }
    m_chart = chart;
    m_chartSlot->addWidget(chart);
    m_chartKeys = keys;
    m_chartGeneration = m_history.generation(m_dimension);
    m_chartDimension = m_dimension;
}

void HoldersPanel::activate(const QModelIndex &index)
{
    if (!index.isValid() || index.data(HoldersModel::IsOtherRole).toBool())
        return;
    Q_EMIT holderActivated(m_dimension, index.data(HoldersModel::KeyRole).toString());
}

} // namespace poolscope::ui
