#include "ui/coldstart/coldstartsummary.h"

#include "ui/coldstart/coldstartformat.h"

#include <QHeaderView>
#include <QLabel>
#include <QTableWidget>
#include <QVBoxLayout>

namespace poolscope::ui {

using coldstartformat::ms;
using coldstartformat::verdictColor;

ColdStartSummary::ColdStartSummary(QWidget *parent)
    : QWidget(parent)
    , m_headline(new QLabel(this))
    , m_table(new QTableWidget(RowCount, 1, this))
{
    m_headline->setObjectName(QStringLiteral("coldStartHeadline"));
    m_headline->setWordWrap(true);
    m_headline->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_table->setObjectName(QStringLiteral("coldStartSummaryTable"));
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionMode(QAbstractItemView::NoSelection);
    m_table->setWordWrap(true);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_table->horizontalHeader()->setMinimumSectionSize(60);
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    // Wrapped rows (the reason, the remedy) follow the column width as the window is resized.
    connect(m_table->horizontalHeader(), &QHeaderView::sectionResized, m_table,
            &QTableWidget::resizeRowsToContents);
    m_table->setVerticalHeaderLabels({ tr("Endpoint"), tr("Trials ok"), tr("First connection p50"),
                                       tr("First connection p95"), tr("First connection max"),
                                       tr("Warm query p50"), tr("Warm query p95"),
                                       tr("Query after idle"), tr("Pool checkout after idle"),
                                       tr("Verdict"), tr("Why"), tr("Error"), tr("Remedy") });

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_headline);
    layout->addWidget(m_table, 1);
    clear();
}

ColdStartSummary::~ColdStartSummary() = default;

void ColdStartSummary::clear()
{
    m_table->clearContents();
    m_table->setColumnCount(1);
    m_table->setHorizontalHeaderLabels({ tr("Guide") });
    m_table->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    m_headline->setText(tr("No run yet: press Run to measure first connections."));
}

void ColdStartSummary::showRun(const ColdStartRun &run)
{
    m_table->clearContents();
    m_table->setColumnCount(1 + int(run.results.size()));
    QStringList headers { tr("Guide") };
    for (const ColdStartTargetResult &r : run.results)
        headers << r.label;
    m_table->setHorizontalHeaderLabels(headers);
    m_table->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);

    auto set = [this](int row, int column, const QString &text) {
        auto *item = new QTableWidgetItem(text);
        item->setToolTip(text);
        m_table->setItem(row, column, item);
        return item;
    };
    // The guide's figures; its 2-5 s predates Neon's documented activation time.
    set(P50, 0, tr("2-5 s"));
    set(P95, 0, tr("2-5 s (Neon: a few hundred ms)"));
    set(Max, 0, tr("2-5 s"));
    set(WarmP50, 0, tr("< 500 ms"));
    set(WarmP95, 0, tr("< 500 ms"));
    set(AfterIdle, 0, tr("works, < 500 ms"));
    set(PoolCheckout, 0, tr("works"))
        ->setToolTip(tr("The pool validates an idle connection on checkout and replaces a dead "
                        "one"));

    QStringList verdicts;
    for (int i = 0; i < run.results.size(); ++i) {
        const ColdStartTargetResult &r = run.results.at(i);
        const ColdStartReport &rep = r.report;
        const int c = i + 1;
        const bool any = rep.okTrials() > 0;
        set(Endpoint, c, r.displayName);
        set(Trials, c,
            tr("%1 of %2").arg(rep.okTrials()).arg(std::max(1, run.options.trials))
                + (rep.cancelled ? tr(" (cancelled)") : QString()));
        set(P50, c, any ? ms(rep.p50TotalMs) : tr("n/a"));
        set(P95, c, any ? ms(rep.p95TotalMs) : tr("n/a"));
        set(Max, c, any ? ms(rep.maxTotalMs) : tr("n/a"));
        const bool warm = !rep.warmQueryMs.isEmpty();
        set(WarmP50, c, warm ? ms(rep.warmP50Ms) : tr("none run"));
        set(WarmP95, c, warm ? ms(rep.warmP95Ms) : tr("none run"));
        QString idle = tr("off");
        if (rep.afterIdleError)
            idle = tr("failed: %1").arg(rep.afterIdleError->summary());
        else if (rep.afterIdleMs)
            idle = tr("%1 after %2 s idle")
                       .arg(ms(*rep.afterIdleMs))
                       .arg(double(run.options.idleBefore.count()) / 1000.0);
        set(AfterIdle, c, idle);
        QString pool = tr("off");
        if (rep.poolAfterIdleError)
            pool = tr("failed: %1").arg(rep.poolAfterIdleError->summary());
        else if (rep.poolCheckoutAfterIdleMs)
            pool = tr("checkout %1, query %2%3")
                       .arg(ms(*rep.poolCheckoutAfterIdleMs),
                            rep.poolQueryAfterIdleMs ? ms(*rep.poolQueryAfterIdleMs) : tr("n/a"),
                            rep.poolReconnected ? tr(" (the pool reconnected)") : QString());
        set(PoolCheckout, c, pool);
        QTableWidgetItem *verdict = set(Verdict, c, rep.verdict.toUpper());
        verdict->setForeground(Qt::white);
        verdict->setBackground(verdictColor(rep.verdict));
        QFont bold = verdict->font();
        bold.setBold(true);
        verdict->setFont(bold);
        set(Reason, c, rep.reason);
        set(Error, c, rep.error ? rep.error->summary() : QString());
        set(Remedy, c, rep.error ? rep.error->remedy : QString());
        verdicts << QStringLiteral("%1: <b style='color:%2'>%3</b>")
                        .arg(r.label.toHtmlEscaped(), verdictColor(rep.verdict).name(),
                             rep.verdict.toUpper());
    }
    QString headline = tr("Run %1").arg(run.id);
    if (!verdicts.isEmpty())
        headline += QStringLiteral(" \u2014 ") + verdicts.join(QStringLiteral(", "));
    if (run.cancelled)
        headline += tr(" \u2014 <b>cancelled</b>, showing what was measured");
    if (run.results.isEmpty())
        headline += tr(": nothing was measured.");
    m_headline->setText(headline);
}

QString ColdStartSummary::text(RowId row, int target) const
{
    const QTableWidgetItem *item = m_table->item(row, target + 1);
    return item ? item->text() : QString();
}

} // namespace poolscope::ui
