// The main window's pages: every page is a tab, in the order the README gives, and the View menu
// reaches each with Ctrl+1, Ctrl+2, ... in tab order. One place for this, so a new page is added
// to the list below rather than to a copy of these lines in its own test.
#include "core/monitor/monitorsession.h"
#include "ui/charts/chartspage.h"
#include "ui/check/endpointcheckpage.h"
#include "ui/coldstart/coldstartpage.h"
#include "ui/events/eventlogpage.h"
#include "ui/loaddemo/loaddemopage.h"
#include "ui/mainwindow.h"
#include "ui/sessions/sessionspage.h"
#include "ui/sizing/sizingpage.h"

#include <QMenuBar>
#include <QTabWidget>
#include <QtTest>

#include <functional>

using namespace poolscope;
using namespace poolscope::ui;

class TestMainWindow : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void everyPageIsATabWithItsShortcut();
};

void TestMainWindow::everyPageIsATabWithItsShortcut()
{
    QCoreApplication::setOrganizationName(QStringLiteral("poolscope-test-mainwindow"));
    MonitorSession session;
    MainWindow window(&session);
    auto *tabs = window.findChild<QTabWidget *>();
    QVERIFY(tabs);

    struct Expected
    {
        const char *title;
        std::function<bool(QWidget *)> isPage;
    };
    const Expected expected[] = {
        { "Overview",
          [](QWidget *w) {
              return qobject_cast<ChartsPage *>(w) != nullptr;
          } },
        { "Sessions",
          [](QWidget *w) {
              return qobject_cast<SessionsPage *>(w) != nullptr;
          } },
        { "Event log",
          [](QWidget *w) {
              return qobject_cast<EventLogPage *>(w) != nullptr;
          } },
        { "Endpoint check",
          [](QWidget *w) {
              return qobject_cast<EndpointCheckPage *>(w) != nullptr;
          } },
        { "Sizing",
          [](QWidget *w) {
              return qobject_cast<SizingPage *>(w) != nullptr;
          } },
        { "Cold start",
          [](QWidget *w) {
              return qobject_cast<ColdStartPage *>(w) != nullptr;
          } },
        { "Load demo",
          [](QWidget *w) {
              return qobject_cast<LoadDemoPage *>(w) != nullptr;
          } },
    };
    constexpr int pages = int(std::size(expected));
    QCOMPARE(tabs->count(), pages);
    QVERIFY(pages <= 9); // Ctrl+1 ... Ctrl+9 only

    QMenu *view = nullptr;
    for (QAction *a : window.menuBar()->actions()) {
        if (a->text().remove(QLatin1Char('&')) == QStringLiteral("View"))
            view = a->menu();
    }
    QVERIFY(view);
    QCOMPARE(view->actions().size(), pages);

    for (int i = 0; i < pages; ++i) {
        const QString title = QLatin1String(expected[i].title);
        QCOMPARE(tabs->tabText(i).remove(QLatin1Char('&')), title);
        QVERIFY2(expected[i].isPage(tabs->widget(i)), qPrintable(title));
        QCOMPARE(view->actions().at(i)->shortcut(),
                 QKeySequence(Qt::CTRL | Qt::Key(Qt::Key_1 + i)));
    }
    // `poolscope --page NAME` names every tab, in order.
    const QStringList names = MainWindow::pageNames();
    QCOMPARE(names.size(), pages);
    for (int i = 0; i < pages; ++i) {
        QVERIFY(window.showPage(names.at(i)));
        QCOMPARE(tabs->currentIndex(), i);
        QCOMPARE(window.currentPageName(), names.at(i));
        QCOMPARE(window.diagnostics().value(QStringLiteral("page")).toString(), names.at(i));
    }
    QVERIFY(!window.showPage(QStringLiteral("no-such-page")));
    QCOMPARE(tabs->currentIndex(), pages - 1);

    // Triggering an action shows its page, whichever was current before.
    for (int i : { pages - 1, 0, 5, 3 }) {
        view->actions().at(i)->trigger();
        QCOMPARE(tabs->currentIndex(), i);
    }
}

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
