"""A film's cast, changed after it was made: a character's portrait replaced by the
user's own, saved as a new story version and rendered again (jobs/review.py).

The render lays the rows after the story out afresh and every stage goes
through the cache, so only the replaced portrait, the pictures of the scenes
that character is in, the segments that show them and the cut are made again.
The previous film's media stay the movie's until the new cut is done.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from ..errors import InvalidInput
from ..models import ArtifactRef, Story
from . import review
from .dispatch import add_event


def find_character(story: Story, who: str) -> int | None:
    """A character by id, or by name (any case)."""
    for i, ch in enumerate(story.characters):
        if who == ch.id or who.strip().lower() == ch.name.lower():
            return i
    return None


def set_portrait(session: Session, owner: str, movie_id: str, who: str, portrait: ArtifactRef,
                 *, render: bool = True) -> dict[str, Any] | None:
    """Give a character of the owner's film the user's portrait (and render the film again,
    unless it is awaiting review). None: no such film of theirs. JobStateError: it is being
    made, or has no story yet. InvalidInput: no such character."""
    try:
        movie = review._editable(session, movie_id, owner)  # locks the film: no render starts meanwhile
    except LookupError:  # no such film of theirs
        return None
    story = Story.model_validate(movie.story)
    i = find_character(story, who)
    if i is None:
        names = ", ".join(c.name for c in story.characters) or "nobody"
        raise InvalidInput(f"no character {who!r} in this film; its cast: {names}")
    chars = list(story.characters)
    chars[i] = chars[i].model_copy(update={"portrait": portrait})
    review.save_story(session, owner, movie_id, story.model_copy(update={"characters": chars}),
                      note=f"portrait of {chars[i].name}")
    add_event(session, movie_id, "portrait_replaced", stage="cast", scene=i, message=chars[i].name,
              data={"key": portrait.key})
    if render and movie.status != "awaiting_review":
        review.render(session, owner, movie_id)
    return {"character": chars[i].id, "name": chars[i].name, "portrait": portrait.model_dump()}
