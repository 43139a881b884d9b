#pragma once

class QCustomPlot;
class QPalette;

namespace poolscope::ui {

// QCustomPlot paints a white background with black axes whatever the system theme: this takes
// background, axes (all four), grid, legend and text-element colours from a widget palette, so
// the charts follow light and dark themes. Series colours are left alone.
void applyPaletteToPlot(QCustomPlot *plot, const QPalette &palette);

} // namespace poolscope::ui
