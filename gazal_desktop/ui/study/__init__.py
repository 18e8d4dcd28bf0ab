"""The Study tab as a package: home (the builder and resumable blocks), player (one question at
a time, rendering core.quiz_session.QuizSession), review (the end of a block) and the view that
holds them."""

from gazal_desktop.ui.study.view import StudyView

__all__ = ["StudyView"]
