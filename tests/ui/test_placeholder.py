"""The placeholder window already carries the not-a-medical-device banner."""

from gazal_desktop.safety import DISCLAIMER, DISCLAIMER_TITLE
from gazal_desktop.ui.placeholder import PlaceholderWindow


def test_placeholder_window_shows_the_banner(qtbot):
    w = PlaceholderWindow(DISCLAIMER_TITLE, DISCLAIMER)
    qtbot.addWidget(w)
    w.show()
    assert w.banner.isVisible()
    assert "not a medical device" in w.banner.text().lower()
