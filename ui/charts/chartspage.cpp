#include "ui/charts/chartspage.h"

#include "core/monitor/monitorsession.h"
#include "core/sampler/samplerseries.h"
#include "ui/charts/headroom.h"
#include "ui/charts/holderspanel.h"
#include "ui/charts/incidentheadline.h"
#include "ui/charts/ratesnote.h"
#include "ui/charts/timeserieschart.h"

#include <QAction>
#include <QComboBox>
#include <QDateTime>
#include <QFileDialog>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QToolButton>
#include <QVBoxLayout>

namespace poolscope::ui {

namespace {

constexpr qint64 kMinute = 60 * 1000;

ChartSeriesSpec stacked(const QString &name, const QString &label, QColor color)
{
    return { name, label, color, SeriesStyle::StackedArea, false };
}

ChartSeriesSpec line(const QString &name, const QString &label, QColor color, bool right = false)
{
    return { name, label, color, SeriesStyle::Line, right };
}

ChartSeriesSpec limit(const QString &name, const QString &label, QColor color)
{
    return { name, label, color, SeriesStyle::Limit, false };
}

} // namespace

ChartsPage::ChartsPage(MonitorSession *session, QWidget *parent)
    : QWidget(parent)
    , m_session(session)
{
    auto *bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Window:"), this));
    m_windowSelector = new QComboBox(this);
    const QStringList names = { tr("1 min"), tr("5 min"), tr("15 min"),
                                tr("1 h"),   tr("6 h"),   tr("24 h") };
    for (qsizetype i = 0; i < names.size(); ++i)
        m_windowSelector->addItem(names.at(i), windowChoicesMs().at(i));
    bar->addWidget(m_windowSelector);

    m_liveButton = new QToolButton(this);
    m_liveButton->setCheckable(true);
    m_liveButton->setChecked(true);
    m_liveButton->setText(tr("Live"));
    m_liveButton->setToolTip(tr("Follow the newest samples; drag or zoom a chart to pause"));
    bar->addWidget(m_liveButton);

    auto *exportButton = new QToolButton(this);
    exportButton->setText(tr("Export"));
    exportButton->setPopupMode(QToolButton::InstantPopup);
    auto *exportMenu = new QMenu(exportButton);
    exportButton->setMenu(exportMenu);
    bar->addWidget(exportButton);
    bar->addStretch(1);

    m_headroom = new QLabel(tr("No sample yet"), this);
    QFont big = m_headroom->font();
    big.setPointSizeF(big.pointSizeF() * 1.3);
    big.setBold(true);
    m_headroom->setFont(big);
    m_exhaustion = new QLabel(this);
    m_exhaustion->setStyleSheet(QStringLiteral("color: #b00020;"));
    auto *figures = new QHBoxLayout;
    figures->addWidget(m_headroom);
    figures->addSpacing(24);
    figures->addWidget(m_exhaustion);
    figures->addStretch(1);

    buildCharts();
    auto *grid = m_grid = new QGridLayout;
    // Who holds the connections sits beside the connections. PoolScope's own pool exists only
    // in a session with a pool of its own (--demo): it gets a row of its own, shown once its
    // series exist, instead of a quarter of the page saying it is not there.
    m_holders = new HoldersPanel(m_session, this);
    grid->addWidget(m_charts.at(0), 0, 0);
    grid->addWidget(m_holders, 0, 1);
    grid->addWidget(addPlaceholder(m_charts.at(2), tr("No pooler console configured")), 1, 0);
    grid->addWidget(m_charts.at(3), 1, 1);
    grid->addWidget(m_charts.at(1), 2, 0, 1, 2);
    m_charts.at(1)->hide();
    grid->setColumnStretch(0, 1);
    grid->setColumnStretch(1, 1);
    grid->setRowStretch(0, 1);
    grid->setRowStretch(1, 1);
    for (TimeSeriesChart *c : std::as_const(m_charts))
        addExportActions(c, exportMenu);

    auto *layout = new QVBoxLayout(this);
    // What is wrong right now, in words, above everything else on the page.
    layout->addWidget(new IncidentHeadline(m_session, this));
    layout->addLayout(bar);
    layout->addLayout(figures);
    layout->addLayout(grid, 1);

    auto applyWindow = [this] {
        const qint64 window = m_windowSelector->currentData().toLongLong();
        for (TimeSeriesChart *c : std::as_const(m_charts))
            c->setWindowMs(window);
        m_holders->setWindowMs(window);
    };
    connect(m_windowSelector, &QComboBox::currentIndexChanged, this, applyWindow);
    m_windowSelector->setCurrentIndex(1); // 5 min: a newcomer sees the lines move at once
    applyWindow();
    connect(m_liveButton, &QToolButton::toggled, this, &ChartsPage::setLive);
    // The holders chart shares the page's time axis and Live/Paused like the charts above.
    connect(m_holders, &HoldersPanel::liveChanged, this, [this](bool live) {
        if (!live)
            m_liveButton->setChecked(false);
    });
    connect(m_holders, &HoldersPanel::userRangeChanged, this, [this](qint64 f, qint64 t) {
        for (TimeSeriesChart *c : std::as_const(m_charts))
            c->showRange(f, t);
    });
    for (TimeSeriesChart *c : std::as_const(m_charts))
        connect(c, &TimeSeriesChart::userRangeChanged, m_holders, &HoldersPanel::showRange);

    connect(m_session, &MonitorSession::sampled, this, &ChartsPage::onSampled);
    connect(m_session, &MonitorSession::poolerSampled, this,
            [this](const PoolerSample &s) { noteNewData(s.takenAt.toMSecsSinceEpoch()); });
    connect(m_session, &MonitorSession::poolStatsSampled, this,
            [this](const PoolStats &s) { noteNewData(s.takenAt.toMSecsSinceEpoch()); });
    // The sampler writes its gap marker with the client's clock.
    connect(m_session, &MonitorSession::connectionLost, this,
            [this] { noteNewData(QDateTime::currentMSecsSinceEpoch()); });
    updatePlaceholders();
}

QList<qint64> ChartsPage::windowChoicesMs()
{
    return { kMinute, 5 * kMinute, 15 * kMinute, 60 * kMinute, 360 * kMinute, 1440 * kMinute };
}

void ChartsPage::buildCharts()
{
    const TimeSeriesStore &store = m_session->store();
    ChartSpec connections { tr("Server connections by state"), tr("connections"), {}, {} };
    // `waiting` is a subset of `active` (active, blocked on a lock): a line, not a layer.
    // The stack uses bucket means; the total line keeps each pixel's min/max so a one-second
    // spike stays visible at 24 h.
    connections.series = {
        stacked(series::Active, tr("active"), QColor(0x2e, 0x7d, 0x32)),
        stacked(series::IdleInTransaction, tr("idle in transaction"), QColor(0xef, 0x6c, 0x00)),
        stacked(series::IdleInTransactionAborted, tr("idle in transaction (aborted)"),
                QColor(0xc6, 0x28, 0x28)),
        stacked(series::OtherState, tr("other"), QColor(0x75, 0x75, 0x75)),
        stacked(series::Idle, tr("idle"), QColor(0x42, 0x85, 0xf4)),
        line(series::Total, tr("total (min–max)"), QColor(0x45, 0x5a, 0x64)),
        line(series::Waiting, tr("waiting on a lock"), QColor(0xd5, 0x00, 0xf9)),
        limit(series::MaxConnections, tr("max_connections"), QColor(0xb0, 0x00, 0x20)),
        limit(series::UsableByOrdinaryRoles, tr("usable by ordinary roles"),
              QColor(0xff, 0x8f, 0x00)),
    };
    ChartSpec pool {
        tr("PoolScope's own pool"), tr("connections"), tr("acquire wait p95 (ms)"), {}
    };
    pool.series = {
        stacked(series::PoolInUse, tr("in use"), QColor(0x2e, 0x7d, 0x32)),
        stacked(series::PoolIdle, tr("idle"), QColor(0x42, 0x85, 0xf4)),
        line(series::PoolWaiting, tr("waiting callers"), QColor(0xc6, 0x28, 0x28)),
        line(series::PoolAcquireWaitP95, tr("acquire wait p95 (ms)"), QColor(0x6a, 0x1b, 0x9a),
             true),
    };
    ChartSpec pooler { tr("Pooler (PgBouncer)"), tr("connections"), tr("maxwait (s)"), {} };
    pooler.series = {
        line(series::PoolerClientsActive, tr("cl_active"), QColor(0x2e, 0x7d, 0x32)),
        line(series::PoolerClientsWaiting, tr("cl_waiting"), QColor(0xc6, 0x28, 0x28)),
        line(series::PoolerServersActive, tr("sv_active"), QColor(0x00, 0x69, 0x5c)),
        line(series::PoolerServersIdle, tr("sv_idle"), QColor(0x42, 0x85, 0xf4)),
        line(series::PoolerMaxWait, tr("maxwait (s)"), QColor(0x6a, 0x1b, 0x9a), true),
    };
    // Which of these are drawn, and the source and "pending" note under the chart: RatesNote.
    ChartSpec rates { tr("Rates"), tr("per second"), tr("avg client wait (ms)"), {} };
    rates.series = {
        line(series::PoolerTransactionsPerSecond, tr("transactions/s (PgBouncer)"),
             QColor(0x15, 0x65, 0xc0)),
        line(series::PoolerQueriesPerSecond, tr("queries/s (PgBouncer)"), QColor(0x00, 0x83, 0x8f)),
        line(series::TransactionsPerSecond, tr("transactions/s (server, trailing avg)"),
             QColor(0x15, 0x65, 0xc0)),
        line(series::SessionsPerSecond, tr("new sessions/s (server, trailing avg)"),
             QColor(0xef, 0x6c, 0x00)),
        line(series::PoolerAvgWait, tr("avg client wait per transaction (ms)"),
             QColor(0x6a, 0x1b, 0x9a), true),
    };
    for (const ChartSpec &spec : { connections, pool, pooler, rates }) {
        auto *chart = new TimeSeriesChart(store, spec, this);
        chart->setWindowMs(15 * kMinute);
        connect(chart, &TimeSeriesChart::liveChanged, this, [this](bool live) {
            if (!live)
                m_liveButton->setChecked(false);
        });
        // One time axis for the page: zooming one chart shows the same moment in the others.
        connect(chart, &TimeSeriesChart::userRangeChanged, this, [this, chart](qint64 f, qint64 t) {
            for (TimeSeriesChart *other : std::as_const(m_charts)) {
                if (other != chart)
                    other->showRange(f, t);
            }
        });
        m_charts.append(chart);
    }
    new RatesNote(m_session, chart(ChartId::Rates));
}

QWidget *ChartsPage::addPlaceholder(TimeSeriesChart *chart, const QString &note)
{
    auto *box = new QWidget(this);
    auto *layout = new QVBoxLayout(box);
    layout->setContentsMargins(0, 0, 0, 0);
    auto *label = new QLabel(chart->spec().title + QStringLiteral("\n\n") + note, box);
    label->setAlignment(Qt::AlignCenter);
    label->setEnabled(false); // greyed
    label->setFrameShape(QFrame::StyledPanel);
    layout->addWidget(label);
    layout->addWidget(chart);
    m_notes.append({ chart, label });
    return box;
}

void ChartsPage::addExportActions(TimeSeriesChart *chart, QMenu *toolbarMenu)
{
    const QString title = chart->spec().title;
    const QList<QPair<ExportFormat, QString>> entries = {
        { ExportFormat::Png, tr("Save chart as PNG…") },
        { ExportFormat::Pdf, tr("Save chart as PDF…") },
        { ExportFormat::Csv, tr("Export shown window as CSV…") },
    };
    QMenu *sub = toolbarMenu->addMenu(title);
    chart->setContextMenuPolicy(Qt::ActionsContextMenu);
    for (const auto &[format, text] : entries) {
        auto *action = new QAction(text, chart);
        connect(action, &QAction::triggered, this,
                [this, chart, format = format] { exportWithDialog(chart, format); });
        chart->addAction(action);
        sub->addAction(action);
    }
}

void ChartsPage::exportWithDialog(TimeSeriesChart *chart, ExportFormat format)
{
    const QString filter = format == ExportFormat::Png ? tr("PNG image (*.png)")
        : format == ExportFormat::Pdf                  ? tr("PDF document (*.pdf)")
                                                       : tr("CSV file (*.csv)");
    const QString path = QFileDialog::getSaveFileName(this, tr("Export"), QString(), filter);
    if (path.isEmpty())
        return;
    QString error;
    const bool ok = format == ExportFormat::Png ? chart->exportPng(path, &error)
        : format == ExportFormat::Pdf           ? chart->exportPdf(path, &error)
                                                : chart->exportCsv(path, &error);
    if (!ok)
        QMessageBox::warning(this, tr("Export failed"), error);
}

TimeSeriesChart *ChartsPage::chart(ChartId id) const
{
    return m_charts.value(int(id), nullptr);
}

QString ChartsPage::headroomText() const
{
    return m_headroom->text();
}

QString ChartsPage::exhaustionText() const
{
    return m_exhaustion->text();
}

bool ChartsPage::ownPoolChartShown() const
{
    return !chart(ChartId::OwnPool)->isHidden();
}

bool ChartsPage::poolerChartShown() const
{
    return !chart(ChartId::Pooler)->isHidden();
}

void ChartsPage::setLive(bool live)
{
    m_liveButton->setText(live ? tr("Live") : tr("Paused"));
    for (TimeSeriesChart *c : std::as_const(m_charts))
        c->setLive(live);
    m_holders->setLive(live);
}

void ChartsPage::onSampled(const ActivitySample &sample)
{
    const qint64 at = sample.takenAt.toMSecsSinceEpoch();
    noteNewData(at);
    m_headroom->setText(ui::headroomText(sample));
    const double usable = sample.limits.usableByOrdinaryRoles();
    m_exhaustion->setText(
        ui::exhaustionText(estimateSecondsToExhaustion(m_session->store(), at, usable)));
}

void ChartsPage::noteNewData(qint64 newestMs)
{
    for (TimeSeriesChart *c : std::as_const(m_charts))
        c->noteNewData(newestMs);
    updatePlaceholders();
}

void ChartsPage::updatePlaceholders()
{
    const QStringList names = m_session->store().seriesNames();
    for (const auto &[chart, note] : std::as_const(m_notes)) {
        const bool hasData = names.contains(chart->spec().series.constFirst().name);
        chart->setVisible(hasData);
        note->setVisible(!hasData);
    }
    TimeSeriesChart *ownPool = chart(ChartId::OwnPool);
    const bool ownPoolShown = names.contains(ownPool->spec().series.constFirst().name);
    ownPool->setVisible(ownPoolShown);
    // A stretched row keeps its share of the height even when its only widget is hidden.
    m_grid->setRowStretch(2, ownPoolShown ? 1 : 0);
}

} // namespace poolscope::ui
