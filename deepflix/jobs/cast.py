"""A film's cast, changed after it was made: a character's portrait replaced by the
user's own, then the film rendered again from its stored work.

The re-render recreates the rows after the story from the plan and lets every
stage run; each one whose request did not change is a cache hit, so only the
replaced portrait, the pictures of the scenes that character is in, their
segments and the cut are made again. The previous film's result (its media)
stays the movie's until the new cut is done.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from ..db.models import Stage
from ..film.plan import STORY
from ..models import ArtifactRef, Story
from . import state
from .dispatch import add_event, dispatch, lock_movie
from .service import JobStateError, get_movie

BUSY = ("queued", "running")


def find_character(story: Story, who: str) -> int | None:
    """A character by id, or by name (any case)."""
    for i, ch in enumerate(story.characters):
        if who == ch.id or who.strip().lower() == ch.name.lower():
            return i
    return None


def set_portrait(session: Session, owner: str, movie_id: str, who: str, portrait: ArtifactRef) -> dict[str, Any] | None:
    """Give a character of the owner's film the user's portrait and render the film again.
    None: no such film of theirs. JobStateError: it is being made, or has no story yet.
    InvalidInput: no such character."""
    from ..errors import InvalidInput

    movie = get_movie(session, owner, movie_id)
    if movie is None:
        return None
    movie = lock_movie(session, movie_id)
    assert movie is not None
    if movie.status in BUSY:
        raise JobStateError(f"the film is {movie.status}: replace a portrait once it has finished, or cancel it first")
    if not movie.story:
        raise JobStateError("the film has no story yet, so no cast")
    story = Story.model_validate(movie.story)
    i = find_character(story, who)
    if i is None:
        names = ", ".join(c.name for c in story.characters) or "nobody"
        raise InvalidInput(f"no character {who!r} in this film; its cast: {names}")
    chars = list(story.characters)
    chars[i] = chars[i].model_copy(update={"portrait": portrait})
    story = story.model_copy(update={"characters": chars})
    add_event(session, movie_id, "portrait_replaced", stage="cast", scene=i, message=chars[i].name,
              data={"key": portrait.key})
    rerender(session, movie_id, story.model_dump(mode="json"))
    return {"character": chars[i].id, "name": chars[i].name, "portrait": portrait.model_dump()}


def rerender(session: Session, movie_id: str, story: dict[str, Any]) -> None:
    """Render a finished (or failed, or cancelled) film again from a changed story: the rows
    after the story anew, all of them run, the unchanged ones come from the cache."""
    movie = lock_movie(session, movie_id)
    assert movie is not None
    session.execute(delete(Stage).where(Stage.movie_id == movie_id, Stage.name != STORY)
                    .execution_options(synchronize_session=False))
    session.expire(movie, ["stages"])
    movie.status, movie.error, movie.finished_at = "queued", None, None
    state.fan_out(session, movie, story)
    session.flush()
    state.advance(session, movie)
    add_event(session, movie_id, "movie_rerender")
    dispatch(session)
